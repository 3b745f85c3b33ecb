import type { HistoryEvent } from '@aws-sdk/client-sfn';

/**
 * A failover execution's history as GetExecutionHistory returns it (oldest first), written
 * to the documented HistoryEvent shapes for failover.asl.json: Lambda steps invoked by ARN
 * (LambdaFunction* events), a retried step, a Parallel state, and RequestApproval
 * (`lambda:invoke.waitForTaskToken`) whose first attempt failed with a Lambda service
 * error and was retried with a new token. The token is in the TaskScheduled event's
 * `parameters` (the resolved Parameters); the TaskStateEntered input has none.
 */

export const EXECUTION_ARN =
  'arn:aws:states:us-west-2:111122223333:execution:FailoverStateMachine1A2B3C:drill-20250314T100000-abc123';
export const STATE_MACHINE_ARN =
  'arn:aws:states:us-west-2:111122223333:stateMachine:FailoverStateMachine1A2B3C';
export const START = new Date('2025-03-14T10:00:00.000Z');
export const FIRST_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAfirst-attempt-token';
export const APPROVAL_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAsecond-attempt-token';

const RUN = {
  runId: 'drill-20250314T100000-abc123',
  executionId: EXECUTION_ARN,
  application: 'tradepulse',
  mode: 'drill',
  dryRun: false,
  trigger: { kind: 'cli', requestedBy: 'jane.doe@tradepulse.example' },
  sourceRegion: 'us-east-1',
  targetRegion: 'us-west-2',
  allowDataLoss: null,
  declaredAt: START.toISOString(),
};
const fn = (step: string) =>
  `arn:aws:lambda:us-west-2:111122223333:function:tradepulse-dr-us-west-2-${step}Function`;
const evidence = (step: string, changes: string[], finishedAt: string) => ({
  evidence: {
    step,
    action: 'changed',
    observed: {},
    changes,
    startedAt: finishedAt,
    finishedAt,
    durationMs: 5,
  },
  result: {},
});

class HistoryBuilder {
  readonly events: HistoryEvent[];
  private at: number;

  /** Continues `earlier` (a copy), or starts a new history at START. */
  constructor(earlier: readonly HistoryEvent[] = []) {
    this.events = [...earlier];
    this.at = earlier.at(-1)?.timestamp?.getTime() ?? START.getTime();
  }

  add(type: string, details: Partial<HistoryEvent>, previous?: number, afterMs = 10): number {
    this.at += afterMs;
    const id = this.events.length + 1;
    this.events.push({
      id,
      previousEventId: previous ?? (id > 1 ? id - 1 : 0),
      timestamp: new Date(this.at),
      type: type as HistoryEvent['type'],
      ...details,
    });
    return id;
  }

  entered(type: string, name: string, input: unknown, previous?: number): number {
    return this.add(
      `${type}StateEntered`,
      { stateEnteredEventDetails: { name, input: JSON.stringify(input) } },
      previous,
    );
  }

  exited(type: string, name: string, output: unknown, previous?: number, afterMs = 10): number {
    return this.add(
      `${type}StateExited`,
      { stateExitedEventDetails: { name, output: JSON.stringify(output) } },
      previous,
      afterMs,
    );
  }

