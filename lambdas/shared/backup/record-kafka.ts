import { Kafka, logLevel, type Admin } from 'kafkajs';
import { KafkajsAdapter } from '../adapters/kafka/kafkajs-adapter';
import type { KafkaClusterOffsets, KafkaOffsetsBackup } from './contracts';
import { BackupFailedError } from './errors';

/**
 * The Kafka part of a backup is a record, not data: each critical consumer group's
 * committed offsets on both clusters, the log-end offsets they are measured against, and
 * MirrorMaker 2's checkpoint-translated offsets (read with the failover's own offset
 * translation, as a dry run: nothing is committed).
 */
export interface KafkaOffsetsSource {
  primaryRegion: string;
  secondaryRegion: string;
  primaryBrokers: string[];
  secondaryBrokers: string[];
  /** MM2 alias of the primary (mirrored topics are `<alias>.<topic>`) and of the secondary. */
  sourceAlias: string;
  targetAlias: string;
  criticalTopics: string[];
  /** Groups to record; default: every group with commits on a critical topic of the primary. */
  criticalGroups?: string[];
  offsetLagMax: number;
}

const READER_PREFIX = 'tradepulse-dr-reader';

function admin(brokers: string[], side: string): Admin {
  return new Kafka({
    clientId: `tradepulse-dr-backup-${side}`,
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200 },
  }).admin();
}

async function clusterOffsets(
  a: Admin,
  brokers: string[],
  groups: string[] | undefined,
  topics: string[],
): Promise<{ offsets: KafkaClusterOffsets; groups: string[] }> {
  const existing = new Set(await a.listTopics());
  const present = topics.filter((t) => existing.has(t));
  const endOffsets: KafkaClusterOffsets['endOffsets'] = {};
  for (const topic of present)
    endOffsets[topic] = Object.fromEntries(
      (await a.fetchTopicOffsets(topic))
        .sort((x, y) => x.partition - y.partition)
        .map((o) => [String(o.partition), o.high]),
    );
  const candidates =
    groups ??
    (await a.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => !g.startsWith(READER_PREFIX))
      .sort();
  const committed: KafkaClusterOffsets['groups'] = {};
  for (const groupId of candidates) {
    if (present.length === 0) break;
    for (const { topic, partitions } of await a.fetchOffsets({ groupId, topics: present })) {
      for (const { partition, offset } of partitions) {
        if (BigInt(offset) < 0n) continue;
        ((committed[groupId] ??= {})[topic] ??= {})[String(partition)] = offset;
      }
    }
  }
  return { offsets: { brokers, groups: committed, endOffsets }, groups: Object.keys(committed).sort() };
}

export async function recordKafkaOffsets(
  source: KafkaOffsetsSource,
): Promise<{ kafka: KafkaOffsetsBackup; takenAt: Date; timingsMs: Record<string, number> }> {
  const primary = admin(source.primaryBrokers, 'primary');
  const secondary = admin(source.secondaryBrokers, 'secondary');
  const mirrored = (t: string) => `${source.sourceAlias}.${t}`;
  const adapter = new KafkajsAdapter({
    sourceBrokers: source.primaryBrokers,
    targetBrokers: source.secondaryBrokers,
    sourceAlias: source.sourceAlias,
    targetAlias: source.targetAlias,
    criticalTopics: source.criticalTopics,
    clientId: 'tradepulse-dr-backup',
    readTimeoutMs: 15_000,
  });
  const timings: Record<string, number> = {};
  try {
    await Promise.all([primary.connect(), secondary.connect()]);
    const takenAt = new Date();
    let t = performance.now();
    const onPrimary = await clusterOffsets(
      primary,
      source.primaryBrokers,
      source.criticalGroups,
      source.criticalTopics,
    );
    const groups = source.criticalGroups ?? onPrimary.groups;
    const onSecondary = await clusterOffsets(
      secondary,
      source.secondaryBrokers,
      groups,
      source.criticalTopics.map(mirrored),
    );
    timings.committedMs = Math.round(performance.now() - t);
    t = performance.now();
    const translations = await adapter.translateAndCommitOffsets({ dryRun: true });
    timings.translatedMs = Math.round(performance.now() - t);
    const wanted = new Set(groups);
    const translated: KafkaOffsetsBackup['translated'] = {};
    for (const g of translations) {
      if (!wanted.has(g.group)) continue;
      for (const o of g.offsets)
        ((translated[g.group] ??= {})[o.topic] ??= {})[String(o.partition)] = {
          offset: o.offset,
          upstreamOffset: o.upstreamOffset,
        };
    }
    return {
      takenAt,
      timingsMs: timings,
      kafka: {
        primaryRegion: source.primaryRegion,
        secondaryRegion: source.secondaryRegion,
        sourceAlias: source.sourceAlias,
        criticalTopics: source.criticalTopics,
        criticalGroups: [...groups].sort(),
        clusters: {
          [source.primaryRegion]: onPrimary.offsets,
          [source.secondaryRegion]: onSecondary.offsets,
        },
        translated,
        offsetLagMax: source.offsetLagMax,
      },
    };
  } catch (err) {
    if (err instanceof BackupFailedError) throw err;
    throw new BackupFailedError(`reading Kafka offsets failed: ${(err as Error).message}`, {
      reason: 'kafka',
    });
  } finally {
    await Promise.allSettled([primary.disconnect(), secondary.disconnect(), adapter.close?.()]);
  }
}
