import { Kafka, logLevel, type Admin, type ConfigResourceTypes, type KafkaConfig } from 'kafkajs';
import { classifyError, TargetUnhealthyError, TransientError } from '../../errors';
import { decodeMirrorCheckpoint } from '../../kafka/mirror-checkpoint';
import type { Topology } from '../../topology';
import type { KafkaAdapter } from '../contracts';
import { groupTopicLag, type GroupTopicLag } from './consumer-lag';
import { evaluateIsr, minInsyncReplicasOf, type PartitionIsr } from './isr-check';
import { decodeOffsetSync, latestOffsetSyncs, offsetSyncsTopic, topicPartitionKey } from './offset-sync';
import {
  checkpointsByGroup,
  commitsByTopic,
  latestCheckpoints,
  partitionKey,
  partitionsWithoutCheckpoint,
  planGroupTranslation,
  type GroupOnTarget,
  type GroupTranslation,
  type SourceOffsetsSnapshot,
} from './offset-translation';
import { partitionLag, topicLag, type PartitionLag, type TopicLagDetail } from './replication-lag';
import { firstRecordsFrom, readTopicToEnd, type OffsetRange, type TopicReaderOptions } from './topic-reader';

export interface KafkajsAdapterProps {
  /** Bootstrap brokers of the MirrorMaker 2 source cluster (the failed/old primary region). */
  readonly sourceBrokers: string[];
  /** Bootstrap brokers of the target cluster (the region taking over). */
  readonly targetBrokers: string[];
  /** MM2 alias of the source cluster: mirrored topics on the target are `<sourceAlias>.<topic>`. */
  readonly sourceAlias: string;
  /** MM2 alias of the target cluster: names the offset-syncs topic `mm2-offset-syncs.<targetAlias>.internal`. */
  readonly targetAlias: string;
  /** Upstream names of the topics that matter, e.g. orders, fills, risk_events. */
  readonly criticalTopics: string[];
  /** MM2 `offset-syncs.topic.location`. @default 'source' */
  readonly offsetSyncsLocation?: 'source' | 'target';
  /** DefaultReplicationPolicy separator. @default '.' */
  readonly replicationSeparator?: string;
  /** @default 'tradepulse-dr' */
  readonly clientId?: string;
  /** TLS/SASL and other kafkajs client settings, applied to both clusters. */
  readonly clientConfig?: Omit<KafkaConfig, 'brokers' | 'clientId'>;
  /** Time limit for reading an internal topic to its end. @default 30_000 */
  readonly readTimeoutMs?: number;
  /** Prefix of the throw-away consumer groups used to read topics. @default 'tradepulse-dr-reader' */
  readonly readerGroupPrefix?: string;
  /** Clock for lag ages (tests). @default Date.now */
  readonly now?: () => number;
}

/** Kafka errors worth retrying (network, leadership moves, timeouts) become TransientError. */
function asDrError(err: unknown): unknown {
  const e = err as { name?: string; retriable?: boolean; message?: string };
  if (
    e?.retriable === true ||
    [
      'KafkaJSConnectionError',
      'KafkaJSNumberOfRetriesExceeded',
      'KafkaJSRequestTimeoutError',
      'KafkaJSConnectionClosedError',
    ].includes(e?.name ?? '')
  ) {
    return new TransientError(`${e.name}: ${e.message}`);
  }
  return classifyError(err);
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asDrError(err);
  }
}

const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

/**
 * KafkaAdapter over kafkajs for a MirrorMaker 2 pair. Reads on the source are only for
 * lag and offset snapshots taken while it is alive; offset translation and ISR checks use
 * the target alone (static stability).
 */
export class KafkajsAdapter implements KafkaAdapter {
  private readonly source: Kafka;
  private readonly target: Kafka;
  private readonly admins = new Map<'source' | 'target', Promise<Admin>>();
  private readonly reader: TopicReaderOptions;
  private readonly now: () => number;
  private readonly separator: string;

