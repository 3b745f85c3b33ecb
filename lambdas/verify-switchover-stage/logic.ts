import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { VerificationFailedError } from '../shared/errors';
import { RunSchema } from '../shared/run';
import { defineStep } from '../shared/step';

export const SWITCHOVER_STAGES = ['kafka', 'postgres', 'workloads'] as const;

const InputSchema = z.object({ run: RunSchema, stage: z.enum(SWITCHOVER_STAGES) }).strict();

/**
 * A planned switchover is staggered — Kafka, then PostgreSQL, then the workloads — and each
 * stage is verified before the next starts, from what the servers and DNS say now:
 * kafka: its bootstrap record routes to the target and every mirrored partition there is in
 * sync; postgres: the target is a writable primary, the source refuses writes, the writer
 * record routes to the target; workloads: every trading endpoint routes to the target and
 * its active-region parameter names it. A stage that does not hold fails the switchover.
 */
export const verifySwitchoverStageStep = defineStep({
  name: 'verify-switchover-stage',
  input: InputSchema,
  async run({ run, stage }, deps: Pick<DrDependencies, 'postgres' | 'kafka' | 'router' | 'flags'>) {
    const routes = await deps.router.activeRegions();
    const problems: string[] = [];
    const routed = (endpoint: string) => {
      if (routes[endpoint] !== run.targetRegion)
        problems.push(`${endpoint} routes to ${routes[endpoint] ?? 'nowhere'}, not ${run.targetRegion}`);
    };
    let observed: Record<string, unknown> = { routes };
    if (stage === 'kafka') {
      const kafka = deps.kafka(run.sourceRegion, run.targetRegion);
      const [health, isr, consumers] = await Promise.all([
        kafka.health(),
        kafka.checkIsr(),
        kafka.consumerLagOnTarget(),
      ]);
      routed('kafkaBootstrap');
      if (!health.reachable)
        problems.push(`Kafka in ${run.targetRegion} unreachable: ${health.error ?? 'no answer'}`);
      for (const p of isr.filter((x) => !x.ok))
        problems.push(
          `${p.topic}-${p.partition} has ${p.isr} in-sync replicas, needs ${p.minInsyncReplicas}`,
        );
      observed = { ...observed, health, isr, consumers };
    } else if (stage === 'postgres') {
      const [target, source] = await Promise.all([
        deps.postgres(run.targetRegion).status(),
        deps.postgres(run.sourceRegion).status(),
      ]);
      routed('postgresWriter');
      if (target.role !== 'primary' || target.readOnly)
        problems.push(`PostgreSQL in ${run.targetRegion} is not a writable primary (role ${target.role})`);
      if (source.reachable && !source.readOnly)
        problems.push(`PostgreSQL in ${run.sourceRegion} still accepts writes`);
      observed = { ...observed, target, source };
    } else {
      const flags = await deps.flags(run.targetRegion).read();
      for (const endpoint of Object.keys(routes)) routed(endpoint);
      if (flags.activeRegion !== run.targetRegion)
        problems.push(`the active-region parameter in ${run.targetRegion} names ${flags.activeRegion}`);
      observed = { ...observed, flags };
    }
    if (run.dryRun)
      // Nothing was switched: what does not hold yet is what the stage would change.
      return {
        action: 'dry-run' as const,
        observed: { ...observed, notYet: problems },
        changes: [],
        result: { stage, verified: problems.length === 0 },
      };
    if (problems.length > 0)
      throw new VerificationFailedError(
        `switchover stage ${stage} does not hold: ${problems.join('; ')}`,
        observed,
      );
    return { action: 'observed' as const, observed, changes: [], result: { stage, verified: true } };
  },
});
