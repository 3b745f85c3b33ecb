import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { RunSchema } from '../shared/run';
import { defineStep } from '../shared/step';

const InputSchema = z
  .object({ run: RunSchema, outcome: z.string().min(1), steps: z.record(z.string(), z.unknown()) })
  .strict();

/**
 * Archives what every step observed, changed and how long it took, immutably (Object Lock),
 * in the orchestrator's own region. The human-readable report with the timeline is built
 * from this bundle and the execution history.
 */
export const writeEvidenceBundleStep = defineStep({
  name: 'write-evidence-bundle',
  input: InputSchema,
  async run({ run, outcome, steps }, deps: Pick<DrDependencies, 'evidence' | 'runRecords'>, clock) {
    // No timestamp inside the bundle: a re-drive writes the same bytes and so no second locked version.
    const stored = await deps.evidence.put(
      `disaster-recovery/${run.runId}/evidence-bundle.json`,
      JSON.stringify({ run, outcome, steps }, null, 2),
      'application/json',
    );
    const alreadyDone = stored.alreadyDone === true;
    if (!run.dryRun && !alreadyDone) {
      await deps.runRecords.append(run.runId, {
        kind: 'evidence.archived',
        at: clock.now().toISOString(),
        data: stored,
      });
      await deps.runRecords.close(run.runId, outcome);
    }
    return {
      action: alreadyDone ? ('no-op' as const) : ('changed' as const),
      observed: {},
      changes: alreadyDone ? [] : [`archived the evidence bundle as ${stored.key} (sha256 ${stored.sha256})`],
      result: stored,
    };
  },
});