  constructor(private readonly props: KafkajsAdapterProps) {
    if (props.criticalTopics.length === 0) throw new RangeError('criticalTopics must not be empty');
    const client = (side: string, brokers: string[]) =>
      new Kafka({
        logLevel: logLevel.NOTHING,
        connectionTimeout: 3000,
        requestTimeout: 10_000,
        retry: { retries: 3, initialRetryTime: 200 },
        ...props.clientConfig,
        clientId: `${props.clientId ?? 'tradepulse-dr'}-${side}`,
        brokers,
      });
    this.source = client('source', props.sourceBrokers);
    this.target = client('target', props.targetBrokers);
    this.reader = {
      groupPrefix: props.readerGroupPrefix ?? 'tradepulse-dr-reader',
      timeoutMs: props.readTimeoutMs ?? 30_000,
    };
    this.now = props.now ?? Date.now;
    this.separator = props.replicationSeparator ?? '.';
  }

  /** `orders` → `a.orders`. */
  mirroredTopic(topic: string): string {
    return `${this.props.sourceAlias}${this.separator}${topic}`;
  }

  get checkpointsTopic(): string {
    return `${this.props.sourceAlias}${this.separator}checkpoints.internal`;
  }

  private admin(side: 'source' | 'target'): Promise<Admin> {
    let admin = this.admins.get(side);
    if (!admin) {
      const created = (side === 'source' ? this.source : this.target).admin();
      admin = created.connect().then(() => created);
      admin.catch(() => this.admins.delete(side));
      this.admins.set(side, admin);
    }
    return admin;
  }

  async health(): Promise<{ reachable: boolean; brokers: number; error?: string; clusterId?: string }> {
    try {
      const cluster = await (await this.admin('target')).describeCluster();
      return { reachable: true, brokers: cluster.brokers.length, clusterId: cluster.clusterId };
    } catch (err) {
      return { reachable: false, brokers: 0, error: (err as Error).message };
    }
  }

  /** See replication-lag.ts for the method and why it errs on the side of overstating. */
  replicationLag(): Promise<TopicLagDetail[]> {
    return guarded(async () => {
      const source = await this.admin('source');
      const target = await this.admin('target');
      const syncsOnSource = (this.props.offsetSyncsLocation ?? 'source') === 'source';
      // 1. offset syncs, 2. mirror end offsets, 3. source offsets: this order keeps races conservative.
      const syncRecords = await readTopicToEnd(
        syncsOnSource ? this.source : this.target,
        syncsOnSource ? source : target,
        offsetSyncsTopic(this.props.targetAlias),
        this.reader,
      );
      const syncs = latestOffsetSyncs(syncRecords.map((r) => decodeOffsetSync(r.key, r.value)));
      const mirrorEnds = new Map<string, Map<number, bigint>>();
      const existingOnTarget = new Set(await target.listTopics());
      for (const topic of this.props.criticalTopics) {
        const mirrored = this.mirroredTopic(topic);
        const ends = existingOnTarget.has(mirrored) ? await target.fetchTopicOffsets(mirrored) : [];
        mirrorEnds.set(topic, new Map(ends.map((o) => [o.partition, BigInt(o.high)])));
      }
      const result: TopicLagDetail[] = [];
      for (const topic of this.props.criticalTopics) {
        const sourceOffsets = await source.fetchTopicOffsets(topic);
        const lags: PartitionLag[] = sourceOffsets.map((o) =>
          partitionLag({
            partition: o.partition,
            sourceStartOffset: BigInt(o.low),
            sourceEndOffset: BigInt(o.high),
            targetEndOffset: mirrorEnds.get(topic)!.get(o.partition) ?? null,
            latestSync: syncs.get(topicPartitionKey(topic, o.partition)) ?? null,
          }),
        );
        const behind = new Map<number, OffsetRange>(
          lags
            .filter((l) => l.messagesBehind > 0n)
            .map((l) => [l.partition, { from: l.nextOffsetToMirror, end: l.sourceEndOffset }]),
        );
        const oldest = await firstRecordsFrom(this.source, source, topic, behind, this.reader);
        result.push(
          topicLag(topic, lags, new Map([...oldest].map(([p, r]) => [p, r.timestampMs])), this.now()),
        );
      }
      return result;
    });
  }

