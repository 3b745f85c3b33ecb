/**
 * MirrorMaker 2 offset-sync records (`mm2-offset-syncs.<target alias>.internal`, on the
 * source cluster by default). Kafka 3.9 `OffsetSync`, Struct wire format, big-endian:
 * key = topic (int16-length-prefixed UTF-8, the UPSTREAM topic name) + partition (int32);
 * value = upstream offset (int64) + downstream offset (int64), no version field.
 * Each record says: the upstream record at `upstreamOffset` was written downstream at
 * `downstreamOffset`. MM2 emits one for a partition's first mirrored record, whenever
 * upstream offsets skip, when the downstream moved back, and at least every
 * `offset.lag.max` records; the topic is compacted, so the last record per key is current.
 */
export interface OffsetSync {
  topic: string;
  partition: number;
  upstreamOffset: bigint;
  downstreamOffset: bigint;
}

export class MalformedOffsetSyncError extends Error {
  override name = 'MalformedOffsetSyncError';
}

export function offsetSyncsTopic(targetAlias: string): string {
  return `mm2-offset-syncs.${targetAlias}.internal`;
}

export function decodeOffsetSync(key: Buffer | null, value: Buffer | null): OffsetSync {
  if (!key || !value) throw new MalformedOffsetSyncError('offset-sync record without key or value');
  if (key.length < 2) throw new MalformedOffsetSyncError('offset-sync key truncated before the topic length');
  const topicLength = key.readInt16BE(0);
  if (topicLength < 0 || key.length !== 2 + topicLength + 4) {
    throw new MalformedOffsetSyncError(
      `offset-sync key of ${key.length} bytes does not hold a ${topicLength}-byte topic and a partition`,
    );
  }
  if (value.length !== 16)
    throw new MalformedOffsetSyncError(`offset-sync value has ${value.length} bytes, expected 16`);
  return {
    topic: key.toString('utf8', 2, 2 + topicLength),
    partition: key.readInt32BE(2 + topicLength),
    upstreamOffset: value.readBigInt64BE(0),
    downstreamOffset: value.readBigInt64BE(8),
  };
}

/** The inverse, for tests and fixtures. */
export function encodeOffsetSync(sync: OffsetSync): { key: Buffer; value: Buffer } {
  const topic = Buffer.from(sync.topic, 'utf8');
  const key = Buffer.alloc(2 + topic.length + 4);
  key.writeInt16BE(topic.length, 0);
  topic.copy(key, 2);
  key.writeInt32BE(sync.partition, 2 + topic.length);
  const value = Buffer.alloc(16);
  value.writeBigInt64BE(sync.upstreamOffset, 0);
  value.writeBigInt64BE(sync.downstreamOffset, 8);
  return { key, value };
}

/** The current sync per upstream topic-partition: the last one in log order (records of one key share a partition). */
export function latestOffsetSyncs(syncsInLogOrder: Iterable<OffsetSync>): Map<string, OffsetSync> {
  const latest = new Map<string, OffsetSync>();
  for (const sync of syncsInLogOrder) latest.set(topicPartitionKey(sync.topic, sync.partition), sync);
  return latest;
}

export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
