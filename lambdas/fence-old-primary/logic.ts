import type { DrDependencies } from '../shared/dependencies';
import { FencingFailedError } from '../shared/errors';
import { RunOnlyInputSchema } from '../shared/schemas';
import { actionFor, defineStep } from '../shared/step';

/**
 * Fence the old primary before the new one takes writes: PostgreSQL made read-only with
 * its writers terminated (verified by a refused write), Redis stopped from taking writes.
 * An unreachable old primary cannot be fenced; that is recorded, and DNS cutover plus the
 * quiesced gateway keep clients away from it.
 */
export const fenceOldPrimaryStep = defineStep({
  name: 'fence-old-primary',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'postgres' | 'redis'>) {
    const postgres = deps.postgres(run.sourceRegion);
    const redis = deps.redis(run.sourceRegion);
    const [pgStatus, redisStatus] = await Promise.all([postgres.status(), redis.status()]);
    const observed = { postgres: pgStatus, redis: redisStatus };
    const changes: string[] = [];
    let allAlreadyDone = true;
    const outcome: Record<string, unknown> = {};

    if (!pgStatus.reachable) {
      outcome.postgres = { fenced: false, unreachable: true };
    } else if (run.dryRun) {
      if (!pgStatus.readOnly)
        changes.push(
          `would make PostgreSQL in ${run.sourceRegion} read-only and terminate application sessions`,
        );
      outcome.postgres = { fenced: pgStatus.readOnly };
    } else {
      const fenced = await postgres.fence();
      if (!fenced.verifiedWriteRefused) {
        throw new FencingFailedError(
          `PostgreSQL in ${run.sourceRegion} still accepted a write after fencing`,
          { fenced },
        );
      }
      allAlreadyDone &&= fenced.alreadyDone;
      if (!fenced.alreadyDone)
        changes.push(
          `made PostgreSQL in ${run.sourceRegion} read-only, terminated ${fenced.terminatedSessions} application sessions, verified a write is refused`,
        );
      outcome.postgres = { fenced: true, ...fenced };
    }

    if (!redisStatus.reachable) {
      outcome.redis = { fenced: false, unreachable: true };
    } else if (run.dryRun) {
      changes.push(`would stop Redis in ${run.sourceRegion} from accepting writes`);
      outcome.redis = { fenced: false };
    } else {
      const fenced = await redis.fence();
      allAlreadyDone &&= fenced.alreadyDone;
      if (!fenced.alreadyDone) changes.push(`stopped Redis in ${run.sourceRegion} from accepting writes`);
      outcome.redis = { fenced: true, ...fenced };
    }
    const nothingReachable = !pgStatus.reachable && !redisStatus.reachable;
    return {
      action: nothingReachable ? 'observed' : actionFor(run.dryRun, allAlreadyDone),
      observed,
      changes,
      result: outcome,
    };
  },
});
