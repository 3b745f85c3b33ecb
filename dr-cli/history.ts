import type { HistoryEvent } from '@aws-sdk/client-sfn';

/**
 * Reading a Step Functions execution history (GetExecutionHistory events, oldest first):
 * which approval task is waiting and its token, and a live, state-by-state account of the
 * run in the local drill's style.
 */

/** A `.waitForTaskToken` task the workflow is waiting on. */
export interface PendingApproval {
  /** The state that waits (RequestApproval in failover.asl.json). */
  readonly state: string;
  readonly taskToken: string;
  readonly scheduledAt: Date;
  /** The payload the approval step received: the run and the verification evidence. */
  readonly payload: { run?: { runId?: string; mode?: string; targetRegion?: string }; evidence?: unknown };
}

const ENDS_A_TASK = new Set([
  'TaskSucceeded',
  'TaskFailed',
  'TaskTimedOut',
  'TaskStateAborted',
  'TaskStateExited',
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionTimedOut',
  'ExecutionAborted',
]);

/** Each event's thread back to its first: Step Functions links an event to the one before it in the same branch. */
function ancestry(events: readonly HistoryEvent[]) {
  const byId = new Map(events.map((e) => [e.id!, e]));
  return {
    byId,
    /** The `*StateEntered` event the given event happened in. */
    enteredOf(event: HistoryEvent): HistoryEvent | undefined {
      let at: HistoryEvent | undefined = event;
      while (at) {
        if (at.type?.endsWith('StateEntered') && at !== event) return at;
        at = at.previousEventId ? byId.get(at.previousEventId) : undefined;
      }
      return undefined;
    },
    /** Whether `event`'s thread passes through `ancestorId`. */
    descendsFrom(event: HistoryEvent, ancestorId: number): boolean {
      let at: HistoryEvent | undefined = event;
      while (at) {
        if (at.previousEventId === ancestorId) return true;
        at = at.previousEventId ? byId.get(at.previousEventId) : undefined;
      }
      return false;
    },
  };
}

/**
 * The approval the execution is waiting on. For a `lambda:invoke.waitForTaskToken` task the
 * history records the token in the `TaskScheduled` event: its `parameters` are the resolved
 * Parameters (`{"FunctionName": …, "Payload": {"taskToken": …}}`). The `TaskStateEntered`
 * input is the state's input, before `$$.Task.Token` is filled in, so it has no token. A
 * retried task is scheduled again with a new token: the newest one not yet answered counts.
 */
export function findPendingApproval(events: readonly HistoryEvent[]): PendingApproval | undefined {
  const { enteredOf, descendsFrom } = ancestry(events);
  const scheduled = events.filter(
    (e) =>
      e.type === 'TaskScheduled' &&
      e.taskScheduledEventDetails?.resourceType === 'lambda' &&
      e.taskScheduledEventDetails.resource === 'invoke.waitForTaskToken',
  );
  for (const event of [...scheduled].reverse()) {
    const answered = events.some(
      (later) =>
        later.id! > event.id! &&
        ENDS_A_TASK.has(later.type ?? '') &&
        (later.type!.startsWith('Execution') || descendsFrom(later, event.id!)),
    );
    if (answered) continue;
    let parameters: { Payload?: { taskToken?: unknown } & PendingApproval['payload'] };
    try {
      parameters = JSON.parse(event.taskScheduledEventDetails!.parameters ?? '{}');
    } catch {
      continue;
    }
    const token = parameters.Payload?.taskToken;
    if (typeof token !== 'string' || token.length === 0) continue;
    const { taskToken: _token, ...payload } = parameters.Payload!;
    return {
      state: enteredOf(event)?.stateEnteredEventDetails?.name ?? 'unknown state',
      taskToken: token,
      scheduledAt: event.timestamp ?? new Date(0),
      payload,
    };
  }
  return undefined;
}

/** One line of progress, as the local drill prints them. */
export interface ProgressLine {
  readonly at: Date;
  readonly text: string;
}

const QUIET_STATE_TYPES = ['Pass', 'Choice'];
const SUCCEEDED = new Set(['LambdaFunctionSucceeded', 'TaskSucceeded', 'ParallelStateSucceeded']);
const FAILURE_DETAILS = [
  'lambdaFunctionFailedEventDetails',
  'lambdaFunctionTimedOutEventDetails',
  'lambdaFunctionStartFailedEventDetails',
  'lambdaFunctionScheduleFailedEventDetails',
  'taskFailedEventDetails',
  'taskTimedOutEventDetails',
  'taskStartFailedEventDetails',
  'taskSubmitFailedEventDetails',
] as const;

function failureOf(event: HistoryEvent): { error: string; cause: string } | undefined {
  for (const key of FAILURE_DETAILS) {
    const details = event[key] as { error?: string; cause?: string } | undefined;
    if (details) return { error: details.error ?? event.type ?? 'error', cause: details.cause ?? '' };
  }
  return undefined;
}

/** Lambda reports a step's error cause as JSON with errorMessage; show the message. */
function causeText(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    return (parsed.errorMessage ?? cause).slice(0, 200);
  } catch {
    return cause.slice(0, 200);
  }
}

