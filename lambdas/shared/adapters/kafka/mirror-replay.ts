import { Kafka, logLevel, type Admin } from 'kafkajs';
import { classifyError, TransientError } from '../../errors';
import { scanTopic, type OffsetRange } from './topic-reader';

/** The load generator's sequence numbers seen in a replayed window, per writer (orders, fills and risk events together). */
export interface ReplayedWindow {
  fromMs: number;
  toMs: number;
  /** topic → partition → [from, end) offsets read. */
  ranges: Record<string, Record<string, { from: string; end: string }>>;
  records: number;
  /** Records without a writer and seq (not the load generator's). */
  unsequenced: number;
  /** writer → every seq seen (duplicates kept: re-deliveries are not gaps). */
  writers: Record<string, number[]>;
  /** The window was cut at `maxRecords`. */
  truncated: boolean;
}

export interface MirrorReplay {
  /** Reads every record of `topics` produced in the last `windowSeconds` (up to the end offsets read first). */
  replay(opts: { topics: string[]; windowSeconds: number; maxRecords: number }): Promise<ReplayedWindow>;
  close(): Promise<void>;
}

/** writer id and seq of a load-generator message: the JSON value carries both (workload/kafka-sink.ts). */
export function sequenceOf(value: Buffer | null): { writerId: string; seq: number } | null {
  if (!value) return null;
  try {
    const parsed = JSON.parse(value.toString('utf8')) as { writerId?: unknown; seq?: unknown };
    return typeof parsed.writerId === 'string' && Number.isSafeInteger(parsed.seq)
      ? { writerId: parsed.writerId, seq: parsed.seq as number }
      : null;
  } catch {
    return null;
  }
}

/**
 * Replays a window of the mirrored topics on one cluster with a throw-away, never-committing
 * reader (topic-reader.ts): start offsets by timestamp, end offsets read before reading.
 */
export class KafkajsMirrorReplay implements MirrorReplay {
  private readonly kafka: Kafka;
  private admin: Admin | undefined;

  constructor(
    private readonly props: {
      brokers: string[];
      groupPrefix?: string;
      timeoutMs?: number;
      now?: () => number;
    },
  ) {
    this.kafka = new Kafka({
      clientId: 'tradepulse-dr-backup-validation',
      brokers: props.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      retry: { retries: 3, initialRetryTime: 200 },
    });
  }

  private async connected(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }

  async replay(opts: {
    topics: string[];
    windowSeconds: number;
    maxRecords: number;
  }): Promise<ReplayedWindow> {
    try {
      const admin = await this.connected();
      const toMs = (this.props.now ?? Date.now)();
      const fromMs = toMs - opts.windowSeconds * 1000;
      const existing = new Set(await admin.listTopics());
      const missing = opts.topics.filter((t) => !existing.has(t));
      if (missing.length > 0)
        throw new MirroredTopicMissingError(`mirrored topics missing on the cluster: ${missing.join(', ')}`);
      const window: ReplayedWindow = {
        fromMs,
        toMs,
        ranges: {},
        records: 0,
        unsequenced: 0,
        writers: {},
        truncated: false,
      };
      for (const topic of opts.topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const starts = await admin.fetchTopicOffsetsByTimestamp(topic, fromMs);
        const ranges = new Map<number, OffsetRange>();
        for (const end of ends) {
          const start = starts.find((s) => s.partition === end.partition);
          // -1: no record at or after the timestamp.
          const from = start && BigInt(start.offset) >= 0n ? BigInt(start.offset) : BigInt(end.high);
          ranges.set(end.partition, {
            from: from < BigInt(end.low) ? BigInt(end.low) : from,
            end: BigInt(end.high),
          });
        }
        window.ranges[topic] = Object.fromEntries(
          [...ranges].map(([p, r]) => [String(p), { from: r.from.toString(), end: r.end.toString() }]),
        );
        await scanTopic(
          this.kafka,
          admin,
          topic,
          ranges,
          (record) => {
            if (window.records >= opts.maxRecords) {
              window.truncated = true;
              return 'enough';
            }
            window.records += 1;
            const s = sequenceOf(record.value);
            if (!s) window.unsequenced += 1;
            else (window.writers[s.writerId] ??= []).push(s.seq);
            return 'more';
          },
          {
            groupPrefix: this.props.groupPrefix ?? 'tradepulse-dr-reader-backup-validation',
            timeoutMs: this.props.timeoutMs ?? 60_000,
          },
        );
      }
      return window;
    } catch (err) {
      if (err instanceof MirroredTopicMissingError) throw err;
      const e = err as { name?: string };
      if (e?.name?.startsWith('KafkaJS')) throw new TransientError(`${e.name}: ${(err as Error).message}`);
      throw classifyError(err);
    }
  }

  async close(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }
}

export class MirroredTopicMissingError extends Error {
  override name = 'MirroredTopicMissingError';
}
