import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { TransientError } from '../../errors';

/**
 * Reads bounded offset ranges of a topic with kafkajs (which has no group-less fetch): a
 * throw-away consumer group that never commits, deleted afterwards. Ends when every
 * partition reached its range's end (control records count as progress), or throws
 * TransientError at the time-out.
 */
export interface RawRecord {
  partition: number;
  offset: bigint;
  timestampMs: number;
  key: Buffer | null;
  value: Buffer | null;
}

export interface OffsetRange {
  /** First offset wanted. */
  from: bigint;
  /** Stop before this offset (an end offset read beforehand). */
  end: bigint;
}

export interface TopicReaderOptions {
  /** Consumer group id prefix of the throw-away readers. */
  groupPrefix: string;
  timeoutMs: number;
}

/**
 * Calls `onRecord` for records in [from, end) of each partition, in offset order per
 * partition; `onRecord` returning 'enough' finishes that partition early.
 */
export async function scanTopic(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  ranges: ReadonlyMap<number, OffsetRange>,
  onRecord: (record: RawRecord) => 'more' | 'enough',
  opts: TopicReaderOptions,
): Promise<void> {
  const pending = new Set([...ranges].filter(([, r]) => r.from < r.end).map(([p]) => p));
  if (pending.size === 0) return;
  const groupId = `${opts.groupPrefix}-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
  });
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const done = (partition: number) => {
    pending.delete(partition);
    if (pending.size === 0) finish();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const range = ranges.get(payload.partition);
    if (payload.topic === topic && range && BigInt(payload.lastOffset) + 1n >= range.end)
      done(payload.partition);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = ranges.get(batch.partition);
        if (!range || !pending.has(batch.partition)) return;
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < range.from) continue;
          if (offset >= range.end) return done(batch.partition);
          const verdict = onRecord({
            partition: batch.partition,
            offset,
            timestampMs: Number(m.timestamp),
            key: m.key ?? null,
            value: m.value ?? null,
          });
          if (verdict === 'enough') return done(batch.partition);
        }
      },
    });
    // Start each partition where its range starts instead of reading from the beginning.
    for (const [partition, range] of ranges)
      if (range.from > 0n && pending.has(partition))
        consumer.seek({ topic, partition, offset: range.from.toString() });
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TransientError(`reading ${topic} timed out after ${opts.timeoutMs} ms`, {
              topic,
              partitionsNotFinished: [...pending],
            }),
          ),
        opts.timeoutMs,
      );
    });
    await Promise.race([finished, timedOut]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
    // The group never committed anything; remove its trace (it may already be gone).
    await admin.deleteGroups([groupId]).catch(() => {});
  }
}

/**
 * Every record of the topic up to its current end offsets, in offset order per partition;
 * none when the topic does not exist (MM2 creates its internal topics on first use).
 */
export async function readTopicToEnd(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  opts: TopicReaderOptions,
): Promise<RawRecord[]> {
  if (!(await admin.listTopics()).includes(topic)) return [];
  const offsets = await admin.fetchTopicOffsets(topic);
  const ranges = new Map(offsets.map((o) => [o.partition, { from: BigInt(o.low), end: BigInt(o.high) }]));
  const records: RawRecord[] = [];
  await scanTopic(kafka, admin, topic, ranges, (r) => (records.push(r), 'more'), opts);
  return records.sort(
    (a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0),
  );
}

/** The first record at or after `from` in each partition's range (its timestamp dates the oldest unmirrored record). */
export async function firstRecordsFrom(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  ranges: ReadonlyMap<number, OffsetRange>,
  opts: TopicReaderOptions,
): Promise<Map<number, RawRecord>> {
  const first = new Map<number, RawRecord>();
  await scanTopic(kafka, admin, topic, ranges, (r) => (first.set(r.partition, r), 'enough'), opts);
  return first;
}
