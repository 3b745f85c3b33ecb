import type { StepEvidence } from '../lambdas/shared/evidence';
import type { LedgerFinding } from '../lambdas/shared/ledger/compare-aggregates';
import type { DataAtRisk } from '../lambdas/shared/measure/data-at-risk';
import type { Run } from '../lambdas/shared/run';
import type { LocalExecutionResult, TimelineEntry } from '../local-runner/run-workflow';
import type { BuildEvidenceReportInput, TimelineEventInput } from '../report/build-report';
import type { DrillRun } from './run-drill';

type StepsState = Record<string, { evidence?: StepEvidence; result?: Record<string, unknown> } | undefined>;

const RUNBOOK_STEP_OF_STATE: [RegExp, number][] = [
  [/^(Initialize|ValidateInput|Declared|AcquireLock|OpenRunRecord|NotifyDeclared|FreezeDeployments)$/, 1],
  [/^(CheckTargetHealth|CaptureDataAtRisk|QuiesceTrading|WaitForDrain|EvaluateRpoGate|RpoGate)$/, 2],
  [/^(FenceOldPrimary|PromoteStores|Promote(Postgres|Kafka|Redis))$/, 3],
  [/^(CutoverTraffic|WaitForDnsSync|AnnounceRegion)$/, 4],
  [/^(RunSmokeHarness|ReconcileLedger|CheckConsumerLag|EvaluateVerification|VerificationGate)$/, 5],
  [/^(RequestApproval|RecheckBeforeResume|ResumeTrading|NotifyResumed|WriteEvidenceBundle|ReleaseLock)$/, 6],
];

function runbookStep(state: string): number | null {
  return RUNBOOK_STEP_OF_STATE.find(([pattern]) => pattern.test(state))?.[1] ?? null;
}

/** The accumulated `$.steps` and `$.run` as the last state to see them had them. */
function lastState(executions: LocalExecutionResult[]): { run: Run | undefined; steps: StepsState } {
  let run: Run | undefined;
  let steps: StepsState = {};
  for (const execution of executions) {
    const output = execution.output as { run?: Run; steps?: StepsState } | undefined;
    for (const input of [...Object.values(execution.stateInputs), output]) {
      const i = input as { run?: Run; steps?: StepsState } | undefined;
      if (i?.run) run = i.run;
      if (i?.steps && Object.keys(i.steps).length >= Object.keys(steps).length) steps = i.steps;
    }
    if (output?.steps) steps = output.steps;
  }
  return { run, steps };
}

function timelineOf(
  executions: LocalExecutionResult[],
  invocationsMs: Map<string, number[]>,
): TimelineEventInput[] {
  const attempts = new Map<string, number>();
  const entries: TimelineEventInput[] = [];
  for (const execution of executions) {
    for (const entry of execution.timeline as TimelineEntry[]) {
      const attempt = (attempts.get(entry.state) ?? 0) + 1;
      attempts.set(entry.state, attempt);
      const serverMs = invocationsMs.get(entry.state)?.[attempt - 1];
      entries.push({
        state: entry.state,
        ...(entry.step ? { step: entry.step } : {}),
        kind:
          entry.state === 'RequestApproval'
            ? 'approval'
            : entry.type === 'Parallel'
              ? 'parallel'
              : entry.type === 'Choice'
                ? 'choice'
                : entry.type === 'Pass'
                  ? 'pass'
                  : entry.type === 'Wait'
                    ? 'wait'
                    : 'task',
        runbookStep: runbookStep(entry.state),
        attempt,
        enteredAt: new Date(entry.enteredAt).toISOString(),
        exitedAt: entry.exitedAt ? new Date(entry.exitedAt).toISOString() : null,
        status:
          entry.status === 'running' ? 'failed' : entry.status === 'retried' ? 'succeeded' : entry.status,
        serverMs: serverMs ?? null,
        error: entry.error ? { name: entry.error, cause: entry.cause ?? null } : null,
      });
    }
  }
  return entries;
}

/** Every step's evidence from the accumulated state, Parallel branches included. */
function evidenceOf(steps: StepsState): StepEvidence[] {
  const found: StepEvidence[] = [];
  for (const value of Object.values(steps)) {
    if (value?.evidence) found.push(value.evidence);
    else if (value && typeof value === 'object') {
      for (const branch of Object.values(value as Record<string, { evidence?: StepEvidence }>))
        if (branch?.evidence) found.push(branch.evidence);
    }
  }
  return found;
}

/** Feature snapshot ids start with their creation time (YYYYMMDDTHHMMSSmmmZ). */
function snapshotAgeSeconds(snapshotId: string, at: number): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(snapshotId);
  if (!m) return null;
  const created = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!);
  return Math.max(0, (at - created) / 1000);
}

