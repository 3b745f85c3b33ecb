import type { DrDependencies } from '../shared/dependencies';
import { RunOnlyInputSchema } from '../shared/schemas';
import { actionFor, defineStep } from '../shared/step';

/**
 * Repoint the control plane: the active-region parameter, and the RegionPromoted event workloads
 * react to. A failover writes only the target region's parameter (static stability: the source
 * may be gone). A planned failback runs with both regions up and the region left still naming
 * itself since the failover, so both parameters are set; the event goes out once either changed.
 */
export const announceRegionStep = defineStep({
  name: 'announce-region',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'flags' | 'events'>) {
    const flags = deps.flags(run.targetRegion);
    const before = await flags.read();
    const bothRegions = run.workflow === 'failback';
    const sourceBefore = bothRegions ? await deps.flags(run.sourceRegion).read() : null;
    const done =
      before.activeRegion === run.targetRegion &&
      (sourceBefore === null || sourceBefore.activeRegion === run.targetRegion);
    if (run.dryRun) {
      return {
        action: actionFor(true, done),
        observed: {
          activeRegion: before.activeRegion,
          ...(sourceBefore ? { sourceActiveRegion: sourceBefore.activeRegion } : {}),
        },
        changes: done
          ? []
          : [`would set the active region to ${run.targetRegion} and publish RegionPromoted`],
        result: { activeRegion: before.activeRegion },
      };
    }
    const changed = [
      ...(await flags.set({ activeRegion: run.targetRegion })).changed,
      ...(bothRegions
        ? (await deps.flags(run.sourceRegion).set({ activeRegion: run.targetRegion })).changed.map(
            (name) => `${run.sourceRegion}:${name}`,
          )
        : []),
    ];
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
      observed: {
        activeRegion: before.activeRegion,
        ...(sourceBefore ? { sourceActiveRegion: sourceBefore.activeRegion } : {}),
      },
      changes:
        changed.length > 0
          ? [
              `set the active region to ${run.targetRegion}${bothRegions ? ` in ${run.targetRegion} and ${run.sourceRegion}` : ''}`,
              'published RegionPromoted',
            ]
          : [],
      result: { activeRegion: run.targetRegion },
    };
  },
});
