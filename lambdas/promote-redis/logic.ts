import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { RunSchema } from '../shared/run';
import { actionFor, defineStep } from '../shared/step';

const InputSchema = z
  .object({
    run: RunSchema,
    /**
     * Replay the latest feature snapshot after promoting (failover: the replica may have lost
     * its primary mid-stream). A planned switchover passes false: the replica is in sync with
     * a live primary, and a snapshot would overwrite newer values with older ones.
     */
    hydrate: z.boolean().default(true),
  })
  .strict();

/** Promote the Redis replica, then (unless told not to) hydrate hot keys from the latest feature snapshot, verified against its manifest. */
export const promoteRedisStep = defineStep({
  name: 'promote-redis',
  input: InputSchema,
  async run({ run, hydrate }, deps: Pick<DrDependencies, 'redis'>) {
    const redis = deps.redis(run.targetRegion);
    const before = await redis.status();
    if (!hydrate) {
      if (run.dryRun)
        return {
          action: actionFor(true, before.role === 'master'),
          observed: { before },
          changes: before.role === 'master' ? [] : [`would promote the Redis replica in ${run.targetRegion}`],
          result: {
            promoted: before.role === 'master',
            snapshot: null as string | null,
            keysWritten: 0,
            keys: before.keys,
          },
        };
      const promoted = await redis.promote();
      const after = await redis.status();
      return {
        action: actionFor(false, promoted.alreadyDone),
        observed: { before, after },
        changes: promoted.alreadyDone
          ? []
          : [`promoted the Redis replica in ${run.targetRegion} (no snapshot replay)`],
        result: { promoted: true, snapshot: null as string | null, keysWritten: 0, keys: after.keys },
      };
    }
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