/** The changes the step that just finished reported (its evidence is the newest of its name in the output). */
export function latestChanges(output: unknown, stepName: string | undefined): string[] {
  if (!stepName) return [];
  type Evidence = { step: string; finishedAt: string; changes: string[] };
  const found: Evidence[] = [];
  const collect = (value: unknown) => {
    if (!value || typeof value !== 'object') return;
    const e = (value as { evidence?: Evidence }).evidence;
    if (e?.step === stepName) found.push(e);
    else if (!e)
      for (const inner of Object.values(value))
        if (inner && typeof inner === 'object' && 'evidence' in inner) collect(inner);
  };
  const steps = (output as { steps?: Record<string, unknown> } | undefined)?.steps ?? {};
  for (const value of Object.values(steps)) collect(value);
  if (Array.isArray(output) || (output as { evidence?: unknown } | undefined)?.evidence) collect(output);
  return found.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt)).at(-1)?.changes ?? [];
}

export interface ProgressOptions {
  /** Task state → the evidence name of the step it runs (`AcquireLock` → `acquire-lock`), for its changes. */
  readonly stepOfState?: ReadonlyMap<string, string>;
  /** What to tell the operator when the approval starts waiting. */
  readonly approvalHint?: string;
}

/**
 * Renders history events as progress lines: `▶` entered, `↻` retried after an error,
 * `✓` exited (with the step's reported changes), `✗` failed or caught, `⏸` waiting for the
 * approval, and the execution's end. `events` must be the whole history so far (threads
 * are followed through earlier events); lines are produced for ids above `afterId`.
 */
export function progressLines(
  events: readonly HistoryEvent[],
  afterId: number,
  options: ProgressOptions = {},
): ProgressLine[] {
  const { byId, enteredOf } = ancestry(events);
  const lines: ProgressLine[] = [];
  const say = (event: HistoryEvent, text: string) => lines.push({ at: event.timestamp ?? new Date(0), text });
  const stateType = (entered: HistoryEvent | undefined) => entered?.type?.replace(/StateEntered$/, '') ?? '';
  for (const event of events) {
    if (event.id! <= afterId) continue;
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) {
      if (QUIET_STATE_TYPES.includes(stateType(event))) continue;
      say(event, `▶ ${event.stateEnteredEventDetails?.name ?? '?'}`);
      continue;
    }
    if (type === 'LambdaFunctionScheduled' || type === 'TaskScheduled') {
      const entered = enteredOf(event);
      if (!entered) continue;
      // An earlier attempt in the same state failed: this one is a retry.
      const earlier = events.filter(
        (e) =>
          e.id! > entered.id! &&
          e.id! < event.id! &&
          (e.type === 'LambdaFunctionScheduled' || e.type === 'TaskScheduled') &&
          enteredOf(e) === entered,
      );
      if (earlier.length > 0) {
        const lastFailure = events
          .filter((e) => e.id! > earlier.at(-1)!.id! && e.id! < event.id! && enteredOf(e) === entered)
          .map(failureOf)
          .filter(Boolean)
          .at(-1);
        say(
          event,
          `↻ ${entered.stateEnteredEventDetails?.name ?? '?'} retry ${earlier.length} after ${lastFailure?.error ?? 'an error'}`,
        );
      }
      continue;
    }
    if (type === 'TaskSubmitted' && options.approvalHint) {
      const entered = enteredOf(event);
      const scheduled = event.previousEventId ? byId.get(event.previousEventId) : undefined;
      const waits =
        scheduled?.taskScheduledEventDetails?.resource?.endsWith('.waitForTaskToken') ||
        events.some(
          (e) =>
            e.type === 'TaskScheduled' &&
            enteredOf(e) === entered &&
            e.taskScheduledEventDetails?.resource?.endsWith('.waitForTaskToken'),
        );
      if (waits)
        say(event, `⏸ ${entered?.stateEnteredEventDetails?.name ?? '?'} waiting — ${options.approvalHint}`);
      continue;
    }
    if (type.endsWith('StateExited')) {
      const entered = enteredOf(event);
      const name = event.stateExitedEventDetails?.name ?? '?';
      if (QUIET_STATE_TYPES.includes(stateType(entered))) continue;
      const within = events.filter(
        (e) => entered && e.id! > entered.id! && e.id! < event.id! && enteredOf(e) === entered,
      );
      const outcome = within
        .filter((e) => failureOf(e) || e.type === 'ParallelStateFailed' || SUCCEEDED.has(e.type ?? ''))
        .at(-1);
      const tookMs =
        entered?.timestamp && event.timestamp
          ? event.timestamp.getTime() - entered.timestamp.getTime()
          : undefined;
      if (outcome && !SUCCEEDED.has(outcome.type ?? '')) {
        const f = failureOf(outcome) ?? { error: 'States.BranchFailed', cause: 'a branch failed' };
        say(event, `✗ ${name} ${f.error}: ${causeText(f.cause)} (caught)`);
        continue;
      }
      say(event, `✓ ${name}${tookMs === undefined ? '' : ` ${tookMs} ms`}`);
      let output: unknown;
      try {
        output = JSON.parse(event.stateExitedEventDetails?.output ?? 'null');
      } catch {
        output = undefined;
      }
      for (const change of latestChanges(output, options.stepOfState?.get(name))) say(event, `  · ${change}`);
      continue;
    }
    if (type === 'ExecutionSucceeded') say(event, '■ execution succeeded');
    if (type === 'ExecutionFailed') {
      const d = event.executionFailedEventDetails;
      say(event, `■ execution failed: ${d?.error ?? 'error'}${d?.cause ? `: ${causeText(d.cause)}` : ''}`);
    }
    if (type === 'ExecutionTimedOut') say(event, '■ execution timed out');
    if (type === 'ExecutionAborted') say(event, '■ execution aborted');
  }
  return lines;
}
