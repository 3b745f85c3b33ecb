import { Kafka, logLevel, type Consumer } from 'kafkajs';

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  seq: number | null;
}

/**
 * The audit-trail consumer of the drill: a consumer group reading `orders` in the primary
 * region, committing often (so MirrorMaker 2 checkpoints it), then resuming in the
 * promoted region from the offsets the failover translated — the proof that consumers
 * skip nothing.
 */
export class AuditTrailConsumer {
  readonly consumed: ConsumedMessage[] = [];
  private consumer: Consumer | undefined;

  /** `writerId`: count only that load generator's messages (a topic may hold an earlier drill's too). */
  constructor(
    readonly groupId: string,
    readonly writerId?: string,
  ) {}

  async start(brokers: string[], topics: string[]): Promise<void> {
    const kafka = new Kafka({ clientId: `${this.groupId}-client`, brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommitInterval: 200,
      eachMessage: async ({ topic, partition, message }) => {
        let seq: number | null = null;
        try {
          const value = JSON.parse(message.value?.toString() ?? 'null') as {
            seq?: number;
            writerId?: string;
          } | null;
          if (this.writerId && value?.writerId !== this.writerId) return;
          seq = value?.seq ?? null;
        } catch {
          seq = null;
        }
        this.consumed.push({ topic, partition, offset: message.offset, seq });
      },
    });
    this.consumer = consumer;
  }

  /** Leaves the group, committing what was processed. */
  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }
}

export interface KafkaContinuity {
  acknowledged: number;
  consumed: number;
  /** Acknowledged messages never consumed in either region. */
  skipped: number;
  skippedSeqs: number[];
  /** Messages consumed more than once (redelivered after offset translation). */
  duplicates: number;
  duplicatesByPartition: Record<string, number>;
}

/** Pure: compares what Kafka acknowledged with what the consumer group processed across the failover. */
export function kafkaContinuity(acknowledged: Set<number>, consumed: ConsumedMessage[]): KafkaContinuity {
  const times = new Map<number, number>();
  const duplicatesByPartition: Record<string, number> = {};
  for (const message of consumed) {
    if (message.seq === null) continue;
    const seen = (times.get(message.seq) ?? 0) + 1;
    times.set(message.seq, seen);
    if (seen > 1) {
      const key = `${message.topic}-${message.partition}`;
      duplicatesByPartition[key] = (duplicatesByPartition[key] ?? 0) + 1;
    }
  }
  const skippedSeqs = [...acknowledged].filter((seq) => !times.has(seq)).sort((a, b) => a - b);
  return {
    acknowledged: acknowledged.size,
    consumed: consumed.length,
    skipped: skippedSeqs.length,
    skippedSeqs: skippedSeqs.slice(0, 100),
    duplicates: Object.values(duplicatesByPartition).reduce((a, b) => a + b, 0),
    duplicatesByPartition,
  };
}
