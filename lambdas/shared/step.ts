import type * as z from 'zod';
import type { StepAction, StepEvidence, StepResult } from './evidence';
import { InvalidInputError, classifyError } from './errors';
import { formatIssues } from './topology';

export interface StepClock {
  now(): Date;
}

/** What a step's logic returns; the framework adds the name and the timings. */
export interface StepOutcome<R> {
  action: StepAction;
  observed: Record<string, unknown>;
  changes: string[];
  result: R;
}

/**
 * One runbook step: a name, the schema of its input, and pure logic over the adapters it
 * is given. Handlers (Lambda) and the local runner both execute it through `executeStep`.
 */
export interface StepDefinition<I, D, R> {
  name: string;
  input: z.ZodType<I>;
  run(input: I, deps: D, clock: StepClock): Promise<StepOutcome<R>>;
}

export function defineStep<I, D, R>(definition: StepDefinition<I, D, R>): StepDefinition<I, D, R> {
  return definition;
}

export const systemClock: StepClock = { now: () => new Date() };

/** Validates the input (InvalidInputError naming each bad field), runs the logic, wraps it in evidence. */
export async function executeStep<I, D, R>(
  step: StepDefinition<I, D, R>,
  event: unknown,
  deps: D,
  clock: StepClock = systemClock,
): Promise<StepResult<R>> {
  const parsed = step.input.safeParse(event);
  if (!parsed.success) {
    throw new InvalidInputError(`${step.name}: invalid input:\n${formatIssues(parsed.error.issues)}`, {
      issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    });
  }
  const started = clock.now();
  let outcome: StepOutcome<R>;
  try {
    outcome = await step.run(parsed.data, deps, clock);
  } catch (err) {
    throw classifyError(err);
  }
  const finished = clock.now();
  const evidence: StepEvidence = {
    step: step.name,
    action: outcome.action,
    observed: outcome.observed,
    changes: outcome.changes,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
  };
  return { evidence, result: outcome.result };
}

/** The action to record: a dry run never changes anything; otherwise changed unless the goal already held. */
export function actionFor(dryRun: boolean, alreadyDone: boolean): StepAction {
  if (dryRun) return 'dry-run';
  return alreadyDone ? 'no-op' : 'changed';
}
