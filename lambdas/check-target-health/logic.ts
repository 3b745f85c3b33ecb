import type { DrDependencies } from '../shared/dependencies';
import { TargetUnhealthyError } from '../shared/errors';
import type { Run } from '../shared/run';
import { RunOnlyInputSchema } from '../shared/schemas';
import { defineStep } from '../shared/step';

/**
 * Reads the target region's stores and says what keeps it from taking over: its PostgreSQL
 * must answer with a role, its Kafka cluster and Redis must answer. Shared by the failover's
 * pre-flight and the failback's request validation and readiness.
 */
export async function observeTargetHealth(
  run: Pick<Run, 'sourceRegion' | 'targetRegion'>,
  deps: Pick<DrDependencies, 'postgres' | 'kafka' | 'redis'>,
) {
  const [postgres, kafka, redis] = await Promise.all([
    deps.postgres(run.targetRegion).status(),
    deps.kafka(run.sourceRegion, run.targetRegion).health(),
    deps.redis(run.targetRegion).status(),
  ]);
  const problems: string[] = [];
  if (!postgres.reachable)
    problems.push(`PostgreSQL in ${run.targetRegion} unreachable: ${postgres.error ?? 'no answer'}`);
  else if (postgres.role === 'unknown') problems.push(`PostgreSQL in ${run.targetRegion} reports no role`);
  if (!kafka.reachable)
    problems.push(`Kafka in ${run.targetRegion} unreachable: ${kafka.error ?? 'no answer'}`);
  if (!redis.reachable) problems.push(`Redis in ${run.targetRegion} unreachable`);
  return { observed: { postgres, kafka, redis }, problems };
}

/**
 * Pre-flight: can the target region take over? Its PostgreSQL must be a standby (or already
 * the primary, on a re-drive), its Kafka cluster and Redis must answer.
 */
export const checkTargetHealthStep = defineStep({
  name: 'check-target-health',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'postgres' | 'kafka' | 'redis'>) {
    const { observed, problems } = await observeTargetHealth(run, deps);
    if (problems.length > 0) throw new TargetUnhealthyError(problems.join('; '), observed);
    return {
      action: 'observed' as const,
      observed,
      changes: [],
      result: { healthy: true, postgresRole: observed.postgres.role },
    };
  },
});
