/**
 * The TradePulse load generator: at a steady rate, submits orders, fills and risk
 * events to PostgreSQL (one transaction each) and then publishes each committed write
 * to its Kafka topic, giving every write a sequence number and journaling it only
 * once a sink acknowledged it. It rides out a failover: a broken or refusing
 * connection is dropped, the endpoint is resolved again and the SAME write is retried
 * with the SAME idempotency key until it is acknowledged (once) or its deadline passes.
 *
 * The bookkeeping (counters, retry decisions, sequence numbers) is in ./accounting;
 * what to write is in ./write-plan; this module only drives them and does the I/O.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  classifyKafkaError,
  classifyPostgresError,
  decideRetry,
  DEFAULT_RETRY_POLICY,
  RateSchedule,
  WriteAccounting,
  type RetryDecision,
  type RetryPolicy,
  type Sink,
  type WriteCounters,
} from './accounting';
import { JournalWriter, type JournalEntry, type JournalSyncMode, type TornTail } from './journal';
import { KafkaSink, type KafkaAck } from './kafka-sink';
import {
  PostgresSink,
  type EndpointSource,
  type PostgresAck,
  type PostgresEndpoint,
  type SinkConnection,
} from './postgres-sink';
import { mulberry32 } from './prng';
import { DEFAULT_MIX, WritePlanner, type PlannedWrite, type WriteMix } from './write-plan';
import type { PerKind } from './accounting';

export interface KafkaTarget {
  /** Bootstrap brokers ("127.0.0.1:9092"), or a function resolved again on every reconnect. */
  brokers: EndpointSource<string[]>;
  /**
   * Topic per kind, or a function resolved again on every reconnect (after a failover
   * the promoted cluster may name them differently).
   * @default { order: 'orders', fill: 'fills', risk_event: 'risk_events' }
   */
  topics?: EndpointSource<Partial<PerKind<string>>>;
  /** @default false — see KafkaSinkOptions.idempotent */
  idempotentProducer?: boolean;
  /** kafkajs' own logging. @default 'nothing' */
  logLevel?: 'nothing' | 'error' | 'warn' | 'info';
}

export type LoadGeneratorEvent =
  | { type: 'connected'; sink: Sink; worker: number; endpoint: string; reconnect: boolean }
  | {
      type: 'retry';
      sink: Sink;
      seq: number;
      reason: string;
      action: RetryDecision['action'];
      delayMs: number;
      error: string;
    }
  | { type: 'failed'; sink: Sink; seq: number; reason: string; error: string }
  | { type: 'stopping'; reason: StopReason; abortReason?: string };

export interface LoadGeneratorOptions {
  /** Where to write; a function is called again on every reconnect (a failover may move it). */
  postgres: EndpointSource<PostgresEndpoint>;
  /** Where to publish; omit (or null) for a PostgreSQL-only run. */
  kafka?: KafkaTarget | null;
  /** The journal of acknowledged writes (JSON lines); appended to if it exists. */
  journalPath: string;
  /** Target writes per second (orders + fills + risk events). */
  ratePerSecond: number;
  /** Stop after this many seconds; omit to run until stop(). */
  durationSeconds?: number;
  /** Stop after this many writes were started. */
  maxWrites?: number;
  /** Writes in flight at once, each on its own connections. @default 4 */
  concurrency?: number;
  /** Identity stamped on every row, message and journal line. @default loadgen-<time>-<random> */
  writerId?: string;
  /** Seed of the workload mix (accounts, instruments, sizes). @default derived from writerId */
  seed?: number;
  /** @default { order: 60, fill: 35, riskEvent: 5 } */
  mix?: WriteMix;
  retry?: Partial<RetryPolicy>;
  /** @default { sync: 'interval', syncIntervalMs: 200 } */
  journal?: { sync?: JournalSyncMode; syncIntervalMs?: number };
  /** After stop(), how long in-flight writes may keep retrying before they are failed. @default 10000 */
  stopGraceMs?: number;
  /** Abort the run after this many writes in a row failed (a broken setup, not a failover). @default 50 */
  maxConsecutiveFailures?: number;
  /** @default { connectMs: 3000, queryMs: 10000 } */
  timeouts?: { connectMs?: number; queryMs?: number };
  onEvent?: (event: LoadGeneratorEvent) => void;
  /**
   * The order gateway: awaited before each new write starts, so a quiesced gateway
   * (ACCEPT_NEW_ORDERS=false) holds new orders back until trading resumes.
   */
  gate?: () => Promise<void>;
  /** Test seam: replaces the real sink connections (one pair per worker). */
  connectors?: {
    postgres?: (worker: number, hooks: ConnectorHooks) => SinkConnection<PostgresAck>;
    kafka?: (worker: number, hooks: ConnectorHooks) => SinkConnection<KafkaAck>;
  };
}

