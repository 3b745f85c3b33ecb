/**
 * Failback, rebuild: the old primary's PostgreSQL becomes a streaming standby (RDS read
 * replica, Aurora global secondary) of the current primary.
 *
 * Regions: `run.sourceRegion` is the CURRENT primary (the replication source, region B after a
 * failover A → B); `run.targetRegion` is the region being rebuilt into a replica (A, the region
 * the failback returns to). The failback run names them that way round: traffic goes from
 * source to target at the end.
 *
 * Observes first: already replicating from the source → recorded no-op. A dry run reports the
 * method it would use and why. `method` forces pg_rewind or pg_basebackup (self-managed only);
 * `auto` picks pg_rewind when the timelines allow, and falls back to a base backup when it fails.
 */
import * as z from 'zod';
import type { RebuildDependencies } from '../shared/dependencies';
import { InvalidInputError } from '../shared/errors';
import { RunSchema } from '../shared/run';
import { actionFor, defineStep } from '../shared/step';

const InputSchema = z
  .object({
    run: RunSchema,
    method: z.enum(['auto', 'pg_rewind', 'pg_basebackup']).default('auto'),
  })
  .strict();

export const rebuildPostgresStandbyStep = defineStep({
  name: 'rebuild-postgres-standby',
  input: InputSchema,
  async run({ run, method }, deps: Pick<RebuildDependencies, 'postgresRebuilder'>) {
    if (run.sourceRegion === run.targetRegion)
      throw new InvalidInputError(`sourceRegion and targetRegion are both ${run.sourceRegion}`);
    const rebuilder = deps.postgresRebuilder(run.sourceRegion, run.targetRegion);
    const plan = await rebuilder.inspect();
    if (plan.alreadyReplica || run.dryRun) {
      return {
        action: actionFor(run.dryRun, plan.alreadyReplica),
        observed: { plan },
        changes: plan.alreadyReplica
          ? []
          : [
              `would rebuild PostgreSQL in ${run.targetRegion} as a standby of ${run.sourceRegion} with ${method === 'auto' ? plan.method : method} (${plan.reason})`,
            ],
        result: {
          rebuilt: plan.alreadyReplica,
          method: plan.alreadyReplica ? 'none' : method === 'auto' ? plan.method : method,
          reason: plan.reason,
          lsns: {} as Record<string, string | null>,
          timingsMs: {} as Record<string, number>,
        },
      };
    }
    const rebuilt = await rebuilder.rebuild({ method });
    return {
      action: actionFor(false, rebuilt.alreadyDone),
      observed: {
        plan,
        verification: rebuilt.verification,
        ...(rebuilt.fallbackFrom ? { fallbackFrom: rebuilt.fallbackFrom } : {}),
      },
      changes: rebuilt.alreadyDone
        ? []
        : [
            `rebuilt PostgreSQL in ${run.targetRegion} as a streaming standby of ${run.sourceRegion} with ${rebuilt.method} in ${rebuilt.timingsMs.total ?? '?'} ms (${rebuilt.reason})`,
          ],
      result: {
        rebuilt: true,
        method: rebuilt.method,
        reason: rebuilt.reason,
        lsns: rebuilt.lsns,
        timingsMs: rebuilt.timingsMs,
      },
    };
  },
});
