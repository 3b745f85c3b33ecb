import * as z from 'zod';
import { RunSchema } from './run';

/** Every step after validation receives the validated run, and the earlier steps' results where it needs them. */
export const RunOnlyInputSchema = z.object({ run: RunSchema }).strict();
export type RunOnlyInput = z.infer<typeof RunOnlyInputSchema>;

/** Earlier steps' outputs as the ASL accumulates them at `$.steps`. */
export const StepsSchema = z.record(z.string(), z.unknown());

export const RunWithStepsInputSchema = z.object({ run: RunSchema, steps: StepsSchema }).strict();
export type RunWithStepsInput = z.infer<typeof RunWithStepsInputSchema>;

/** Reads `steps.<name>.result` from the accumulated state, or throws naming what is missing. */
export function resultOf<T>(steps: Record<string, unknown>, name: string): T {
  const entry = steps[name] as { result?: T } | undefined;
  if (!entry || entry.result === undefined)
    throw new Error(`the result of step '${name}' is missing from the state`);
  return entry.result;
}