export interface ConnectorHooks {
  /** Call after each successful connect; the 2nd and later count as reconnects. */
  onConnect(endpoint: string, connectionNumber: number): void;
}

export type GeneratorState = 'running' | 'stopping' | 'stopped';
export type StopReason = 'duration' | 'max_writes' | 'stopped' | 'aborted';

export interface LoadGeneratorStats extends WriteCounters {
  writerId: string;
  state: GeneratorState;
  sinks: Sink[];
  startedAt: string;
  elapsedMs: number;
  targetRatePerSecond: number;
  /** PostgreSQL acknowledgements per second since the start. */
  achievedRatePerSecond: number;
  journal: { path: string; lines: number };
}

export interface LoadGeneratorSummary extends LoadGeneratorStats {
  endedAt: string;
  stopReason: StopReason;
  abortReason: string | null;
  journal: { path: string; lines: number; sync: JournalSyncMode; repairedTornTail: TornTail | null };
  seed: number;
}

export interface LoadGenerator {
  readonly writerId: string;
  readonly journalPath: string;
  /** Counters now (a copy). */
  stats(): LoadGeneratorStats;
  /** Stops starting writes, lets in-flight ones finish (up to stopGraceMs), closes everything. Idempotent. */
  stop(): Promise<LoadGeneratorSummary>;
  /** Settles when the run ends by itself (duration, maxWrites, abort) or after stop(). */
  readonly done: Promise<LoadGeneratorSummary>;
}

const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', 'must be a function');

const endpointOptions = z.union([
  fn,
  z
    .object({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535),
      database: z.string().min(1),
      user: z.string().min(1),
      password: z.string().optional(),
    })
    .strict(),
]);

const OptionsSchema = z
  .object({
    postgres: endpointOptions,
    kafka: z
      .object({
        brokers: z.union([fn, z.array(z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port')).min(1)]),
        topics: z
          .union([
            fn,
            z
              .object({ order: z.string().min(1), fill: z.string().min(1), risk_event: z.string().min(1) })
              .partial()
              .strict(),
          ])
          .optional(),
        idempotentProducer: z.boolean().optional(),
        logLevel: z.enum(['nothing', 'error', 'warn', 'info']).optional(),
      })
      .strict()
      .nullish(),
    journalPath: z.string().min(1),
    ratePerSecond: z.number().positive().max(100_000),
    durationSeconds: z.number().positive().optional(),
    maxWrites: z.number().int().positive().optional(),
    concurrency: z.number().int().min(1).max(256).optional(),
    writerId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,80}$/, 'must be 1-80 characters of letters, digits, ".", "_" or "-"')
      .optional(),
    seed: z.number().int().optional(),
    mix: z
      .object({ order: z.number().positive(), fill: z.number().min(0), riskEvent: z.number().min(0) })
      .strict()
      .optional(),
    retry: z
      .object({
        initialDelayMs: z.number().positive(),
        maxDelayMs: z.number().positive(),
        writeDeadlineMs: z.number().positive(),
      })
      .partial()
      .strict()
      .optional(),
    journal: z
      .object({
        sync: z.enum(['always', 'interval', 'close']).optional(),
        syncIntervalMs: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    stopGraceMs: z.number().min(0).optional(),
    maxConsecutiveFailures: z.number().int().positive().optional(),
    timeouts: z
      .object({ connectMs: z.number().positive().optional(), queryMs: z.number().positive().optional() })
      .strict()
      .optional(),
    onEvent: fn.optional(),
    gate: fn.optional(),
    connectors: z.object({ postgres: fn.optional(), kafka: fn.optional() }).strict().optional(),
  })
  .strict();

export class LoadGeneratorOptionsError extends Error {
  override name = 'LoadGeneratorOptionsError';
}

function validateOptions(options: LoadGeneratorOptions): void {
  const result = OptionsSchema.safeParse(options);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new LoadGeneratorOptionsError(`Invalid load generator options:\n${problems.join('\n')}`);
  }
}

export function defaultWriterId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `loadgen-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** A stable 32-bit seed from a string (FNV-1a). */
export function seedFrom(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The journal line for an acknowledgement of `write` by a sink. */
export function journalEntryFor(
  write: PlannedWrite,
  ack: { sink: 'postgres'; duplicate: boolean } | ({ sink: 'kafka' } & KafkaAck),
  acknowledgedAt: Date,
): JournalEntry {
  const common = {
    v: 1 as const,
    writer: write.writerId,
    seq: write.seq,
    kind: write.kind,
    idempotencyKey: write.idempotencyKey,
    orderId: write.kind === 'risk_event' ? null : write.orderId,
    fillId: write.kind === 'fill' ? write.fillId : null,
    riskEventId: write.kind === 'risk_event' ? write.riskEventId : null,
    account: write.accountId,
    instrument: write.symbol,
    side: write.kind === 'risk_event' ? null : write.side,
    quantity: write.kind === 'risk_event' ? null : write.quantity,
    price: write.kind === 'order' ? write.limitPrice : write.kind === 'fill' ? write.price : null,
    acknowledgedAt: acknowledgedAt.toISOString(),
  };
  return ack.sink === 'postgres'
    ? { ...common, sink: 'postgres', duplicate: ack.duplicate }
    : {
        ...common,
        sink: 'kafka',
        duplicate: false,
        topic: ack.topic,
        partition: ack.partition,
        offset: ack.offset,
      };
}

const errorText = (err: unknown): string => {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${typeof code === 'string' ? ` ${code}` : ''}: ${err.message}`;
  }
  return String(err);
};