  /** A Lambda step invoked by ARN: scheduled, started, succeeded (or failed, then retried). */
  lambdaStep(
    name: string,
    output: unknown,
    failures: { error: string; cause: string }[] = [],
    previous?: number,
  ) {
    const entered = this.entered('Task', name, { run: RUN }, previous);
    let last = entered;
    for (const failure of failures) {
      last = this.add(
        'LambdaFunctionScheduled',
        { lambdaFunctionScheduledEventDetails: { resource: fn(name) } },
        last,
      );
      last = this.add('LambdaFunctionStarted', {}, last);
      last = this.add('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: failure }, last);
    }
    last = this.add(
      'LambdaFunctionScheduled',
      { lambdaFunctionScheduledEventDetails: { resource: fn(name) } },
      last,
    );
    last = this.add('LambdaFunctionStarted', {}, last);
    last = this.add(
      'LambdaFunctionSucceeded',
      { lambdaFunctionSucceededEventDetails: { output: JSON.stringify(output) } },
      last,
      100,
    );
    return this.exited('Task', name, output, last);
  }
}

/** Scheduling of the approval task: the resolved Parameters, token included. */
function approvalScheduled(token: string) {
  return {
    taskScheduledEventDetails: {
      resourceType: 'lambda',
      resource: 'invoke.waitForTaskToken',
      region: 'us-west-2',
      parameters: JSON.stringify({
        FunctionName: fn('RequestApproval'),
        Payload: { run: RUN, taskToken: token, evidence: { verification: { passed: true } } },
      }),
      timeoutInSeconds: 14400,
      heartbeatInSeconds: 3600,
    },
  };
}

/** The history up to the approval waiting on its second token (the first attempt's invoke failed). */
export function historyWaitingForApproval(): HistoryEvent[] {
  const h = new HistoryBuilder();
  h.add('ExecutionStarted', {
    executionStartedEventDetails: {
      input: JSON.stringify({ trigger: 'cli', mode: 'drill' }),
      roleArn: 'arn:aws:iam::111122223333:role/x',
    },
  });
  h.entered('Pass', 'Initialize', {});
  h.exited('Pass', 'Initialize', { steps: {} });
  h.lambdaStep('ValidateInput', {
    steps: { validateInput: evidence('validate-input', [], '2025-03-14T10:00:00.100Z') },
  });
  h.lambdaStep(
    'AcquireLock',
    {
      steps: {
        acquireLock: evidence('acquire-lock', ['took the tradepulse DR lock'], '2025-03-14T10:00:00.300Z'),
      },
    },
    [{ error: 'Lambda.ServiceException', cause: 'Lambda is unavailable' }],
  );
  // PromoteStores: two branches interleaved, each linked to the Parallel's start.
  const parallel = h.entered('Parallel', 'PromoteStores', { run: RUN });
  const startedParallel = h.add('ParallelStateStarted', {}, parallel);
  const pg = h.lambdaStep(
    'PromotePostgres',
    evidence('promote-postgres', ['promoted the us-west-2 standby'], '2025-03-14T10:00:01.000Z'),
    [],
    startedParallel,
  );
  const kafka = h.lambdaStep(
    'PromoteKafka',
    evidence('promote-kafka', ['translated consumer offsets'], '2025-03-14T10:00:01.100Z'),
    [],
    startedParallel,
  );
  const succeeded = h.add('ParallelStateSucceeded', {}, Math.max(pg, kafka));
  h.exited('Parallel', 'PromoteStores', { steps: {} }, succeeded);
  // RequestApproval: the first attempt's invoke fails (retried by the ASL), the second waits.
  const approval = h.entered('Task', 'RequestApproval', { run: RUN, steps: {} });
  let last = h.add('TaskScheduled', approvalScheduled(FIRST_TOKEN), approval);
  last = h.add(
    'TaskStarted',
    { taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' } },
    last,
  );
  last = h.add(
    'TaskFailed',
    {
      taskFailedEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke.waitForTaskToken',
        error: 'Lambda.ServiceException',
        cause: 'Lambda is unavailable',
      },
    },
    last,
  );
  last = h.add('TaskScheduled', approvalScheduled(APPROVAL_TOKEN), last, 1000);
  last = h.add(
    'TaskStarted',
    { taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' } },
    last,
  );
  h.add(
    'TaskSubmitted',
    {
      taskSubmittedEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke.waitForTaskToken',
        output: JSON.stringify({ StatusCode: 200, Payload: { evidence: {}, result: {} } }),
      },
    },
    last,
  );
  return h.events;
}

/** The same execution after the approver answered: the approval succeeded and the run finished. */
export function historyAfterApproval(): HistoryEvent[] {
  const events = historyWaitingForApproval();
  const h = new HistoryBuilder(events);
  const last = events.at(-1)!.id!;
  const succeeded = h.add(
    'TaskSucceeded',
    {
      taskSucceededEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke.waitForTaskToken',
        output: JSON.stringify({ approved: true, approvedBy: 'Duty Manager', at: '2025-03-14T10:05:00Z' }),
      },
    },
    last,
  );
  const exited = h.exited('Task', 'RequestApproval', { steps: {} }, succeeded);
  h.entered('Succeed', 'TradingResumed', {}, exited);
  h.exited('Succeed', 'TradingResumed', {});
  h.add('ExecutionSucceeded', { executionSucceededEventDetails: { output: '{}' } });
  return h.events;
}
