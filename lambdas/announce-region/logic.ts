import type { DrDependencies } from '../shared/dependencies';
import { RunOnlyInputSchema } from '../shared/schemas';
import { actionFor, defineStep } from '../shared/step';

/** Repoint the control plane: the active-region parameter, and the RegionPromoted event workloads react to. */
export const announceRegionStep = defineStep({
  name: 'announce-region',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'flags' | 'events'>) {
    const flags = deps.flags(run.targetRegion);
    const before = await flags.read();
    if (run.dryRun) {
      return {
        action: actionFor(true, before.activeRegion === run.targetRegion),
        observed: { activeRegion: before.activeRegion },
        changes:
          before.activeRegion === run.targetRegion
            ? []
            : [`would set the active region to ${run.targetRegion} and publish RegionPromoted`],
        result: { activeRegion: before.activeRegion },
      };
    }
    const { changed } = await flags.set({ activeRegion: run.targetRegion });
    if (changed.length > 0) {
      await deps.events.publish({
        detailType: 'RegionPromoted',
        detail: {
          runId: run.runId,
          application: run.application,
          region: run.targetRegion,
          previousRegion: run.sourceRegion,
          mode: run.mode,
        },
      });
    }
    return {
      action: actionFor(false, changed.length === 0),
      observed: { activeRegion: before.activeRegion },
      changes:
        changed.length > 0
          ? [`set the active region to ${run.targetRegion}`, 'published RegionPromoted']
          : [],
      result: { activeRegion: run.targetRegion },
    };
  },
});
