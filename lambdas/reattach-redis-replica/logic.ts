/**
 * Failback, rebuild: the old primary's Redis becomes a replica of the current primary's
 * (REPLICAOF), its write fence cleared once it is a replica, caught up before the step ends.
 *
 * Regions: `run.sourceRegion` is the CURRENT primary (region B after a failover A → B, the
 * replication source); `run.targetRegion` is the region re-attached as its replica (A, the region
 * the failback returns to).
 */
import * as z from 'zod';
import type { RebuildDependencies } from '../shared/dependencies';
import { InvalidInputError } from '../shared/errors';
import { RunSchema } from '../shared/run';
import { actionFor, defineStep } from '../shared/step';

const InputSchema = z
  .object({ run: RunSchema, catchUpTimeoutSeconds: z.number().positive().max(600).default(60) })
  .strict();

export const reattachRedisReplicaStep = defineStep({
  name: 'reattach-redis-replica',
  input: InputSchema,
  async run({ run, catchUpTimeoutSeconds }, deps: Pick<RebuildDependencies, 'redisReplica'>) {
    if (run.sourceRegion === run.targetRegion)
      throw new InvalidInputError(`sourceRegion and targetRegion are both ${run.sourceRegion}`);
    const attacher = deps.redisReplica(run.sourceRegion, run.targetRegion);
    const before = await attacher.inspect();
    const alreadyDone = before.attached && !before.fenceSet;
    if (alreadyDone || run.dryRun) {
      return {
        action: actionFor(run.dryRun, alreadyDone),
        observed: { before },
        changes: alreadyDone
          ? []
          : [
              `would make Redis in ${run.targetRegion} (${before.role}) a replica of ${run.sourceRegion}${before.fenceSet ? ' and clear its write fence' : ''}`,
            ],
        result: {
          attached: alreadyDone,
          replicaOffset: before.replicaOffset,
          primaryOffset: before.primaryOffset,
          keys: before.keys,
        },
      };
    }
    const attached = await attacher.attach({ timeoutMs: catchUpTimeoutSeconds * 1000 });
    const changes = attached.alreadyDone
      ? []
      : [
          `made Redis in ${run.targetRegion} a replica of ${run.sourceRegion} (was ${attached.before.role}${attached.before.master ? ` of ${attached.before.master}` : ''}); caught up at offset ${attached.after.replicaOffset} in ${attached.waitedMs} ms`,
          ...(attached.fenceCleared
            ? [`cleared the old primary's write fence (min-replicas-to-write) in ${run.targetRegion}`]
            : []),
        ];
    return {
      action: actionFor(false, attached.alreadyDone),
      observed: { before: attached.before, after: attached.after, waitedMs: attached.waitedMs },
      changes,
      result: {
        attached: true,
        replicaOffset: attached.after.replicaOffset,
        primaryOffset: attached.after.primaryOffset,
        keys: attached.after.keys,
      },
    };
  },
});
