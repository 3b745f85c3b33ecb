import { TaskTokenBroker } from '../../local-runner/approval';
import { loadWorkflow } from '../../local-runner/definition';
import { runWorkflowLocally, type LocalExecutionResult } from '../../local-runner/run-workflow';

/** A step stub: returns a result, or throws to exercise Retry/Catch. */
export type Stub = (event: Record<string, unknown>, call: number) => unknown;

export const run = {
  runId: 'wf-test',
  executionId: 'arn:aws:states:us-west-2:000000000000:execution:tradepulse-dr-failover:wf-test',
  application: 'tradepulse',
  mode: 'drill',
  dryRun: false,
  trigger: { kind: 'cli', requestedBy: 'jest' },
  sourceRegion: 'us-east-1',
  targetRegion: 'us-west-2',
  allowDataLoss: null,
  declaredAt: '2026-11-27T00:00:00.000Z',
};

export const ok = (result: Record<string, unknown> = {}) => ({
  evidence: {
    step: 'stub',
    action: 'observed',
    observed: {},
    changes: [],
    startedAt: '',
    finishedAt: '',
    durationMs: 0,
  },
  result,
});

export function namedError(name: string, message = `${name} from a stub`): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

/** Results that let a run go down the happy path. */
export const defaultStubs: Record<string, Stub> = {
  ValidateInput: () => ok({ run }),
  CutoverTraffic: () => ok({ changeId: 'C123', method: 'route53-weighted', alreadyDone: false }),
  EvaluateRpoGate: () => ok({ decision: 'proceed', breaches: [] }),
  EvaluateVerification: () => ok({ passed: true, sev1: false, findings: [] }),
  ResumeTrading: () =>
    ok({ resumedAt: '2026-11-27T00:01:00.000Z', heightenedMonitoringUntil: '2026-11-27T02:01:00.000Z' }),
};

export interface StubbedRun extends LocalExecutionResult {
  /** Every step invocation, in order: [step function, event]. */
  calls: [string, Record<string, unknown>][];
  called(step: string): Record<string, unknown>[];
  visited: string[];
}

/** Every Task state retries immediately: the ASL's Retry counts are kept, not its waits. */
function noRetryWaits(workflow: string): Record<string, number> {
  const { stepOfTask } = loadWorkflow(workflow, 'us-west-2');
  return Object.fromEntries([...stepOfTask.keys()].map((s) => [s, 0]));
}

export async function runFailoverWithStubs(
  stubs: Record<string, Stub> = {},
  options: {
    input?: unknown;
    answer?: (broker: TaskTokenBroker, token: string, payload: unknown) => void;
    approvalTimeouts?: { timeoutSeconds?: number; heartbeatSeconds?: number };
    redrive?: { fromState: string; input: unknown };
    /** Another workflow of state-machines/ (failback), with its own happy-path stubs underneath `stubs`. */
    workflow?: string;
    baseStubs?: Record<string, Stub>;
  } = {},
): Promise<StubbedRun> {
  const workflow = options.workflow ?? 'failover';
  const all = { ...defaultStubs, ...options.baseStubs, ...stubs };
  const calls: [string, Record<string, unknown>][] = [];
  const counts = new Map<string, number>();
  const broker = new TaskTokenBroker();
  broker.onWaiting((token, payload) =>
    (
      options.answer ??
      ((b, t) => b.sendTaskSuccess(t, { approved: true, approvedBy: 'jest', at: '2026-11-27T00:00:30.000Z' }))
    )(broker, token, payload),
  );
  const result = await runWorkflowLocally({
    workflow,
    region: 'us-west-2',
    executionName: 'wf-test',
    input: options.input ?? {
      trigger: 'cli',
      mode: 'drill',
      sourceRegion: 'us-east-1',
      targetRegion: 'us-west-2',
      requestedBy: 'jest',
    },
    broker,
    ...(options.approvalTimeouts ? { approvalTimeouts: options.approvalTimeouts } : {}),
    ...(options.redrive ? { redrive: options.redrive } : {}),
    retryIntervalOverrides: noRetryWaits(workflow),
    invoke: async (step, event) => {
      calls.push([step, event as Record<string, unknown>]);
      const call = (counts.get(step) ?? 0) + 1;
      counts.set(step, call);
      const stub = all[step];
      return stub ? stub(event as Record<string, unknown>, call) : ok();
    },
  });
  return {
    ...result,
    calls,
    called: (step) => calls.filter(([s]) => s === step).map(([, e]) => e),
    visited: result.timeline.map((t) => t.state),
  };
}
