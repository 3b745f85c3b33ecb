/**
 * Publishes committed writes to the critical topics (orders, fills, risk_events) with
 * acks=-1 (all in-sync replicas), key = account id (per-account ordering), the
 * message value as JSON including `seq`, and the idempotency key in a header so
 * consumers can drop the duplicates a retried produce may create.
 *
 * One producer per sink; the brokers are resolved again on every (re)connect so that a
 * failover can redirect the generator to the promoted cluster.
 */
import kafkajs from 'kafkajs';
import type { PerKind } from './accounting';
import { resolveEndpoint, type EndpointSource, type SinkConnection } from './postgres-sink';
import type { PlannedWrite } from './write-plan';

const { Kafka, Partitioners, logLevel } = kafkajs;

export const DEFAULT_TOPICS: PerKind<string> = { order: 'orders', fill: 'fills', risk_event: 'risk_events' };

export interface KafkaAck {
  topic: string;
  partition: number;
  /** Offset of the message, as a decimal string (int64). */
  offset: string;
}

export interface KafkaSinkOptions {
  brokers: EndpointSource<string[]>;
  clientId: string;
  /** Topic per kind (defaults: orders, fills, risk_events); a function is resolved again on every reconnect. */
  topics?: EndpointSource<Partial<PerKind<string>>>;
  /**
   * kafkajs idempotent producer (exactly-once per partition for its own internal
   * retries). Off by default: it is marked experimental in kafkajs 2.2; duplicates from
   * our outer retries are identified by the idempotency-key header either way.
   * @default false
   */
  idempotent?: boolean;
  /** @default 3000 */
  connectTimeoutMs?: number;
  /** @default 10000 */
  requestTimeoutMs?: number;
  /** kafkajs' own log output (to stderr). @default 'nothing' */
  logLevel?: 'nothing' | 'error' | 'warn' | 'info';
  onConnect?: (brokers: string[], connectionNumber: number) => void;
}

/** The JSON value published for a write. */
export function kafkaMessageValue(write: PlannedWrite): Record<string, unknown> {
  const { kind, ...fields } = write;
  return { schema: `tradepulse.${kind}.v1`, kind, ...fields };
}

export function kafkaMessageFor(write: PlannedWrite) {
  return {
    key: write.accountId,
    value: JSON.stringify(kafkaMessageValue(write)),
    headers: {
      'idempotency-key': write.idempotencyKey,
      seq: String(write.seq),
      writer: write.writerId,
      kind: write.kind,
    },
  };
}

type Producer = ReturnType<InstanceType<typeof Kafka>['producer']>;

const LOG_LEVELS = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
} as const;

export class KafkaSink implements SinkConnection<KafkaAck> {
  private producer: Producer | undefined;
  private connections = 0;
  private topics: PerKind<string> = DEFAULT_TOPICS;

  constructor(private readonly opts: KafkaSinkOptions) {}

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    const brokers = await resolveEndpoint(this.opts.brokers);
    this.topics = {
      ...DEFAULT_TOPICS,
      ...(this.opts.topics === undefined ? {} : await resolveEndpoint(this.opts.topics)),
    };
    if (brokers.length === 0) throw new Error('no Kafka brokers configured');
    const kafka = new Kafka({
      clientId: this.opts.clientId,
      brokers,
      connectionTimeout: this.opts.connectTimeoutMs ?? 3_000,
      requestTimeout: this.opts.requestTimeoutMs ?? 10_000,
      // Short internal retries: the generator's own retry loop (with reconnects to a
      // re-resolved endpoint) rides out longer outages.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
      logLevel: LOG_LEVELS[this.opts.logLevel ?? 'nothing'],
    });
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      // Topics are provisioned infrastructure (partitions, replication); never create them by accident.
      allowAutoTopicCreation: false,
      idempotent: this.opts.idempotent ?? false,
      ...(this.opts.idempotent ? { maxInFlightRequests: 1 } : {}),
    });
    try {
      await producer.connect();
    } catch (err) {
      await producer.disconnect().catch(() => {});
      throw err;
    }
    this.producer = producer;
    this.connections += 1;
    this.opts.onConnect?.(brokers, this.connections);
    return producer;
  }

  async write(write: PlannedWrite): Promise<KafkaAck> {
    const producer = await this.connected();
    const topic = this.topics[write.kind];
    const [meta] = await producer.send({
      topic,
      acks: -1,
      timeout: this.opts.requestTimeoutMs ?? 10_000,
      messages: [kafkaMessageFor(write)],
    });
    const offset = meta?.baseOffset ?? meta?.offset;
    if (!meta || offset === undefined) throw new Error(`Kafka returned no offset for ${topic}`);
    return { topic: meta.topicName, partition: meta.partition, offset };
  }

  async reset(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (!producer) return;
    // A producer whose brokers are gone can take its time to disconnect; don't wait long.
    await Promise.race([
      producer.disconnect().catch(() => {}),
      new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
    ]);
  }

  async close(): Promise<void> {
    await this.reset();
  }
}
