import {
  buildEvidenceReport,
  deriveOutcome,
  EvidenceReportInputError,
  unionLengthMs,
  type BuildEvidenceReportInput,
  type OutcomeFacts,
} from '../../../report/build-report';
import { EvidenceReportSchema, reportDigest, type EvidenceReport } from '../../../report/model';
import { at, sampleInput, sampleRun } from './sample-input';

const objective = (r: EvidenceReport, store: string, kind: 'RPO' | 'RTO') => {
  const o = r.objectives.find((x) => x.store === store && x.kind === kind);
  if (!o) throw new Error(`no ${store} ${kind} row`);
  return o;
};

/** The sample drill, but trading resumes `resumedMs` after the declaration. */
function resumedAfter(
  resumedMs: number,
  overrides: Partial<BuildEvidenceReportInput> = {},
): BuildEvidenceReportInput {
  return sampleInput({
    trading: { pausedAt: at(1122), resumedAt: at(resumedMs) },
    execution: { status: 'SUCCEEDED', finishedAt: at(resumedMs + 200) },
    generatedAt: at(resumedMs + 200),
    ...overrides,
  });
}

describe('buildEvidenceReport: RTO', () => {
  it('measures declaration → trading resumed, and subtracts the approval state’s wait', () => {
    const r = buildEvidenceReport(sampleInput());
    expect(r.rto.clockStart).toBe('declaration');
    expect(r.rto.startedAt).toBe('2026-03-12T14:02:12.000Z');
    expect(r.rto.seconds).toBe(54.65); // resumed at +54 650 ms
    expect(r.rto.approvalWaitSeconds).toBe(41.318); // AwaitApproval 12 892 → 54 210 ms
    expect(r.rto.excludingApprovalSeconds).toBe(13.332);
    expect(r.rto.tradingDowntimeSeconds).toBe(53.528); // paused at +1 122 ms
    expect(r.rto.elapsedSeconds).toBe(54.87);
  });

  it('starts the clock at the trigger when the alarm fired before the declaration', () => {
    const r = buildEvidenceReport(sampleInput({ triggeredAt: at(-2500) }));
    expect(r.rto.clockStart).toBe('trigger');
    expect(r.rto.seconds).toBe(57.15);
    expect(r.rto.excludingApprovalSeconds).toBe(15.832);
    expect(r.trigger.triggeredAt).toBe(at(-2500));
  });

  it('ignores a trigger time after the declaration (clock skew) rather than shortening the RTO', () => {
    const r = buildEvidenceReport(sampleInput({ triggeredAt: at(300) }));
    expect(r.rto.clockStart).toBe('declaration');
    expect(r.rto.seconds).toBe(54.65);
  });

  it('counts overlapping approval stays once', () => {
    expect(
      unionLengthMs([
        [0, 10],
        [5, 20],
        [30, 31],
        [31, 35],
      ]),
    ).toBe(25);
    const input = sampleInput();
    input.timeline.push({
      state: 'AwaitApprovalHeartbeat',
      kind: 'approval',
      enteredAt: at(20_000),
      exitedAt: at(30_000),
      status: 'succeeded',
    });
    expect(buildEvidenceReport(input).rto.approvalWaitSeconds).toBe(41.318);
  });

  it('falls back to the approval request → decision span when the timeline has no approval state', () => {
    const input = sampleInput();
    input.timeline = input.timeline.filter((t) => t.kind !== 'approval');
    const r = buildEvidenceReport(input);
    expect(r.rto.approvalWaitSeconds).toBe(41.318);
    expect(r.rto.excludingApprovalSeconds).toBe(13.332);
  });

  it('compares with each store’s RTO objective inclusively, to the millisecond', () => {
    const atBoundary = buildEvidenceReport(resumedAfter(300_000));
    expect(objective(atBoundary, 'redis', 'RTO')).toMatchObject({
      measured: 300,
      objectiveSeconds: 300,
      met: true,
      result: 'met',
    });

    const justOver = buildEvidenceReport(resumedAfter(300_001));
    expect(objective(justOver, 'redis', 'RTO')).toMatchObject({
      measured: 300.001,
      met: false,
      result: 'not-met',
    });
    expect(objective(justOver, 'kafka', 'RTO')).toMatchObject({ objectiveSeconds: 480, met: true });
    expect(objective(justOver, 'postgres', 'RTO')).toMatchObject({ objectiveSeconds: 600, met: true });
    expect(justOver.verification.findings).toContainEqual(
      expect.objectContaining({ severity: 'SEV-1', source: 'objectives.redis.RTO' }),
    );
    expect(justOver.verification.sev1Count).toBe(1);
  });

  it('does not claim an RTO for a run in which trading never resumed, unless the objective had already passed', () => {
    const rejected = buildEvidenceReport(
      sampleInput({
        trading: { pausedAt: at(1122), resumedAt: null },
        approval: {
          decision: 'rejected',
          requestedAt: at(12892),
          decidedAt: at(54210),
          decidedBy: 'm.li',
          comment: 'Ledger looks wrong',
          channel: 'terminal',
        },
        execution: {
          status: 'FAILED',
          finishedAt: at(54870),
          error: { name: 'ApprovalRejected', state: 'AwaitApproval' },
        },
      }),
    );
    expect(rejected.rto.seconds).toBeNull();
    expect(rejected.rto.excludingApprovalSeconds).toBeNull();
    expect(rejected.rto.elapsedSeconds).toBe(54.87);
    expect(objective(rejected, 'redis', 'RTO')).toMatchObject({
      measured: null,
      met: false,
      result: 'not-measured',
    });

    const frozenTooLong = buildEvidenceReport(
      sampleInput({
        trading: { pausedAt: at(1122), resumedAt: null },
        approval: {
          decision: 'timeout',
          requestedAt: at(12892),
          decidedAt: null,
          decidedBy: null,
          channel: 'task-token',
        },
        execution: {
          status: 'FAILED',
          finishedAt: at(400_000),
          error: { name: 'States.Timeout', state: 'AwaitApproval' },
        },
      }),
    );
    expect(objective(frozenTooLong, 'redis', 'RTO')).toMatchObject({
      measured: 400,
      met: false,
      result: 'not-met',
    });
    expect(objective(frozenTooLong, 'redis', 'RTO').note).toMatch(/lower bound/);
    expect(objective(frozenTooLong, 'postgres', 'RTO')).toMatchObject({ result: 'not-measured' });
  });
});