  /** Committed offsets of every consumer group on the source's critical topics: group → topic → partition → offset. */
  snapshotSourceOffsets(): Promise<SourceOffsetsSnapshot> {
    return guarded(async () => {
      const source = await this.admin('source');
      const { groups } = await source.listGroups();
      const snapshot: SourceOffsetsSnapshot = {};
      const groupIds = groups
        .map((g) => g.groupId)
        .filter((g) => !g.startsWith(this.reader.groupPrefix))
        .sort();
      for (const groupId of groupIds) {
        const topics = await source.fetchOffsets({ groupId, topics: this.props.criticalTopics });
        for (const { topic, partitions } of topics) {
          for (const { partition, offset } of partitions) {
            if (BigInt(offset) < 0n) continue; // nothing committed
            ((snapshot[groupId] ??= {})[topic] ??= {})[partition] = offset;
          }
        }
      }
      return snapshot;
    });
  }

  /**
   * Commits on the target, for every group MM2 has checkpointed and that is not active
   * there, the translated offsets of the mirrored critical topics, never moving a group
   * back. `sourceOffsets` (a snapshotSourceOffsets() taken at declaration) additionally
   * reports groups and partitions that have no checkpoint; the source is not contacted.
   */
  translateAndCommitOffsets(opts: {
    dryRun: boolean;
    sourceOffsets?: SourceOffsetsSnapshot;
  }): Promise<GroupTranslation[]> {
    return guarded(async () => {
      const target = await this.admin('target');
      const mirrored = new Set(this.props.criticalTopics.map((t) => this.mirroredTopic(t)));
      const records = await readTopicToEnd(this.target, target, this.checkpointsTopic, this.reader);
      const latest = latestCheckpoints(records.map((r) => decodeMirrorCheckpoint(r.key, r.value)));
      const byGroup = checkpointsByGroup(latest, mirrored);
      const missing = opts.sourceOffsets
        ? partitionsWithoutCheckpoint(opts.sourceOffsets, latest, (t) => this.mirroredTopic(t))
        : new Map();
      for (const group of missing.keys()) if (!byGroup.has(group)) byGroup.set(group, []);

      const groupIds = [...byGroup.keys()].sort();
      const described = groupIds.length > 0 ? (await target.describeGroups(groupIds)).groups : [];
      const onTarget = new Map<string, GroupOnTarget>(
        described.map((g) => [g.groupId, { state: g.state, members: g.members.length }]),
      );

      const results: GroupTranslation[] = [];
      for (const group of groupIds) {
        const checkpoints = byGroup.get(group)!;
        const committed = await this.committedOnTarget(target, group, [
          ...new Set(checkpoints.map((c) => c.topic)),
        ]);
        const plan = planGroupTranslation({
          group,
          checkpoints,
          onTarget: onTarget.get(group),
          targetCommitted: committed,
          dryRun: opts.dryRun,
        });
        if (missing.has(group)) plan.partitionsWithoutCheckpoint = missing.get(group);
        results.push(plan.skippedReason || opts.dryRun ? plan : await this.commit(target, plan));
      }
      return results;
    });
  }

  private async committedOnTarget(
    target: Admin,
    groupId: string,
    topics: string[],
  ): Promise<Map<string, bigint>> {
    const committed = new Map<string, bigint>();
    if (topics.length === 0) return committed;
    for (const { topic, partitions } of await target.fetchOffsets({ groupId, topics })) {
      for (const { partition, offset } of partitions)
        if (BigInt(offset) >= 0n) committed.set(partitionKey(topic, partition), BigInt(offset));
    }
    return committed;
  }

  private async commit(target: Admin, plan: GroupTranslation): Promise<GroupTranslation> {
    for (const [topic, partitions] of commitsByTopic(plan)) {
      try {
        // Refused by kafkajs unless the group is Empty or Dead: a consumer that joined since we looked wins.
        await target.setOffsets({ groupId: plan.group, topic, partitions });
      } catch (err) {
        if (/must have no running instances/.test((err as Error).message))
          return { ...plan, committed: false, skippedReason: 'group-active-on-target' };
        throw err;
      }
    }
    const after = await this.committedOnTarget(target, plan.group, [
      ...new Set(plan.offsets.map((o) => o.topic)),
    ]);
    const verified = plan.offsets.every(
      (o) => (after.get(partitionKey(o.topic, o.partition)) ?? -1n) >= BigInt(o.offset),
    );
    return { ...plan, committed: true, verified };
  }

