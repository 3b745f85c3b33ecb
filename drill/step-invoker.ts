import type { Context } from 'aws-lambda';
import type { DependencyPool } from '../lambdas/shared/build-dependencies';
import { runIdOf } from '../lambdas/shared/build-dependencies';
import { lambdaHandler } from '../lambdas/shared/lambda-handler';
import { STEP_FUNCTIONS, type AnyStep, type StepFunctionName } from '../lambdas/registry';

/** A crash injected into a step, to prove re-drives converge: before it acts, or after it acted but before it answers. */
export interface InjectedFault {
  step: StepFunctionName;
  when: 'before' | 'after';
  times: number;
}

export class InjectedCrashError extends Error {
  override name = 'InjectedCrash';
}

export interface InvocationRecord {
  step: string;
  state: string;
  startedAt: number;
  durationMs: number;
  ok: boolean;
  /** What the step reported doing (its evidence's action), when it answered. */
  action?: string;
}

function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `tradepulse-dr-local-${functionName}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:tradepulse-dr-local-${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `local-${Date.now()}`,
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Binds the workflow's Task states to the very handlers the Lambdas export (middy +
 * Powertools logger over the step logic), with the sandbox's dependencies.
 */
export function localStepInvoker(pool: DependencyPool, faults: InjectedFault[] = []) {
  const handlers = new Map<string, ReturnType<typeof lambdaHandler<unknown, unknown, unknown>>>();
  const remaining = new Map(faults.map((f) => [`${f.step}:${f.when}`, f.times]));
  const invocations: InvocationRecord[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const crash = (step: string, when: 'before' | 'after') => {
    const key = `${step}:${when}`;
    const left = remaining.get(key) ?? 0;
    if (left <= 0) return;
    remaining.set(key, left - 1);
    throw new InjectedCrashError(
      `injected crash in ${step} (${when === 'before' ? 'before it acted' : 'after it acted, before it answered'})`,
    );
  };
  const run = async (step: string, event: unknown, state: string): Promise<unknown> => {
    const definition = STEP_FUNCTIONS[step as StepFunctionName] as AnyStep | undefined;
    if (!definition) throw new Error(`no Lambda step named ${step}`);
    const handler = handlers.get(step) ?? lambdaHandler(definition, (ev) => pool.forRun(runIdOf(ev)));
    handlers.set(step, handler);
    const startedAt = Date.now();
    let ok = false;
    let action: string | undefined;
    try {
      crash(step, 'before');
      const result = await handler(event, lambdaContext(step));
      action = (result as { evidence?: { action?: string } }).evidence?.action;
      crash(step, 'after');
      ok = true;
      return result;
    } finally {
      invocations.push({
        step,
        state,
        startedAt,
        durationMs: Date.now() - startedAt,
        ok,
        ...(action ? { action } : {}),
      });
    }
  };
  const invoke = (step: string, event: unknown, state: string): Promise<unknown> => {
    const call = run(step, event, state);
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call)).catch(() => undefined);
    return call;
  };
  /**
   * Resolves once no step is running. A failed Parallel state leaves its other branches'
   * Lambdas running to completion; an operator re-drives after they have stopped.
   */
  const idle = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  return { invoke, invocations, idle };
}