/** Starts the generator; it runs in the background until its duration ends or stop() is called. */
export function startLoadGenerator(options: LoadGeneratorOptions): LoadGenerator {
  validateOptions(options);
  return new Generator(options);
}

type AttemptResult<A> = { ok: true; ack: A } | { ok: false; reason: string };

class Generator implements LoadGenerator {
  readonly writerId: string;
  readonly journalPath: string;
  readonly done: Promise<LoadGeneratorSummary>;

  private readonly sinks: Sink[];
  private readonly accounting: WriteAccounting;
  private readonly planner: WritePlanner;
  private readonly schedule: RateSchedule;
  private readonly journal: JournalWriter;
  private readonly policy: RetryPolicy;
  private readonly jitter: () => number;
  private readonly seed: number;
  private readonly startedAtMs = Date.now();
  private readonly wake = new AbortController();
  private readonly hardStop = new AbortController();
  private state: GeneratorState = 'running';
  private stopReason: StopReason = 'stopped';
  private abortReason: string | null = null;
  private timers: NodeJS.Timeout[] = [];
  private endedAt: Date | undefined;

  constructor(private readonly opts: LoadGeneratorOptions) {
    this.writerId = opts.writerId ?? defaultWriterId();
    this.journalPath = opts.journalPath;
    this.sinks = opts.kafka ? ['postgres', 'kafka'] : ['postgres'];
    this.accounting = new WriteAccounting(this.sinks);
    this.seed = opts.seed ?? seedFrom(this.writerId);
    this.planner = new WritePlanner(this.writerId, this.seed, opts.mix ?? DEFAULT_MIX);
    // Up to one second of missed slots is caught up (timer and commit-latency jitter);
    // a longer stall (a failover) is not replayed as a burst.
    this.schedule = new RateSchedule(
      opts.ratePerSecond,
      this.startedAtMs,
      Math.max(1, Math.ceil(opts.ratePerSecond)),
    );
    this.policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.jitter = mulberry32(this.seed ^ 0x5bd1e995);
    this.journal = JournalWriter.open(opts.journalPath, opts.journal ?? {});

    if (opts.durationSeconds !== undefined) {
      this.timers.push(setTimeout(() => this.requestStop('duration'), opts.durationSeconds * 1000));
    }
    const workers = Array.from({ length: opts.concurrency ?? 4 }, (_, i) => this.worker(i));
    this.done = Promise.all(workers).then(() => this.finish());
    // done is also returned by stop(); make sure an unobserved rejection cannot crash the host.
    this.done.catch(() => {});
  }