  /** ISR of each mirrored critical topic partition on the target against the topic's effective min.insync.replicas. */
  checkIsr(): Promise<PartitionIsr[]> {
    return guarded(async () => {
      const target = await this.admin('target');
      const topics = this.props.criticalTopics.map((t) => this.mirroredTopic(t));
      const existing = new Set(await target.listTopics());
      const absent = topics.filter((t) => !existing.has(t));
      if (absent.length > 0)
        throw new TargetUnhealthyError(`mirrored topics missing on the target: ${absent.join(', ')}`, {
          absent,
        });
      const metadata = await target.fetchTopicMetadata({ topics });
      const configs = await target.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({
          type: TOPIC_RESOURCE,
          name,
          configNames: ['min.insync.replicas'],
        })),
      });
      const rows: PartitionIsr[] = [];
      for (const topic of metadata.topics.slice().sort((a, b) => a.name.localeCompare(b.name))) {
        const resource = configs.resources.find((r) => r.resourceName === topic.name);
        const minIsr = minInsyncReplicasOf(resource?.configEntries ?? []);
        if (minIsr === undefined)
          throw new TargetUnhealthyError(`min.insync.replicas of ${topic.name} is not readable`, {
            topic: topic.name,
          });
        rows.push(...evaluateIsr(topic.name, topic.partitions, minIsr));
      }
      return rows;
    });
  }

  /** Lag of every consumer group (other than our readers) on the target's mirrored critical topics. */
  consumerLagOnTarget(): Promise<GroupTopicLag[]> {
    return guarded(async () => {
      const target = await this.admin('target');
      const existing = new Set(await target.listTopics());
      const topics = this.props.criticalTopics
        .map((t) => this.mirroredTopic(t))
        .filter((t) => existing.has(t));
      const ends = new Map<string, Map<number, bigint>>();
      for (const topic of topics)
        ends.set(
          topic,
          new Map((await target.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)])),
        );
      const { groups } = await target.listGroups();
      const rows: GroupTopicLag[] = [];
      for (const groupId of groups
        .map((g) => g.groupId)
        .filter((g) => !g.startsWith(this.reader.groupPrefix))
        .sort()) {
        if (topics.length === 0) break;
        for (const { topic, partitions } of await target.fetchOffsets({ groupId, topics })) {
          const row = groupTopicLag(groupId, topic, partitions, ends.get(topic)!);
          if (row) rows.push(row);
        }
      }
      return rows;
    });
  }

  async close(): Promise<void> {
    const admins = [...this.admins.values()];
    this.admins.clear();
    await Promise.all(admins.map((a) => a.then((admin) => admin.disconnect()).catch(() => {})));
  }
}

/** The adapter for a failover from `sourceRegion` to `targetRegion` as the topology describes them. */
export function kafkaAdapterForFailover(
  topology: Topology,
  regions: { sourceRegion: string; targetRegion: string },
  options: Omit<
    KafkajsAdapterProps,
    'sourceBrokers' | 'targetBrokers' | 'sourceAlias' | 'targetAlias' | 'criticalTopics'
  > = {},
): KafkajsAdapter {
  const region = (name: string) => {
    const r = topology.regions[name];
    if (!r) throw new RangeError(`region ${name} is not in the topology`);
    return r;
  };
  return new KafkajsAdapter({
    ...options,
    sourceBrokers: region(regions.sourceRegion).kafka.brokers,
    targetBrokers: region(regions.targetRegion).kafka.brokers,
    sourceAlias: topology.kafka.sourceAliases[regions.sourceRegion]!,
    targetAlias: topology.kafka.sourceAliases[regions.targetRegion]!,
    criticalTopics: topology.kafka.criticalTopics,
  });
}
