import type { DrDependencies } from '../shared/dependencies';
import { RunOnlyInputSchema } from '../shared/schemas';
import { defineStep } from '../shared/step';

/** Audit-trail and trading consumers can resume on the target: every group has offsets, and their lag. */
export const checkConsumerLagStep = defineStep({
  name: 'check-consumer-lag',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'kafka'>) {
    const lag = await deps.kafka(run.sourceRegion, run.targetRegion).consumerLagOnTarget();
    const withoutOffsets = lag.filter((l) => l.partitionsWithoutOffset > 0);
    return {
      action: 'observed' as const,
      observed: { lag },
      changes: [],
      result: {
        groups: lag.length,
        totalLag: lag.reduce((sum, l) => sum + l.lag, 0),
        groupsWithoutOffsets: withoutOffsets.map((l) => `${l.group}/${l.topic}`),
      },
    };
  },
});
