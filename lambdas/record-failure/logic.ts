import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { RunSchema } from '../shared/run';
import { defineStep } from '../shared/step';

const InputSchema = z
  .object({
    run: RunSchema,
    outcome: z.enum([
      'failed',
      'rejected',
      'approval-timeout',
      'stopped-rpo-gate',
      'verification-failed',
      // Failback readiness: replication into the region to return to was not caught up; nothing switched.
      'refused-not-caught-up',
    ]),
    /** The Catch output: `{ Error, Cause }`; Lambda's Cause is a JSON string with errorMessage. */
    failure: z.object({ Error: z.string(), Cause: z.string().optional() }).partial().nullable().default(null),
  })
  .strict();

function causeMessage(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    return parsed.errorMessage ?? cause;
  } catch {
    return cause;
  }
}

/**
 * Every failure path ends here: make sure trading stays frozen in the target region,
 * record what happened in the run record. The lock is released by the next state so the
 * run can be re-driven or restarted.
 */
export const recordFailureStep = defineStep({
  name: 'record-failure',
  input: InputSchema,
  async run({ run, outcome, failure }, deps: Pick<DrDependencies, 'flags' | 'runRecords'>, clock) {
    const error = failure
      ? { error: failure.Error ?? 'unknown', message: causeMessage(failure.Cause) }
      : null;
    if (run.dryRun) {
      return { action: 'dry-run' as const, observed: { error }, changes: [], result: { outcome, error } };
    }
    const { changed } = await deps
      .flags(run.targetRegion)
      .set({ acceptNewOrders: false, strategyActivation: 'disabled' });
    await deps.runRecords.append(run.runId, {
      kind: `outcome.${outcome}`,
      at: clock.now().toISOString(),
      data: { error },
    });
    await deps.runRecords.close(run.runId, outcome);
    return {
      action: changed.length > 0 ? ('changed' as const) : ('no-op' as const),
      observed: { error },
      changes:
        changed.length > 0 ? [`kept trading frozen in ${run.targetRegion} (${changed.join(', ')})`] : [],
      result: { outcome, error },
    };
  },
});