  stats(): LoadGeneratorStats {
    const counters = this.accounting.snapshot();
    const elapsedMs = (this.endedAt?.getTime() ?? Date.now()) - this.startedAtMs;
    return {
      ...counters,
      writerId: this.writerId,
      state: this.state,
      sinks: [...this.sinks],
      startedAt: new Date(this.startedAtMs).toISOString(),
      elapsedMs,
      targetRatePerSecond: this.opts.ratePerSecond,
      achievedRatePerSecond:
        elapsedMs > 0 ? Math.round((counters.acknowledged.postgres / elapsedMs) * 100_000) / 100 : 0,
      journal: { path: this.journalPath, lines: this.journal.linesWritten },
    };
  }

  stop(): Promise<LoadGeneratorSummary> {
    this.requestStop('stopped');
    return this.done;
  }

  private requestStop(reason: StopReason, abortReason?: string): void {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.stopReason = reason;
    if (abortReason) this.abortReason = abortReason;
    this.emit({ type: 'stopping', reason, ...(abortReason ? { abortReason } : {}) });
    this.wake.abort();
    if (reason === 'aborted') this.hardStop.abort();
    else {
      const grace = setTimeout(() => this.hardStop.abort(), this.opts.stopGraceMs ?? 10_000);
      grace.unref();
      this.timers.push(grace);
    }
  }

  private emit(event: LoadGeneratorEvent): void {
    try {
      this.opts.onEvent?.(event);
    } catch {
      // an observer's bug must not break the run
    }
  }

  private connectors(worker: number): {
    postgres: SinkConnection<PostgresAck>;
    kafka?: SinkConnection<KafkaAck>;
  } {
    const hooks = (sink: Sink): ConnectorHooks => ({
      onConnect: (endpoint, n) => {
        if (n > 1) this.accounting.reconnected(sink);
        this.emit({ type: 'connected', sink, worker, endpoint, reconnect: n > 1 });
      },
    });
    const applicationName = `tradepulse-loadgen ${this.writerId}`.slice(0, 63);
    const postgres =
      this.opts.connectors?.postgres?.(worker, hooks('postgres')) ??
      new PostgresSink({
        endpoint: this.opts.postgres,
        applicationName,
        connectTimeoutMs: this.opts.timeouts?.connectMs,
        queryTimeoutMs: this.opts.timeouts?.queryMs,
        onConnect: (e, n) => hooks('postgres').onConnect(`${e.host}:${e.port}/${e.database}`, n),
      });
    const target = this.opts.kafka;
    if (!target) return { postgres };
    const kafka =
      this.opts.connectors?.kafka?.(worker, hooks('kafka')) ??
      new KafkaSink({
        brokers: target.brokers,
        clientId: `${this.writerId}-${worker}`,
        topics: target.topics,
        idempotent: target.idempotentProducer,
        logLevel: target.logLevel,
        connectTimeoutMs: this.opts.timeouts?.connectMs,
        requestTimeoutMs: this.opts.timeouts?.queryMs,
        onConnect: (b, n) => hooks('kafka').onConnect(b.join(','), n),
      });
    return { postgres, kafka };
  }

