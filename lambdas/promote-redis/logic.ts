import type { DrDependencies } from '../shared/dependencies';
import { RunOnlyInputSchema } from '../shared/schemas';
import { actionFor, defineStep } from '../shared/step';

/** Promote the Redis replica, then hydrate hot keys from the latest feature snapshot, verified against its manifest. */
export const promoteRedisStep = defineStep({
  name: 'promote-redis',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'redis'>) {
    const redis = deps.redis(run.targetRegion);
    const before = await redis.status();
    if (run.dryRun) {
      const hydration = await redis.hydrateFromSnapshot({ dryRun: true });
      return {
        action: actionFor(true, false),
        observed: { before, snapshot: hydration.snapshot, verified: hydration.verified },
        changes: [
          ...(before.role === 'master' ? [] : [`would promote the Redis replica in ${run.targetRegion}`]),
          `would hydrate hot keys from snapshot ${hydration.snapshot}`,
        ],
        result: {
          promoted: before.role === 'master',
          snapshot: hydration.snapshot,
          keysWritten: 0,
          keys: before.keys,
        },
      };
    }
    const promoted = await redis.promote();
    const hydration = await redis.hydrateFromSnapshot({ dryRun: false });
    const after = await redis.status();
    const changes = [
      ...(promoted.alreadyDone ? [] : [`promoted the Redis replica in ${run.targetRegion}`]),
      ...(hydration.alreadyDone
        ? []
        : [`hydrated ${hydration.keysWritten} hot keys from verified snapshot ${hydration.snapshot}`]),
    ];
    return {
      action: actionFor(false, changes.length === 0),
      observed: { before, after, hydration },
      changes,
      result: {
        promoted: true,
        snapshot: hydration.snapshot,
        keysWritten: hydration.keysWritten,
        keys: after.keys,
      },
    };
  },
});