/** Maps what a drill observed onto the evidence report's input: the same builder AWS runs use. */
export function drillReportInput(
  drill: DrillRun,
  synchronous: boolean,
  approvalChannel: 'terminal' | 'unattended' | 'task-token',
): BuildEvidenceReportInput {
  const last = drill.executions.at(-1)!;
  const { run, steps } = lastState(drill.executions);
  if (!run) throw new Error('the drill ended before its input was validated: there is no run to report on');
  const invocationsMs = new Map<string, number[]>();
  for (const i of drill.invocations)
    invocationsMs.set(i.state, [...(invocationsMs.get(i.state) ?? []), i.durationMs]);
  const result = <T>(name: string) => steps[name]?.result as T | undefined;
  const atDeclaration = result<DataAtRisk>('captureDataAtRisk');
  const afterDrain = result<{ dataAtRisk: DataAtRisk }>('waitForDrain')?.dataAtRisk;
  const gate = result<{
    decision: string;
    breaches: { store: 'postgres' | 'kafka'; atRiskSeconds: number | null; objectiveSeconds: number }[];
  }>('evaluateRpoGate');
  const ledger = result<{ parity: boolean; findings: LedgerFinding[]; journal: unknown }>('reconcileLedger');
  const smoke = result<{
    passed: boolean;
    ticks: number;
    signals: number;
    ordersWritten?: number;
    failure?: string;
  }>('smokeHarness');
  const consumers = result<{ groups: number; totalLag: number; groupsWithoutOffsets: string[] }>(
    'consumerLag',
  );
  const redis = (
    steps.promoteStores as { redis?: { result?: { snapshot?: string; keysWritten?: number } } } | undefined
  )?.redis?.result;
  const approvalFailed = last.timeline.find(
    (t) => t.state === 'RequestApproval' && (t.status === 'caught' || t.status === 'failed'),
  );
  const approval =
    drill.approval.decision !== null || approvalFailed
      ? ({
          decision:
            drill.approval.decision ??
            (approvalFailed?.error === 'ApprovalRejected' ? 'rejected' : 'timeout'),
          requestedAt: drill.approval.requestedAt ? new Date(drill.approval.requestedAt).toISOString() : null,
          decidedAt: drill.approval.decidedAt ? new Date(drill.approval.decidedAt).toISOString() : null,
          decidedBy: drill.approval.by,
          comment: drill.approval.comment,
          channel: approvalChannel,
        } as const)
      : null;
  const caught = last.timeline.find((t) => t.status === 'caught');
  return {
    run,
    execution: {
      status: last.status === 'ABORTED' ? 'ABORTED' : last.status,
      finishedAt: new Date(last.finishedAt).toISOString(),
      error:
        last.status === 'SUCCEEDED'
          ? null
          : {
              name: caught?.error ?? last.error ?? 'unknown',
              cause: caught?.cause ?? last.cause ?? null,
              state: caught?.state ?? last.failedState ?? null,
            },
    },
    trading: {
      pausedAt: drill.gateway.pausedAt ? new Date(drill.gateway.pausedAt).toISOString() : null,
      resumedAt: drill.gateway.resumedAt ? new Date(drill.gateway.resumedAt).toISOString() : null,
    },
    approval,
    rpoGate: gate
      ? {
          evaluated: true,
          stopped: gate.decision === 'stop',
          exceeded: gate.breaches.map((b) => ({
            store: b.store,
            atRiskSeconds: b.atRiskSeconds,
            objectiveSeconds: b.objectiveSeconds,
          })),
        }
      : { evaluated: false, stopped: false, exceeded: [] },
    timeline: timelineOf(drill.executions, invocationsMs),
    evidence: evidenceOf(steps),
    measured: {
      postgres: {
        replication: synchronous ? 'synchronous' : 'asynchronous',
        lagAtDeclaration: {
          bytes: atDeclaration?.postgres.lagBytes ?? null,
          seconds: atDeclaration?.postgres.lagSeconds ?? null,
        },
        atRiskReported: afterDrain
          ? { bytes: afterDrain.postgres.lagBytes, seconds: afterDrain.postgres.lagSeconds }
          : null,
        ackedWritesLost: drill.ackedWritesLost?.missing ?? null,
        reconciliation: drill.ackedWritesLost
          ? `load-generator journal (${drill.ackedWritesLost.acknowledged} acknowledged writes) reconciled with the region writing at the end`
          : null,
      },
      kafka: {
        lagAtDeclarationByTopic: atDeclaration?.kafka.topics ?? [],
        offsetsSnapshotted: (atDeclaration?.kafka.maxLagSeconds ?? 0) >= drill.topology.kafka.maxLagSeconds,
        skipped: drill.kafka?.skipped ?? null,
        duplicatesByPartition: drill.kafka ? drill.kafka.duplicatesByPartition : null,
        offsetLagMax: drill.topology.kafka.offsetLagMax,
      },
      redis: {
        // A replica at its primary's offset has nothing at risk; otherwise the seconds are not knowable from offsets.
        lagAtDeclaration: {
          bytes: atDeclaration?.redis.offsetBehindBytes ?? null,
          seconds: atDeclaration?.redis.offsetBehindBytes === 0 ? 0 : null,
        },
        snapshot: redis?.snapshot
          ? {
              name: redis.snapshot,
              ageSeconds: snapshotAgeSeconds(redis.snapshot, last.finishedAt),
              keysWritten: redis.keysWritten ?? null,
              verified: true,
            }
          : null,
      },
    },
    verification: {
      smoke: smoke
        ? {
            passed: smoke.passed,
            summary: smoke.passed
              ? `${smoke.ticks} ticks → ${smoke.signals} signals → ${smoke.ordersWritten ?? 0} orders placed and rolled back`
              : (smoke.failure ?? 'failed'),
          }
        : null,
      ledgerParity: ledger
        ? {
            passed: ledger.parity,
            summary: ledger.parity
              ? 'aggregates equal the last healthy snapshot; no acknowledged write missing'
              : `${ledger.findings.filter((f) => f.sev1).length} SEV-1 discrepancies`,
            details: { findings: ledger.findings, journal: ledger.journal },
          }
        : null,
      consumerLag: consumers
        ? {
            passed: consumers.groupsWithoutOffsets.length === 0,
            summary: `${consumers.groups} group/topic pairs, total lag ${consumers.totalLag}`,
          }
        : null,
    },
    objectives: drill.topology.objectives,
  };
}
