import { STEP_FUNCTIONS } from '../../lambdas/registry';
import { loadWorkflow, taskStates } from '../../local-runner/definition';
import { namedError, ok, run, runFailoverWithStubs, type Stub } from './stub-steps';

/** The failback run: trading is in us-east-1 (the failover's target), returning to us-west-2. */
const failbackRun = {
  ...run,
  runId: 'wf-test',
  sourceRegion: 'us-east-1',
  targetRegion: 'us-west-2',
  workflow: 'failback',
  failback: { warmupSeconds: 2, readinessTimeoutSeconds: 5 },
};

const failbackStubs: Record<string, Stub> = {
  ValidateFailbackRequest: () => ok({ run: failbackRun }),
  CheckReplicationCaughtUp: () => ok({ caughtUp: true, reasons: [], summary: 'caught up' }),
  WarmUpTarget: () => ok({ complete: true }),
  CutoverTraffic: () => ok({ changeId: 'C123', method: 'route53-weighted', alreadyDone: false }),
  EvaluateVerification: () => ok({ passed: true, sev1: false, findings: [] }),
  ResumeTrading: () =>
    ok({ resumedAt: '2026-11-27T00:01:00.000Z', heightenedMonitoringUntil: '2026-11-27T02:01:00.000Z' }),
  PostFailbackReview: () => ok({ replicationHealthy: true, findings: [] }),
};

const input = {
  trigger: 'cli',
  workflow: 'failback',
  mode: 'drill',
  sourceRegion: 'us-east-1',
  targetRegion: 'us-west-2',
  requestedBy: 'jest',
};

const runFailback = (
  stubs: Record<string, Stub> = {},
  options: Parameters<typeof runFailoverWithStubs>[1] = {},
) => runFailoverWithStubs(stubs, { input, ...options, workflow: 'failback', baseStubs: failbackStubs });

const fail = (name: string, message?: string) => () => {
  throw namedError(name, message);
};

const HAPPY_PATH = [
  'ValidateFailbackRequest',
  'AcquireLock',
  'OpenRunRecord',
  'NotifyDeclared',
  'FreezeDeployments',
  'RebuildTarget',
  'CheckReadiness',
  'WarmUpTarget',
  'CheckTargetHealth',
  'CaptureDataAtRisk',
  'QuiesceTrading',
  'WaitForDrain',
  'WaitForKafkaMirror',
  'PromoteKafka',
  'CutoverKafka',
  'WaitForKafkaDnsSync',
  'VerifyKafkaStage',
  'FenceOldPrimary',
  'ConfirmFinalLsn',
  'PromotePostgres',
  'CutoverPostgres',
  'WaitForPostgresDnsSync',
  'ReconcileLedger',
  'VerifyPostgresStage',
  'PromoteRedis',
  'CutoverWorkloads',
  'WaitForWorkloadsDnsSync',
  'AnnounceRegion',
  'VerifyWorkloadsStage',
  'RunSmokeHarness',
  'CheckConsumerLag',
  'EvaluateVerification',
  'RequestApproval',
  'RecheckBeforeResume',
  'ResumeTrading',
  'NotifyResumed',
  'ReprotectSource',
  'PostFailbackReview',
  'NotifyFailbackComplete',
  'WriteEvidenceBundle',
  'ReleaseLock',
];