  private async worker(index: number): Promise<void> {
    const conn = this.connectors(index);
    try {
      while (this.state === 'running') {
        const due = this.schedule.claim(Date.now());
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait, undefined, { signal: this.wake.signal }).catch(() => {});
        if (this.state !== 'running') break;
        if (this.opts.gate) await this.opts.gate();
        if (this.state !== 'running') break;
        if (this.opts.maxWrites !== undefined && this.accounting.attempted >= this.opts.maxWrites) {
          this.requestStop('max_writes');
          break;
        }
        const kind = this.planner.nextKind();
        const seq = this.accounting.begin(kind);
        await this.perform(this.planner.plan(seq, kind), conn);
        const limit = this.opts.maxConsecutiveFailures ?? 50;
        const { consecutiveFailures } = this.accounting;
        if (consecutiveFailures >= limit) {
          this.requestStop(
            'aborted',
            `${consecutiveFailures} writes in a row failed; last failures: ${JSON.stringify(this.accounting.snapshot().failedByReason)}`,
          );
        }
      }
    } catch (err) {
      this.requestStop('aborted', `worker ${index} crashed: ${errorText(err)}`);
    } finally {
      await Promise.all([conn.postgres.close().catch(() => {}), conn.kafka?.close().catch(() => {})]);
    }
  }

  private async perform(
    write: PlannedWrite,
    conn: { postgres: SinkConnection<PostgresAck>; kafka?: SinkConnection<KafkaAck> },
  ) {
    const { seq } = write;
    const pg = await this.attempt(
      'postgres',
      write,
      () => conn.postgres.write(write),
      () => conn.postgres.reset(),
      classifyPostgresError,
    );
    if (!pg.ok) {
      this.planner.failed(write, pg.reason);
      this.accounting.finish(seq);
      return;
    }
    if (!this.journalAck(write, { sink: 'postgres', duplicate: pg.ack.duplicate })) return;
    this.accounting.acknowledge(seq, 'postgres', { duplicate: pg.ack.duplicate });

    if (conn.kafka) {
      const kafka = conn.kafka;
      const k = await this.attempt(
        'kafka',
        write,
        () => kafka.write(write),
        () => kafka.reset(),
        classifyKafkaError,
      );
      if (k.ok) {
        if (!this.journalAck(write, { sink: 'kafka', ...k.ack })) return;
        this.accounting.acknowledge(seq, 'kafka');
      }
    }
    // Only now may fills reference this order: its Kafka message (if any) is out first.
    this.planner.acknowledged(write);
    this.accounting.finish(seq);
  }

  /** Journals an acknowledgement; a journal that cannot be written ends the run. */
  private journalAck(write: PlannedWrite, ack: Parameters<typeof journalEntryFor>[1]): boolean {
    try {
      this.journal.append(journalEntryFor(write, ack, new Date()));
      return true;
    } catch (err) {
      this.accounting.fail(write.seq, ack.sink, 'journal_write_failed');
      this.accounting.finish(write.seq);
      this.requestStop('aborted', `cannot write the journal ${this.journalPath}: ${errorText(err)}`);
      return false;
    }
  }

  private async attempt<A>(
    sink: Sink,
    write: PlannedWrite,
    op: () => Promise<A>,
    reset: () => Promise<void>,
    classify: (err: unknown) => RetryDecision,
  ): Promise<AttemptResult<A>> {
    const firstAttemptAtMs = Date.now();
    for (;;) {
      try {
        return { ok: true, ack: await op() };
      } catch (err) {
        const decision = classify(err);
        const verdict = decideRetry({
          decision,
          retriesSoFar: this.accounting.retriesOf(write.seq, sink),
          firstAttemptAtMs,
          nowMs: Date.now(),
          policy: this.policy,
          stopping: this.hardStop.signal.aborted,
          random: this.jitter(),
        });
        if (!verdict.retry) {
          this.accounting.fail(write.seq, sink, verdict.reason);
          this.emit({ type: 'failed', sink, seq: write.seq, reason: verdict.reason, error: errorText(err) });
          if (decision.action === 'reconnect') await reset();
          return { ok: false, reason: verdict.reason };
        }
        this.accounting.retry(write.seq, sink, decision.reason);
        this.emit({
          type: 'retry',
          sink,
          seq: write.seq,
          reason: decision.reason,
          action: decision.action,
          delayMs: verdict.delayMs,
          error: errorText(err),
        });
        if (decision.action === 'reconnect') await reset();
        await sleep(verdict.delayMs, undefined, { signal: this.hardStop.signal }).catch(() => {});
      }
    }
  }

  private finish(): LoadGeneratorSummary {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.journal.close();
    this.state = 'stopped';
    this.endedAt = new Date();
    return {
      ...this.stats(),
      endedAt: this.endedAt.toISOString(),
      stopReason: this.stopReason,
      abortReason: this.abortReason,
      journal: {
        path: this.journalPath,
        lines: this.journal.linesWritten,
        sync: this.journal.sync,
        repairedTornTail: this.journal.repairedTornTail,
      },
      seed: this.seed,
    };
  }
}
