import { StateMachine, ExecutionAbortedError } from 'aws-local-stepfunctions';
import type { TaskTokenBroker } from './approval';
import { loadWorkflow, type AslDefinition } from './definition';

export type StateStatus = 'running' | 'succeeded' | 'failed' | 'caught' | 'retried';

export interface TimelineEntry {
  state: string;
  type: string;
  /** The Lambda step a Task state ran, when it is one. */
  step?: string;
  enteredAt: number;
  exitedAt?: number;
  status: StateStatus;
  retries: number;
  error?: string;
  cause?: string;
}

export type ProgressEvent =
  | { kind: 'entered'; entry: TimelineEntry }
  | { kind: 'exited'; entry: TimelineEntry; output: unknown }
  | { kind: 'failed'; entry: TimelineEntry }
  | { kind: 'retried'; entry: TimelineEntry; attempt: number }
  | { kind: 'caught'; entry: TimelineEntry };

export interface LocalExecutionOptions {
  workflow: string;
  region: string;
  executionName: string;
  input: unknown;
  /** Runs the Lambda step `stepFunction` for a Task state, in-process. */
  invoke(stepFunction: string, event: unknown, stateName: string): Promise<unknown>;
  broker: TaskTokenBroker;
  /** Shorter approval timings than the ASL's HeartbeatSeconds/TimeoutSeconds (tests only). */
  approvalTimeouts?: { timeoutSeconds?: number; heartbeatSeconds?: number };
  onProgress?(event: ProgressEvent): void;
  /** Re-drive: start at this (top-level) state with the input it had when it failed. */
  redrive?: { fromState: string; input: unknown };
  /** Shorten Retry intervals (ms) per state, as the tests do; drills keep the ASL's. */
  retryIntervalOverrides?: Record<string, number | number[]>;
}

export interface LocalExecutionResult {
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  output?: unknown;
  error?: string;
  cause?: string;
  startedAt: number;
  finishedAt: number;
  timeline: TimelineEntry[];
  /** The input each state last received: what a re-drive from that state starts with. */
  stateInputs: Record<string, unknown>;
  /** The first state whose error was caught or ended the run: where a re-drive starts. */
  failedState?: string;
}

export const executionArn = (region: string, workflow: string, name: string) =>
  `arn:aws:states:${region}:000000000000:execution:tradepulse-dr-${workflow}:${name}`;

/**
 * Runs a workflow from state-machines/ in-process with aws-local-stepfunctions, every Task
 * state bound to the same step code the Lambdas run, `.waitForTaskToken` tasks answered
 * through the task-token broker, and a timeline of every state kept for the report.
 */