describe('failback.asl.json under aws-local-stepfunctions with stub steps', () => {
  test('every Task state runs a registered Lambda step, has a timeout, retries Lambda service errors and catches', () => {
    const { definition, stepOfTask } = loadWorkflow('failback', 'us-west-2');
    for (const [name, state] of taskStates(definition)) {
      expect([name, STEP_FUNCTIONS[stepOfTask.get(name) as keyof typeof STEP_FUNCTIONS]]).not.toContainEqual(
        undefined,
      );
      expect([name, state.TimeoutSeconds]).not.toContainEqual(undefined);
      const retried = (state.Retry as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);
      expect(retried).toContain('Lambda.ServiceException');
      const insideParallel = !definition.States[name];
      const isLastResort = /^ReleaseLock/.test(name);
      if (!insideParallel && !isLastResort) expect([name, state.Catch]).not.toContainEqual(undefined);
    }
  });

  test('the steps a failover has are the same handlers, not copies: only the new actions are new steps', () => {
    const failback = new Set(loadWorkflow('failback', 'us-west-2').stepOfTask.values());
    const failover = new Set(loadWorkflow('failover', 'us-west-2').stepOfTask.values());
    const onlyInFailback = [...failback].filter((s) => !failover.has(s)).sort();
    expect(onlyInFailback).toEqual([
      'CheckReplicationCaughtUp',
      'ConfirmFinalLsn',
      'PostFailbackReview',
      'ReattachRedisReplica',
      'RebuildPostgresStandby',
      'ReverseKafkaMirroring',
      'ValidateFailbackRequest',
      'VerifySwitchoverStage',
      'WarmUpTarget',
    ]);
    for (const shared of [
      'PromotePostgres',
      'PromoteKafka',
      'FenceOldPrimary',
      'CutoverTraffic',
      'RequestApproval',
    ])
      expect(failback.has(shared)).toBe(true);
  });

  test('the happy path rebuilds, checks readiness, warms up, switches over staggered, waits for approval, resumes and reviews', async () => {
    const result = await runFailback();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited.filter((s) => HAPPY_PATH.includes(s))).toEqual(HAPPY_PATH);
    // Rebuild of the target, then re-protection with the regions swapped (the source made a replica of the target).
    expect(
      result.called('RebuildPostgresStandby').map((e) => (e.run as typeof failbackRun).targetRegion),
    ).toEqual(['us-west-2', 'us-east-1']);
    for (const step of ['ReattachRedisReplica', 'ReverseKafkaMirroring'])
      expect(result.called(step).map((e) => (e.run as typeof failbackRun).sourceRegion)).toEqual([
        'us-east-1',
        'us-west-2',
      ]);
    expect(result.called('RebuildPostgresStandby')[1]!.run).toMatchObject({
      runId: 'wf-test',
      workflow: 'failback',
      failback: failbackRun.failback,
    });
    expect(result.called('Notify').map((e) => e.template)).toEqual([
      'failback-declared',
      'trading-resumed',
      'failback-complete',
    ]);
    expect(result.called('WriteEvidenceBundle')[0]).toMatchObject({ outcome: 'resumed' });
    expect(result.called('ReleaseLock')).toHaveLength(1);
    expect(result.called('RecordFailure')).toHaveLength(0);
  });

  test('the switchover is staggered Kafka → PostgreSQL → workloads, each stage verified before the next', async () => {
    const result = await runFailback();
    const order = result.calls.map(([s, e]) =>
      s === 'CutoverTraffic'
        ? `cutover:${((e.endpoints as string[] | undefined) ?? ['all']).join(',')}`
        : s === 'VerifySwitchoverStage'
          ? `verify:${String(e.stage)}`
          : s,
    );
    const stagger = order.filter((s) =>
      /^(cutover:|verify:|PromoteKafka|FenceOldPrimary|ConfirmFinalLsn|PromotePostgres|PromoteRedis|QuiesceTrading)/.test(
        s,
      ),
    );
    expect(stagger).toEqual([
      'QuiesceTrading',
      'PromoteKafka',
      'cutover:kafkaBootstrap',
      'verify:kafka',
      'FenceOldPrimary',
      'ConfirmFinalLsn',
      'PromotePostgres',
      'cutover:postgresWriter',
      'verify:postgres',
      'PromoteRedis',
      'cutover:all',
      'verify:workloads',
    ]);
    expect(result.called('CheckReplicationCaughtUp').map((e) => e.scope)).toEqual([
      'readiness',
      'kafka-drained',
    ]);
    expect(result.called('PromoteRedis')[0]).toMatchObject({ hydrate: false });
    expect(result.called('WaitForDnsSync')).toHaveLength(3);
    const approval = result.called('RequestApproval')[0]!;
    expect(approval.evidence).toMatchObject({ verification: { sev1: false }, readiness: { caughtUp: true } });
  });

  test('the warm-up phase runs as many invocations as it needs, from one start time', async () => {
    const result = await runFailback({
      WarmUpTarget: (_e, call) => ok({ complete: call >= 3 }),
    });
    expect(result.status).toBe('SUCCEEDED');
    const calls = result.called('WarmUpTarget');
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.startedAt)).size).toBe(1);
    expect(typeof calls[0]!.startedAt).toBe('string');
  });

  test.each([
    ['InvalidInputError', 'InvalidInputError'],
    ['LockHeldError', 'LockHeldError'],
    ['TargetUnhealthyError', 'TargetUnhealthyError'],
    ['NoFailoverToReturnFromError', 'NoFailoverToReturnFromError'],
    ['Error', 'FailbackRequestNotValidated'],
  ])(
    'a request refused with %s fails in the first state, with the reason, before any lock or change',
    async (error, failedWith) => {
      const result = await runFailback({
        ValidateFailbackRequest: fail(error, `failback refused: the reason (${error})`),
      });
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe(failedWith);
      expect(result.cause).toContain(`the reason (${error})`);
      expect(result.calls.map(([s]) => s)).toEqual(['ValidateFailbackRequest']);
    },
  );

  test('replication not caught up: the failback is refused with the reason, nothing switched, the lock released', async () => {
    const result = await runFailback({
      CheckReplicationCaughtUp: () =>
        ok({
          caughtUp: false,
          reasons: ['PostgreSQL in us-west-2 has not replayed up to 0/3000000'],
          summary:
            'failback refused, replication us-east-1 → us-west-2 not caught up after 5 s: PostgreSQL behind',
        }),
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ReplicationNotCaughtUp');
    expect(result.cause).toContain('not caught up');
    expect(result.called('Notify').map((e) => e.template)).toEqual(['failback-declared', 'failback-refused']);
    expect(result.called('Notify')[1]!.details).toEqual({
      reasons: ['PostgreSQL in us-west-2 has not replayed up to 0/3000000'],
    });
    expect(result.called('RecordFailure')[0]).toMatchObject({ outcome: 'refused-not-caught-up' });
    expect(result.called('ReleaseLock')).toHaveLength(1);
    for (const step of [
      'WarmUpTarget',
      'QuiesceTrading',
      'FenceOldPrimary',
      'PromotePostgres',
      'CutoverTraffic',
    ])
      expect(result.called(step)).toHaveLength(0);
  });

  test('a standby that has not replayed the final LSN stops the switchover before promotion: trading stays frozen', async () => {
    const result = await runFailback({
      ConfirmFinalLsn: fail('FinalLsnMismatchError', 'replayed 0/10 but the fenced primary ended at 0/20'),
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('FailbackFailed');
    expect(result.failedState).toBe('ConfirmFinalLsn');
    expect(result.called('PromotePostgres')).toHaveLength(0);
    expect(result.called('ResumeTrading')).toHaveLength(0);
    expect(result.called('RecordFailure')[0]).toMatchObject({
      outcome: 'failed',
      failure: { Error: 'FinalLsnMismatchError' },
    });
    expect(result.called('Notify').map((e) => e.template)).toContain('run-failed');
    expect(result.called('ReleaseLock')).toHaveLength(1);
  });

  test('a rebuild that outlasts one invocation (an RDS replica being created) is resumed by retries', async () => {
    const result = await runFailback({
      RebuildPostgresStandby: (_e, call) => {
        if (call < 4) throw namedError('NotReadyYetError', 'replica creating');
        return ok({ rebuilt: true });
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.called('RebuildPostgresStandby')).toHaveLength(5); // 4 for the rebuild, 1 re-protecting
  });

  test.each(['RebuildPostgresStandby', 'ReattachRedisReplica', 'ReverseKafkaMirroring'])(
    'a rebuild step failing (%s) fails the rebuild onto the failure path before anything switches',
    async (step) => {
      const result = await runFailback({ [step]: fail('Error', 'pg_basebackup failed') });
      expect(result.status).toBe('FAILED');
      expect(result.failedState).toBe('RebuildTarget');
      expect(result.called('QuiesceTrading')).toHaveLength(0);
      expect(result.called('RecordFailure')).toHaveLength(1);
    },
  );

  test.each([
    ['WarmUpTarget', 'WarmUpFailedError'],
    ['WaitForKafkaMirror', 'NotReadyYetError'],
    ['VerifyKafkaStage', 'VerificationFailedError'],
    ['VerifyPostgresStage', 'VerificationFailedError'],
  ])(
    '%s failing with %s goes to the failure path: recorded, notified, lock released',
    async (state, error) => {
      const byState: Record<string, [string, (e: Record<string, unknown>) => boolean]> = {
        WarmUpTarget: ['WarmUpTarget', () => true],
        WaitForKafkaMirror: ['CheckReplicationCaughtUp', (e) => e.scope === 'kafka-drained'],
        VerifyKafkaStage: ['VerifySwitchoverStage', (e) => e.stage === 'kafka'],
        VerifyPostgresStage: ['VerifySwitchoverStage', (e) => e.stage === 'postgres'],
      };
      const [step, matches] = byState[state]!;
      const base = { ...failbackStubs }[step];
      const result = await runFailback({
        [step]: (e, call) => {
          if (matches(e)) throw namedError(error);
          return base ? base(e, call) : ok();
        },
      });
      expect(result.status).toBe('FAILED');
      expect(result.failedState).toBe(state);
      expect(result.called('RecordFailure')[0]).toMatchObject({ failure: { Error: error } });
      expect(result.called('ResumeTrading')).toHaveLength(0);
      expect(result.called('ReleaseLock')).toHaveLength(1);
    },
  );

  test('a SEV-1 verification finding blocks resumption: no approval is requested', async () => {
    const result = await runFailback({
      EvaluateVerification: () => ok({ passed: false, sev1: true, findings: [{ check: 'ledger' }] }),
    });
    expect(result.error).toBe('VerificationFailedError');
    expect(result.called('RequestApproval')).toHaveLength(0);
    expect(result.called('RecordFailure')[0]).toMatchObject({ outcome: 'verification-failed' });
    expect(result.called('ReleaseLock')).toHaveLength(1);
  });

  test('a rejected approval leaves trading frozen; a missing one times out', async () => {
    const rejected = await runFailback(
      {},
      { answer: (b, t) => b.sendTaskFailure(t, 'ApprovalRejected', 'no') },
    );
    expect(rejected.error).toBe('ApprovalRejected');
    expect(rejected.called('ResumeTrading')).toHaveLength(0);
    expect(rejected.called('RecordFailure')[0]).toMatchObject({ outcome: 'rejected' });
    const timedOut = await runFailback({}, { answer: () => {}, approvalTimeouts: { timeoutSeconds: 1 } });
    expect(timedOut.error).toBe('ApprovalTimedOut');
    expect(timedOut.called('ResumeTrading')).toHaveLength(0);
  });

  test('a dry run checks everything, skips the approval and re-protection, and archives its evidence', async () => {
    const dry = { ...failbackRun, mode: 'dryRun', dryRun: true };
    // Nothing was rebuilt or switched: readiness and verification findings are reported, not a verdict.
    const result = await runFailback({
      ValidateFailbackRequest: () => ok({ run: dry }),
      CheckReplicationCaughtUp: (e) =>
        e.scope === 'readiness'
          ? ok({ caughtUp: false, reasons: ['not a streaming standby'], summary: 'not caught up' })
          : ok({ caughtUp: true }),
      EvaluateVerification: () => ok({ passed: false, sev1: true, findings: [{ check: 'ledger' }] }),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.called('RequestApproval')).toHaveLength(0);
    expect(result.called('ResumeTrading')).toHaveLength(0);
    expect(result.called('RebuildPostgresStandby')).toHaveLength(1);
    expect(result.called('WriteEvidenceBundle')[0]).toMatchObject({ outcome: 'dry-run-complete' });
    expect(result.called('ReleaseLock')).toHaveLength(1);
    expect(result.called('RecordFailure')).toHaveLength(0);
    for (const step of ['QuiesceTrading', 'FenceOldPrimary', 'PromotePostgres', 'CutoverTraffic'])
      expect(result.called(step)[0]).toMatchObject({ run: { dryRun: true } });
  });

  test('after trading resumed, a failed re-protection or review is reported, not rolled back', async () => {
    const result = await runFailback({
      ReverseKafkaMirroring: (e) => {
        if ((e.run as typeof failbackRun).sourceRegion === 'us-west-2') throw namedError('TransientError');
        return ok();
      },
      PostFailbackReview: fail('Error', 'review failed'),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.called('ResumeTrading')).toHaveLength(1);
    expect(result.called('RecordFailure')).toHaveLength(0);
    expect(result.called('Notify').at(-1)).toMatchObject({
      template: 'failback-complete',
      details: { review: { Error: 'Error' } },
    });
    expect(result.called('WriteEvidenceBundle')).toHaveLength(1);
    expect(result.called('ReleaseLock')).toHaveLength(1);
  });

  test('a re-drive from a state of the switchover runs only that state and those after it', async () => {
    const first = await runFailback({ PromotePostgres: fail('Error', 'crashed mid-way') });
    expect(first.failedState).toBe('PromotePostgres');
    const redrive = await runFailback(
      {},
      { redrive: { fromState: 'PromotePostgres', input: first.stateInputs.PromotePostgres } },
    );
    expect(redrive.status).toBe('SUCCEEDED');
    expect(redrive.visited[0]).toBe('PromotePostgres');
    for (const step of ['ValidateFailbackRequest', 'QuiesceTrading', 'FenceOldPrimary', 'PromoteKafka'])
      expect(redrive.called(step)).toHaveLength(0);
    expect(redrive.called('PromotePostgres')).toHaveLength(1);
  });
});
