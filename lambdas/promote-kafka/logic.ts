import type { DrDependencies } from '../shared/dependencies';
import { PromotionFailedError } from '../shared/errors';
import { RunOnlyInputSchema } from '../shared/schemas';
import { actionFor, defineStep } from '../shared/step';

/**
 * Make the MirrorMaker 2 target cluster the one consumers use: commit every consumer
 * group's offsets translated from MM2 checkpoints (for groups not already active there),
 * and check each mirrored partition's ISR against min.insync.replicas before writes resume.
 */
export const promoteKafkaStep = defineStep({
  name: 'promote-kafka',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'kafka'>) {
    const kafka = deps.kafka(run.sourceRegion, run.targetRegion);
    const isr = await kafka.checkIsr();
    const underReplicated = isr.filter((p) => !p.ok);
    if (underReplicated.length > 0) {
      throw new PromotionFailedError(
        `Kafka in ${run.targetRegion}: ${underReplicated.length} partition(s) below min.insync.replicas (${underReplicated.map((p) => `${p.topic}-${p.partition}`).join(', ')})`,
        { underReplicated },
      );
    }
    const groups = await kafka.translateAndCommitOffsets({ dryRun: run.dryRun });
    const committed = groups.filter((g) => g.committed);
    return {
      action: actionFor(run.dryRun, committed.length === 0),
      observed: { isr, groups },
      changes: run.dryRun
        ? groups
            .filter((g) => !g.skippedReason)
            .map((g) => `would commit translated offsets for group ${g.group}`)
        : committed.map(
            (g) => `committed translated offsets for group ${g.group} on ${g.offsets.length} partition(s)`,
          ),
      result: {
        groups: groups.map((g) => ({
          group: g.group,
          committed: g.committed,
          skippedReason: g.skippedReason ?? null,
        })),
        isrOk: true,
      },
    };
  },
});