export async function runWorkflowLocally(options: LocalExecutionOptions): Promise<LocalExecutionResult> {
  const { definition, stepOfTask } = loadWorkflow(options.workflow, options.region);
  const effective: AslDefinition = options.redrive
    ? { ...definition, StartAt: options.redrive.fromState }
    : definition;
  if (options.approvalTimeouts) applyApprovalTimeouts(effective, options.approvalTimeouts);
  if (options.redrive && !effective.States[options.redrive.fromState]) {
    throw new Error(
      `cannot re-drive from '${options.redrive.fromState}': no such top-level state in ${options.workflow}`,
    );
  }
  // Validate the definition as written; a re-drive's copy starts mid-way, which leaves states unreachable.
  let machine = new StateMachine(definition as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  if (effective !== definition)
    machine = new StateMachine(effective as never, { validationOptions: { noValidate: true } });
  const token = `${options.executionName}:approval`;
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [stateName, stepFunction] of stepOfTask) {
    const state = findState(effective, stateName);
    const waitsForToken = typeof state?.Resource === 'string' && state.Resource.endsWith('.waitForTaskToken');
    handlers[stateName] = waitsForToken
      ? async (input) => {
          const payload = (input as { Payload: { taskToken: string } }).Payload;
          await options.invoke(stepFunction, payload, stateName);
          return options.broker.wait(
            payload.taskToken,
            payload,
            (state?.HeartbeatSeconds as number | undefined) ?? undefined,
          );
        }
      : (input) => options.invoke(stepFunction, input, stateName);
  }
  const startedAt = Date.now();
  const execution = machine.run((options.redrive ? options.redrive.input : options.input) as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      retryIntervalOverrides: options.retryIntervalOverrides ?? {},
    },
    context: {
      Execution: {
        Id: executionArn(options.region, options.workflow, options.executionName),
        Name: options.executionName,
        StartTime: new Date(startedAt).toISOString(),
        Input: options.input as never,
      },
      Task: { Token: token },
    },
  });

  const timeline: TimelineEntry[] = [];
  const open = new Map<string, TimelineEntry>();
  const stateInputs: Record<string, unknown> = {};
  let failedState: string | undefined;
  const lastFailed = new Map<string, TimelineEntry>();
  const logs = (async () => {
    for await (const event of execution.eventLogs) {
      if (!('state' in event)) continue;
      const name = event.state.name;
      switch (event.type) {
        case 'StateEntered': {
          const entry: TimelineEntry = {
            state: name,
            type: event.state.type,
            enteredAt: event.timestamp,
            status: 'running',
            retries: 0,
          };
          const step = stepOfTask.get(name);
          if (step) entry.step = step;
          open.set(name, entry);
          timeline.push(entry);
          stateInputs[name] = event.state.input;
          options.onProgress?.({ kind: 'entered', entry });
          break;
        }
        case 'StateExited': {
          const entry = open.get(name);
          if (!entry) break;
          entry.exitedAt = event.timestamp;
          if (entry.status === 'running' || entry.status === 'retried') entry.status = 'succeeded';
          open.delete(name);
          options.onProgress?.({ kind: 'exited', entry, output: event.state.output });
          break;
        }
        case 'StateRetried': {
          // aws-local-stepfunctions reports StateFailed first, then StateRetried, then runs the state again.
          const entry = lastFailed.get(name) ?? open.get(name);
          if (!entry) break;
          lastFailed.delete(name);
          entry.retries += 1;
          entry.status = 'retried';
          delete entry.exitedAt;
          open.set(name, entry);
          options.onProgress?.({ kind: 'retried', entry, attempt: event.retry.attempt });
          break;
        }
        case 'StateCaught':
        case 'StateFailed': {
          const entry = open.get(name) ?? lastFailed.get(name);
          if (!entry) break;
          entry.exitedAt = event.timestamp;
          entry.status = event.type === 'StateCaught' ? 'caught' : 'failed';
          if ('Error' in event) {
            entry.error = event.Error;
            entry.cause = typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause);
          }
          open.delete(name);
          if (event.type === 'StateCaught') {
            lastFailed.delete(name);
            failedState ??= topLevelStateOf(effective, name);
          } else lastFailed.set(name, entry);
          options.onProgress?.({ kind: event.type === 'StateCaught' ? 'caught' : 'failed', entry });
          break;
        }
      }
    }
  })();

  let result: Pick<LocalExecutionResult, 'status' | 'output' | 'error' | 'cause'>;
  try {
    result = { status: 'SUCCEEDED', output: await execution.result };
  } catch (err) {
    const e = err as Error & { cause?: unknown };
    if (err instanceof ExecutionAbortedError) result = { status: 'ABORTED', error: 'ExecutionAborted' };
    else result = { status: 'FAILED', error: failureName(e), cause: failureCause(e) };
  }
  await logs;
  if (result.status === 'FAILED' && !failedState) {
    const uncaught = [...lastFailed.values()].find((e) => e.type !== 'Fail');
    if (uncaught) failedState = topLevelStateOf(effective, uncaught.state);
  }
  return {
    ...result,
    startedAt,
    finishedAt: Date.now(),
    timeline,
    stateInputs,
    ...(failedState ? { failedState } : {}),
  };
}

/** aws-local-stepfunctions wraps a Fail state's Error/Cause in ExecutionError; unwrap to what Step Functions reports. */
function failureName(err: Error & { cause?: unknown }): string {
  const inner = err.cause as { name?: string } | undefined;
  return inner?.name ?? err.name;
}
function failureCause(err: Error & { cause?: unknown }): string {
  const inner = err.cause as { message?: string } | undefined;
  return inner?.message ?? err.message;
}

function findState(definition: AslDefinition, name: string): AslDefinition['States'][string] | undefined {
  if (definition.States[name]) return definition.States[name];
  for (const state of Object.values(definition.States)) {
    for (const branch of state.Branches ?? []) {
      const found = findState(branch as AslDefinition, name);
      if (found) return found;
    }
  }
  return undefined;
}

/** The top-level state that contains `name` (itself, or the Parallel state around it). */
function topLevelStateOf(definition: AslDefinition, name: string): string {
  if (definition.States[name]) return name;
  for (const [parent, state] of Object.entries(definition.States)) {
    if ((state.Branches ?? []).some((b) => findState(b as AslDefinition, name))) return parent;
  }
  return name;
}

/** aws-local-stepfunctions enforces TimeoutSeconds; HeartbeatSeconds is enforced by the task-token broker. */
function applyApprovalTimeouts(
  definition: AslDefinition,
  timeouts: { timeoutSeconds?: number; heartbeatSeconds?: number },
): void {
  for (const state of Object.values(definition.States)) {
    if (typeof state.Resource !== 'string' || !state.Resource.endsWith('.waitForTaskToken')) continue;
    if (timeouts.timeoutSeconds) state.TimeoutSeconds = timeouts.timeoutSeconds;
    if (timeouts.heartbeatSeconds) state.HeartbeatSeconds = timeouts.heartbeatSeconds;
  }
}
