import type { MirrorCheckpoint } from '../../kafka/mirror-checkpoint';
import type { TranslatedGroupOffsets } from '../contracts';

/**
 * Consumer-group offset translation from MirrorMaker 2 checkpoints, as pure decisions.
 * A checkpoint says: group G had committed upstream offset U on the source partition,
 * which is downstream offset D on the mirrored partition. MM2 translates conservatively
 * (D is at or before the record U maps to, by at most `offset.lag.max`), so resuming at
 * D skips nothing and re-delivers at most that many records.
 */

/** The latest checkpoint per group, mirrored topic and partition: the last in log order wins (one key, one partition). */
export function latestCheckpoints(checkpointsInLogOrder: Iterable<MirrorCheckpoint>): MirrorCheckpoint[] {
  const latest = new Map<string, MirrorCheckpoint>();
  for (const c of checkpointsInLogOrder)
    latest.set(`${c.consumerGroup}\u0000${c.topic}\u0000${c.partition}`, c);
  return [...latest.values()];
}

/** Checkpoints of the mirrored critical topics only, by group, sorted for stable evidence. */
export function checkpointsByGroup(
  checkpoints: MirrorCheckpoint[],
  mirroredTopics: ReadonlySet<string>,
): Map<string, MirrorCheckpoint[]> {
  const byGroup = new Map<string, MirrorCheckpoint[]>();
  for (const c of checkpoints) {
    if (!mirroredTopics.has(c.topic)) continue;
    byGroup.set(c.consumerGroup, [...(byGroup.get(c.consumerGroup) ?? []), c]);
  }
  for (const list of byGroup.values())
    list.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  return new Map([...byGroup.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

export interface GroupOnTarget {
  /** describeGroups state; `Dead` or absent when the group does not exist there. */
  state: string;
  members: number;
}

const ACTIVE_STATES = new Set(['Stable', 'PreparingRebalance', 'CompletingRebalance', 'AwaitingSync']);

/** Active = has members or is rebalancing: committing offsets under it would race its consumers (and Kafka refuses). */
export function isGroupActive(group: GroupOnTarget | undefined): boolean {
  if (!group) return false;
  return group.members > 0 || ACTIVE_STATES.has(group.state);
}

export interface TranslatedPartitionOffset {
  topic: string;
  partition: number;
  /** Translated downstream offset to commit on the target. */
  offset: string;
  upstreamOffset: string;
  /** The target's committed offset before, null when none. */
  previousOffset: string | null;
  decision: 'commit' | 'already-at-or-beyond';
}

export interface GroupTranslation extends TranslatedGroupOffsets {
  offsets: TranslatedPartitionOffset[];
  /** Dry run: what would have been committed. */
  dryRun: boolean;
  /** Source partitions the group had committed offsets on, without any checkpoint (known only when given the source snapshot). */
  partitionsWithoutCheckpoint?: { topic: string; partition: number; sourceOffset: string }[];
  /** Offsets read back from the target after committing. */
  verified?: boolean;
}

export const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * What to do for one group: skip it while active on the target; otherwise commit every
 * partition whose target offset is behind the translated one (never move a group back).
 */
export function planGroupTranslation(input: {
  group: string;
  checkpoints: MirrorCheckpoint[];
  onTarget: GroupOnTarget | undefined;
  /** Committed offsets of the group on the target, by partitionKey; absent = none. */
  targetCommitted: ReadonlyMap<string, bigint>;
  dryRun: boolean;
}): GroupTranslation {
  const offsets: TranslatedPartitionOffset[] = input.checkpoints.map((c) => {
    const previous = input.targetCommitted.get(partitionKey(c.topic, c.partition));
    return {
      topic: c.topic,
      partition: c.partition,
      offset: c.downstreamOffset.toString(),
      upstreamOffset: c.upstreamOffset.toString(),
      previousOffset: previous === undefined ? null : previous.toString(),
      decision: previous !== undefined && previous >= c.downstreamOffset ? 'already-at-or-beyond' : 'commit',
    };
  });
  const base = { group: input.group, offsets, committed: false, dryRun: input.dryRun };
  if (offsets.length === 0) return { ...base, skippedReason: 'no-checkpoint' };
  if (isGroupActive(input.onTarget)) return { ...base, skippedReason: 'group-active-on-target' };
  if (offsets.every((o) => o.decision === 'already-at-or-beyond'))
    return { ...base, skippedReason: 'already-at-or-beyond' };
  return base;
}

/** The commits a plan needs, one batch per topic (kafkajs commits one topic per call). */
export function commitsByTopic(plan: GroupTranslation): Map<string, { partition: number; offset: string }[]> {
  const byTopic = new Map<string, { partition: number; offset: string }[]>();
  for (const o of plan.offsets) {
    if (o.decision !== 'commit') continue;
    byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), { partition: o.partition, offset: o.offset }]);
  }
  return byTopic;
}

export type SourceOffsetsSnapshot = Record<string, Record<string, Record<number, string>>>;

/**
 * Groups (and partitions) with committed offsets on the source's critical topics but no
 * checkpoint on the target: consumers that would fall back to `auto.offset.reset` there.
 */
export function partitionsWithoutCheckpoint(
  source: SourceOffsetsSnapshot,
  checkpoints: MirrorCheckpoint[],
  mirroredTopicOf: (topic: string) => string,
): Map<string, { topic: string; partition: number; sourceOffset: string }[]> {
  const have = new Set(
    checkpoints.map((c) => `${c.consumerGroup}\u0000${partitionKey(c.topic, c.partition)}`),
  );
  const missing = new Map<string, { topic: string; partition: number; sourceOffset: string }[]>();
  for (const [group, topics] of Object.entries(source)) {
    for (const [topic, partitions] of Object.entries(topics)) {
      for (const [partition, offset] of Object.entries(partitions)) {
        const mirrored = mirroredTopicOf(topic);
        if (have.has(`${group}\u0000${partitionKey(mirrored, Number(partition))}`)) continue;
        missing.set(group, [
          ...(missing.get(group) ?? []),
          { topic: mirrored, partition: Number(partition), sourceOffset: offset },
        ]);
      }
    }
  }
  return missing;
}