describe('buildEvidenceReport: RPO', () => {
  it('reports the sample drill’s figures and takes the worst of lag and reported risk as the measured RPO', () => {
    const r = buildEvidenceReport(sampleInput());
    expect(r.rpo.postgres).toMatchObject({
      replication: 'asynchronous',
      lagAtDeclaration: { bytes: 18432, seconds: 0.412 },
      atRiskReported: { bytes: 0, seconds: 0, writes: 0 },
      ackedWritesLost: 0,
      lossWithinReportedAtRisk: true,
      measuredSeconds: 0.412,
    });
    expect(r.rpo.kafka).toMatchObject({
      lagAtDeclarationSeconds: 1.84,
      skipped: 0,
      duplicates: 50,
      maxDuplicatesPerPartition: 17,
      offsetLagMax: 100,
      duplicatesWithinBound: true,
      measuredSeconds: 1.84,
    });
    expect(Object.keys(r.rpo.kafka.lagAtDeclarationByTopic)).toEqual(['fills', 'orders', 'risk_events']);
    expect(r.rpo.redis.measuredSeconds).toBe(0.1);
    expect(r.objectives.filter((o) => o.kind === 'RPO').map((o) => [o.store, o.result])).toEqual([
      ['postgres', 'met'],
      ['kafka', 'met'],
      ['redis', 'met'],
    ]);
  });

  it('compares RPO inclusively at the boundary', () => {
    const base = sampleInput();
    const withLag = (seconds: number) =>
      buildEvidenceReport({
        ...base,
        measured: {
          ...base.measured,
          postgres: { ...base.measured.postgres, lagAtDeclaration: { bytes: 1, seconds } },
        },
      });
    expect(objective(withLag(60), 'postgres', 'RPO')).toMatchObject({
      measured: 60,
      met: true,
      result: 'met',
    });
    expect(objective(withLag(60.001), 'postgres', 'RPO')).toMatchObject({
      measured: 60.001,
      met: false,
      result: 'not-met',
    });
  });

  it('says "not measured" instead of inventing a figure, and zero loss reconciled counts as 0 s', () => {
    const base = sampleInput();
    const noLag = {
      ...base.measured.postgres,
      lagAtDeclaration: { bytes: null, seconds: null },
      atRiskReported: null,
    };
    const unknown = buildEvidenceReport({
      ...base,
      measured: { ...base.measured, postgres: { ...noLag, ackedWritesLost: null } },
    });
    expect(objective(unknown, 'postgres', 'RPO')).toMatchObject({
      measured: null,
      met: false,
      result: 'not-measured',
    });
    const reconciled = buildEvidenceReport({
      ...base,
      measured: { ...base.measured, postgres: { ...noLag, ackedWritesLost: 0 } },
    });
    expect(objective(reconciled, 'postgres', 'RPO')).toMatchObject({ measured: 0, result: 'met' });
  });

  it('flags loss beyond what the workflow reported at risk, skipped Kafka messages and duplicates above offset.lag.max', () => {
    const base = sampleInput();
    const r = buildEvidenceReport({
      ...base,
      measured: {
        ...base.measured,
        postgres: {
          ...base.measured.postgres,
          atRiskReported: { bytes: 800, seconds: 0.2, writes: 2 },
          ackedWritesLost: 3,
          lossWindowSeconds: 0.35,
        },
        kafka: {
          ...base.measured.kafka,
          skipped: 4,
          duplicatesByPartition: { 'orders:0': 101, 'orders:1': 3 },
        },
      },
    });
    expect(r.rpo.postgres.lossWithinReportedAtRisk).toBe(false);
    expect(r.rpo.postgres.measuredSeconds).toBe(0.412); // the loss window (0.35 s) is shorter than the lag
    expect(r.rpo.kafka).toMatchObject({
      duplicates: 104,
      maxDuplicatesPerPartition: 101,
      duplicatesWithinBound: false,
    });
    const sources = r.verification.findings.map((f) => `${f.severity} ${f.source}`);
    expect(sources).toEqual(
      expect.arrayContaining([
        'SEV-1 rpo.postgres.ackedWritesLost',
        'SEV-1 rpo.kafka.skipped',
        'warning rpo.kafka.duplicatesByPartition',
      ]),
    );
  });

  it('warns when the configured objectives are not the runbook’s', () => {
    const r = buildEvidenceReport(
      sampleInput({
        objectives: {
          postgres: { rpoSeconds: 120, rtoSeconds: 600 },
          kafka: { rpoSeconds: 30, rtoSeconds: 480 },
          redis: { rpoSeconds: 300, rtoSeconds: 300 },
        },
      }),
    );
    expect(objective(r, 'postgres', 'RPO').objectiveSeconds).toBe(120);
    expect(r.verification.findings).toContainEqual(
      expect.objectContaining({ severity: 'warning', source: 'objectives.postgres.RPO' }),
    );
  });
});

