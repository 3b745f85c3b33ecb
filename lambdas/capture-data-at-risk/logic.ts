import type { DrDependencies } from '../shared/dependencies';
import { measureDataAtRisk } from '../shared/measure/data-at-risk';
import { RunOnlyInputSchema } from '../shared/schemas';
import { defineStep } from '../shared/step';

/** Data at risk at declaration: PostgreSQL replay lag, MirrorMaker 2 lag per critical topic, Redis replica offset. */
export const captureDataAtRiskStep = defineStep({
  name: 'capture-data-at-risk',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'postgres' | 'kafka' | 'redis' | 'runRecords'>, clock) {
    const atRisk = await measureDataAtRisk(run, deps, clock.now());
    if (!run.dryRun)
      await deps.runRecords.append(run.runId, {
        kind: 'data-at-risk.declaration',
        at: atRisk.measuredAt,
        data: atRisk,
      });
    return { action: 'observed' as const, observed: { ...atRisk }, changes: [], result: atRisk };
  },
});
