/**
 * Failback, rebuild: Kafka replication reversed. The flow from the old primary into the current
 * one is stopped and a flow from the current primary back into the old one started (MirrorMaker
 * 2 with checkpoints and consumer-group offset sync, as the forward flow), so consumer offsets
 * committed on the current primary can be translated back when the failback switches Kafka over.
 * Ready when the mirrored topics exist on the old primary and the lag is within the objective.
 *
 * Regions: `run.sourceRegion` is the CURRENT primary (region B after a failover A → B), the new
 * replication source; `run.targetRegion` is the region mirrored into (A, the region the failback
 * returns to): B's `orders` appears there as `<alias of B>.orders`.
 */
import * as z from 'zod';
import type { MirrorFlow, TopicReplicationLag } from '../shared/adapters/contracts';
import type { DrDependencies, RebuildDependencies } from '../shared/dependencies';
import { InvalidInputError, NotReadyYetError, TransientError } from '../shared/errors';
import { RunSchema } from '../shared/run';
import { actionFor, defineStep } from '../shared/step';

const InputSchema = z
  .object({ run: RunSchema, lagTimeoutSeconds: z.number().positive().max(600).default(60) })
  .strict();

const POLL_MS = 1000;

export const reverseKafkaMirroringStep = defineStep({
  name: 'reverse-kafka-mirroring',
  input: InputSchema,
  async run(
    { run, lagTimeoutSeconds },
    deps: Pick<RebuildDependencies, 'mirrorControl'> & Pick<DrDependencies, 'kafka' | 'topology' | 'sleep'>,
  ) {
    const { sourceRegion: source, targetRegion: target } = run;
    if (source === target) throw new InvalidInputError(`sourceRegion and targetRegion are both ${source}`);
    const mirror = deps.mirrorControl();
    const before = await mirror.flows();
    const isWanted = (f: (typeof before)[number]) => f.sourceRegion === source && f.targetRegion === target;
    const others = before.filter((f) => f.state === 'running' && !isWanted(f));
    const alreadyDone = before.some((f) => f.state === 'running' && isWanted(f)) && others.length === 0;
    if (run.dryRun) {
      return {
        action: actionFor(true, alreadyDone),
        observed: { flowsBefore: before },
        changes: alreadyDone
          ? []
          : [
              ...others.map((f) => `would stop ${f.mechanism} ${f.sourceRegion} → ${f.targetRegion}`),
              `would start replication ${source} → ${target} with checkpoints and group offset sync`,
            ],
        result: { reversed: alreadyDone, flow: null as MirrorFlow | null, lag: [] as TopicReplicationLag[] },
      };
    }
    const replicated = alreadyDone ? null : await mirror.replicate(source, target);
    const flow = replicated?.flow ?? before.find((f) => f.state === 'running' && isWanted(f))!;

    // Verified from the data: the mirrored topics exist on the target and the lag is within the objective.
    const kafka = deps.kafka(source, target);
    const objective = deps.topology.kafka.maxLagSeconds;
    const waitedFrom = Date.now();
    // Right after MirrorMaker 2 creates the mirrored topics their leaders may still be moving: a transient
    // error while reading the lag is one more reason to look again, until the time is up.
    let lag: TopicReplicationLag[] | null = null;
    let lastError: string | null = null;
    for (;;) {
      try {
        lag = await kafka.replicationLag();
        lastError = null;
        if (!lag.some((l) => l.lagSeconds > objective)) break;
      } catch (err) {
        if (!(err instanceof TransientError)) throw err;
        lastError = err.message;
      }
      if (Date.now() - waitedFrom > lagTimeoutSeconds * 1000)
        throw new NotReadyYetError(
          `replication ${source} → ${target} is not within ${objective} s after ${lagTimeoutSeconds} s: ${
            lastError ??
            (lag ?? [])
              .filter((l) => l.lagSeconds > objective)
              .map((l) => `${l.topic} ${l.lagSeconds} s / ${l.messagesBehind} messages behind`)
              .join(', ')
          }`,
          { lag, lastError, flow },
        );
      await deps.sleep(POLL_MS);
    }
    return {
      action: actionFor(false, alreadyDone),
      observed: {
        flowsBefore: before,
        flowsAfter: await mirror.flows(),
        lagObjectiveSeconds: objective,
        lagWaitedMs: Date.now() - waitedFrom,
      },
      changes: replicated
        ? [
            ...replicated.stopped.map((f) => `stopped ${f.mechanism} ${f.sourceRegion} → ${f.targetRegion}`),
            `started ${flow.mechanism} ${source} → ${target} (${flow.mirroredTopics.join(', ')} on ${target}) with checkpoints and group offset sync`,
          ]
        : [],
      result: { reversed: true, flow, lag: lag ?? [] },
    };
  },
});