describe('outcome', () => {
  const facts = (f: Partial<OutcomeFacts>): OutcomeFacts => ({
    mode: 'drill',
    executionStatus: 'SUCCEEDED',
    errorName: null,
    errorInApprovalState: false,
    tradingResumed: false,
    approvalDecision: null,
    rpoGateStopped: false,
    ...f,
  });

  it.each<[Partial<OutcomeFacts>, string]>([
    [{ tradingResumed: true, approvalDecision: 'approved' }, 'resumed'],
    [{ tradingResumed: true, executionStatus: 'FAILED', errorName: 'TransientError' }, 'resumed'],
    [{ rpoGateStopped: true, executionStatus: 'FAILED' }, 'stopped-rpo-gate'],
    [{ approvalDecision: 'rejected', executionStatus: 'FAILED', errorName: 'ApprovalRejected' }, 'rejected'],
    [{ approvalDecision: 'timeout', executionStatus: 'FAILED' }, 'approval-timeout'],
    [
      { executionStatus: 'FAILED', errorName: 'States.HeartbeatTimeout', errorInApprovalState: true },
      'approval-timeout',
    ],
    [{ executionStatus: 'FAILED', errorName: 'States.Timeout', errorInApprovalState: false }, 'failed'],
    [{ executionStatus: 'FAILED', errorName: 'InvalidInputError' }, 'invalid-input'],
    [{ executionStatus: 'FAILED', errorName: 'LockHeldError' }, 'refused-lock-held'],
    [{ executionStatus: 'FAILED', errorName: 'VerificationFailedError' }, 'verification-failed'],
    [{ executionStatus: 'ABORTED' }, 'aborted'],
    [{ mode: 'dryRun' }, 'dry-run-complete'],
    [{ mode: 'dryRun', executionStatus: 'FAILED', errorName: 'TargetUnhealthyError' }, 'failed'],
    [{ executionStatus: 'FAILED', errorName: 'PromotionFailedError' }, 'failed'],
    [{ executionStatus: 'SUCCEEDED' }, 'failed'], // a drill that "succeeded" without resuming trading is not a success
  ])('%j → %s', (f, expected) => {
    expect(deriveOutcome(facts(f))).toBe(expected);
  });

  it('derives the outcome, the reason and the decisions from a rejected approval', () => {
    const r = buildEvidenceReport(
      sampleInput({
        trading: { pausedAt: at(1122), resumedAt: null },
        approval: {
          decision: 'rejected',
          requestedAt: at(12892),
          decidedAt: at(54210),
          decidedBy: 'm.li',
          comment: 'Ledger looks wrong',
          channel: 'task-token',
        },
        execution: {
          status: 'FAILED',
          finishedAt: at(54870),
          error: { name: 'ApprovalRejected', cause: 'rejected by m.li', state: 'AwaitApproval' },
        },
      }),
    );
    expect(r.outcome).toBe('rejected');
    expect(r.tradingAtEnd).toBe('frozen');
    expect(r.outcomeReason).toMatch(/rejected by m\.li .*trading stays frozen/);
    expect(r.decisions).toEqual([
      {
        kind: 'approval',
        decision: 'rejected',
        by: 'm.li',
        at: at(54210),
        requestedAt: at(12892),
        reason: 'Ledger looks wrong',
        channel: 'task-token',
        unattended: false,
      },
    ]);
  });

  it('records an allowDataLoss decision as invoked when it let promotion pass the RPO gate', () => {
    const run = sampleRun({
      allowDataLoss: { approvedBy: 'cfo-delegate', reason: 'Primary region destroyed; accept the loss' },
    });
    const r = buildEvidenceReport(
      sampleInput({
        run,
        rpoGate: {
          evaluated: true,
          stopped: false,
          exceeded: [{ store: 'postgres', atRiskSeconds: 92, objectiveSeconds: 60 }],
        },
      }),
    );
    expect(r.decisions[0]).toMatchObject({
      kind: 'allowDataLoss',
      decision: 'invoked',
      by: 'cfo-delegate',
      at: run.declaredAt,
      channel: 'execution-input',
    });
    expect(r.verification.findings).toContainEqual(
      expect.objectContaining({ severity: 'warning', source: 'decisions.allowDataLoss' }),
    );
  });

  it('names the stores that stopped the run at the RPO gate', () => {
    const r = buildEvidenceReport(
      sampleInput({
        trading: { pausedAt: at(1122), resumedAt: null },
        approval: null,
        rpoGate: {
          evaluated: true,
          stopped: true,
          exceeded: [{ store: 'postgres', atRiskSeconds: 92.4, objectiveSeconds: 60 }],
        },
        execution: {
          status: 'FAILED',
          finishedAt: at(2000),
          error: { name: 'RpoObjectiveExceeded', state: 'RpoGate' },
        },
        timeline: sampleInput()
          .timeline.filter((t) => Date.parse(t.enteredAt) < Date.parse(at(2000)))
          .map((t) => ({ ...t, exitedAt: t.exitedAt && t.exitedAt > at(2000) ? at(2000) : t.exitedAt })),
      }),
    );
    expect(r.outcome).toBe('stopped-rpo-gate');
    expect(r.outcomeReason).toContain('postgres 92.4 s > 60 s');
  });

  it('reports a dry run as complete, with no RTO to claim', () => {
    const r = buildEvidenceReport(
      sampleInput({
        run: sampleRun({ mode: 'dryRun', dryRun: true }),
        trading: { pausedAt: null, resumedAt: null },
        approval: null,
      }),
    );
    expect(r.outcome).toBe('dry-run-complete');
    expect(r.dryRun).toBe(true);
    expect(r.tradingAtEnd).toBe('not-paused');
    expect(objective(r, 'postgres', 'RTO')).toMatchObject({ result: 'not-measured', met: false });
    expect(objective(r, 'postgres', 'RTO').note).toMatch(/not paused/);
  });
});

describe('buildEvidenceReport: timeline, evidence and determinism', () => {
  it('turns every state stay into one timeline entry, in start order, with the evidence’s action', () => {
    const input = sampleInput();
    const r = buildEvidenceReport(input);
    expect(r.timeline).toHaveLength(input.timeline.length);
    const starts = r.timeline.map((t) => Date.parse(t.start));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    const retried = r.timeline.find((t) => t.state === 'PromotePostgres' && t.attempt === 1);
    expect(retried).toMatchObject({
      status: 'retried',
      action: null,
      durationMs: 1006,
      error: { name: 'NotReadyYetError' },
    });
    expect(r.timeline.find((t) => t.state === 'PromotePostgres' && t.attempt === 2)).toMatchObject({
      status: 'succeeded',
      action: 'changed',
    });
    expect(r.timeline.find((t) => t.state === 'CaptureDataAtRisk')?.action).toBe('observed');
    expect(r.steps).toHaveLength(input.evidence.length);
  });

  it('closes a state still running when the execution ended at the end of the run', () => {
    const input = sampleInput({
      trading: { pausedAt: at(1122), resumedAt: null },
      approval: null,
      execution: { status: 'ABORTED', finishedAt: at(20_000) },
    });
    input.timeline = input.timeline.filter((t) => Date.parse(t.enteredAt) < Date.parse(at(13_000)));
    const last = input.timeline[input.timeline.length - 1];
    if (last) last.exitedAt = null;
    const r = buildEvidenceReport(input);
    expect(r.outcome).toBe('aborted');
    expect(r.timeline[r.timeline.length - 1]).toMatchObject({ end: at(20_000) });
  });

  it('is deterministic: the same input gives the same report and integrity hash', () => {
    const a = buildEvidenceReport(sampleInput());
    const b = buildEvidenceReport(sampleInput());
    expect(b).toEqual(a);
    expect(a.integrity.sha256).toBe(reportDigest(a));
    expect(a.integrity.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(EvidenceReportSchema.safeParse(a).success).toBe(true);
  });

  it('rejects contradictory input, naming the field', () => {
    expect(() =>
      buildEvidenceReport(sampleInput({ trading: { pausedAt: at(1122), resumedAt: at(-5) } })),
    ).toThrow(EvidenceReportInputError);
    expect(() =>
      buildEvidenceReport(sampleInput({ trading: { pausedAt: at(1122), resumedAt: 'yesterday' } })),
    ).toThrow(/trading\.resumedAt/);
    const input = sampleInput();
    (input.timeline[3] as { exitedAt: string }).exitedAt = at(-1);
    expect(() => buildEvidenceReport(input)).toThrow(/timeline\[3\]\.exitedAt/);
  });
});
