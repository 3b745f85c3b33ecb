/**
 * The load generator's bookkeeping, free of I/O so it can be tested exhaustively:
 * sequence numbering, what counts as an acknowledgement (once per write and sink,
 * however many retries it took), the failed/retried/duplicate/reconnect counters,
 * the retry decision for an error, backoff, and the rate schedule.
 */

export const WRITE_KINDS = ['order', 'fill', 'risk_event'] as const;
export type WriteKind = (typeof WRITE_KINDS)[number];

/** Where a write is acknowledged: the PostgreSQL commit, then the Kafka produce (acks=-1). */
export const SINKS = ['postgres', 'kafka'] as const;
export type Sink = (typeof SINKS)[number];

export type PerSink<T> = Record<Sink, T>;
export type PerKind<T> = Record<WriteKind, T>;

const perSink = <T>(make: () => T): PerSink<T> => ({ postgres: make(), kafka: make() });
const perKind = <T>(make: () => T): PerKind<T> => ({ order: make(), fill: make(), risk_event: make() });

/** Monotonically increasing sequence numbers, 1, 2, 3, … per writer, across all kinds. */
export class SequenceNumbers {
  private last: number;

  constructor(start = 1) {
    if (!Number.isSafeInteger(start) || start < 1)
      throw new Error(`sequence must start at a positive integer, got ${start}`);
    this.last = start - 1;
  }

  next(): number {
    this.last += 1;
    return this.last;
  }

  /** The last number handed out (0 before the first). */
  get current(): number {
    return this.last;
  }
}

// ---------------------------------------------------------------------------
// Retry decisions
// ---------------------------------------------------------------------------

/**
 * - `reconnect`: the connection is unusable or points at a server that cannot take the
 *   write (closed, refused, shut down, read-only, fenced): drop it, resolve the endpoint
 *   again (a failover may have moved it) and retry the same write.
 * - `retry`: a transient conflict on a healthy connection (serialization failure,
 *   deadlock, lock timeout, cancelled statement): retry the same write.
 * - `fail`: retrying cannot help (constraint violation, bad SQL, idempotency-key clash):
 *   the write is failed for that sink.
 */
export type RetryAction = 'reconnect' | 'retry' | 'fail';

export interface RetryDecision {
  action: RetryAction;
  /** Short, stable reason used as a counter key, e.g. `read_only_sql_transaction`. */
  reason: string;
}

const SOCKET_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs after which the connection (or the server behind it) cannot take writes. */
const PG_RECONNECT_STATES: Record<string, string> = {
  '25006': 'read_only_sql_transaction',
  '57P01': 'admin_shutdown',
  '57P02': 'crash_shutdown',
  '57P03': 'cannot_connect_now',
  '57P04': 'database_dropped',
  '53300': 'too_many_connections',
  '53100': 'disk_full',
  '53200': 'out_of_memory',
  '58000': 'system_error',
  '58030': 'io_error',
  // Fencing may forbid the application role to log in (ALTER ROLE … NOLOGIN).
  '28000': 'invalid_authorization_specification',
  '25P02': 'in_failed_sql_transaction',
  XX000: 'internal_error',
};

/** SQLSTATEs that are transient on a healthy connection. */
const PG_RETRY_STATES: Record<string, string> = {
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '55P03': 'lock_not_available',
  '57014': 'query_canceled',
};

const PG_CONNECTION_MESSAGES =
  /connection terminated|not queryable|connection ended|terminating connection|timeout expired|query read timeout|connection timeout|server closed the connection|socket hang up|the database system is (starting up|shutting down|in recovery)/i;

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  retriable?: unknown;
  type?: unknown;
  originalError?: unknown;
  cause?: unknown;
}

const asErrorLike = (err: unknown): ErrorLike =>
  typeof err === 'object' && err !== null ? (err as ErrorLike) : {};
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Thrown by the PostgreSQL sink when an idempotency key exists with different content. */
export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError';
}

/** Thrown when a write is abandoned because the generator is stopping. */
export class StoppedError extends Error {
  override name = 'StoppedError';
}

/** How to react to an error from a PostgreSQL write (or from connecting for one). */
export function classifyPostgresError(err: unknown): RetryDecision {
  const e = asErrorLike(err);
  const code = str(e.code);
  const message = str(e.message);
  if (str(e.name) === 'IdempotencyConflictError') return { action: 'fail', reason: 'idempotency_conflict' };
  if (str(e.name) === 'StoppedError') return { action: 'fail', reason: 'stopped' };
  if (SOCKET_ERRNOS.has(code)) return { action: 'reconnect', reason: code.toLowerCase() };
  if (code in PG_RECONNECT_STATES)
    return { action: 'reconnect', reason: PG_RECONNECT_STATES[code] as string };
  if (code in PG_RETRY_STATES) return { action: 'retry', reason: PG_RETRY_STATES[code] as string };
  if (/^08/.test(code)) return { action: 'reconnect', reason: `connection_exception_${code}` };
  if (/^23/.test(code)) {
    const reason =
      code === '23503'
        ? 'foreign_key_violation'
        : code === '23505'
          ? 'unique_violation'
          : 'integrity_constraint_violation';
    return { action: 'fail', reason };
  }
  if (/^[0-9A-Z]{5}$/.test(code)) return { action: 'fail', reason: `sqlstate_${code}` };
  if (PG_CONNECTION_MESSAGES.test(message)) return { action: 'reconnect', reason: 'connection_lost' };
  const cause = e.cause;
  if (cause && cause !== err) {
    const inner = classifyPostgresError(cause);
    if (inner.action !== 'fail') return inner;
  }
  return { action: 'fail', reason: 'unexpected_error' };
}

/** kafkajs protocol error types that retrying (possibly on another cluster) cannot fix. */
const KAFKA_PERMANENT_TYPES = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'INVALID_REQUIRED_ACKS',
  'CORRUPT_MESSAGE',
  'INVALID_RECORD',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'SASL_AUTHENTICATION_FAILED',
]);

/**
 * How to react to an error from a Kafka produce. kafkajs has already retried
 * internally by the time an error reaches us, so anything not known to be permanent
 * is treated as "the cluster is unreachable or moving": reconnect and retry.
 */
export function classifyKafkaError(err: unknown): RetryDecision {
  const e = asErrorLike(err);
  const name = str(e.name);
  if (name === 'StoppedError') return { action: 'fail', reason: 'stopped' };
  const type = str(e.type) || str(asErrorLike(e.originalError).type);
  if (type && KAFKA_PERMANENT_TYPES.has(type)) return { action: 'fail', reason: type.toLowerCase() };
  if (name === 'KafkaJSInvalidTopicError' || name === 'KafkaJSNonRetriableError' || name === 'TypeError') {
    const inner = e.originalError ?? e.cause;
    if (name === 'KafkaJSNonRetriableError' && inner && inner !== err) return classifyKafkaError(inner);
    return { action: 'fail', reason: name };
  }
  if (type) return { action: 'reconnect', reason: type.toLowerCase() };
  if (SOCKET_ERRNOS.has(str(e.code))) return { action: 'reconnect', reason: str(e.code).toLowerCase() };
  return { action: 'reconnect', reason: name.startsWith('KafkaJS') ? name : 'kafka_error' };
}

// ---------------------------------------------------------------------------
// Retry policy
// ---------------------------------------------------------------------------

export interface RetryPolicy {
  /** First backoff delay. */
  initialDelayMs: number;
  /** Backoff cap. */
  maxDelayMs: number;
  /**
   * How long one write keeps being retried before it is declared failed. Long enough
   * to ride out a failover (the runbook's PostgreSQL RTO is 10 minutes).
   */
  writeDeadlineMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  initialDelayMs: 50,
  maxDelayMs: 2_000,
  writeDeadlineMs: 15 * 60_000,
};

/** Exponential backoff with "equal jitter": half fixed, half random, capped. `random` ∈ [0, 1). */
export function backoffDelayMs(retryNumber: number, policy: RetryPolicy, random: number): number {
  const exp = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, retryNumber - 1));
  return Math.round(exp / 2 + (exp / 2) * random);
}

export type RetryVerdict = { retry: true; delayMs: number } | { retry: false; reason: string };

/**
 * Whether to try a write again after an error classified as `decision`, given when
 * the write's first attempt started and how many retries it already had.
 */
export function decideRetry(args: {
  decision: RetryDecision;
  retriesSoFar: number;
  firstAttemptAtMs: number;
  nowMs: number;
  policy: RetryPolicy;
  stopping: boolean;
  random: number;
}): RetryVerdict {
  const { decision, retriesSoFar, firstAttemptAtMs, nowMs, policy, stopping, random } = args;
  if (decision.action === 'fail') return { retry: false, reason: decision.reason };
  if (stopping) return { retry: false, reason: 'stopped' };
  const delayMs = backoffDelayMs(retriesSoFar + 1, policy, random);
  if (nowMs + delayMs - firstAttemptAtMs > policy.writeDeadlineMs)
    return { retry: false, reason: `deadline_exceeded(${decision.reason})` };
  return { retry: true, delayMs };
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

export interface WriteCounters {
  /** Writes started (sequence numbers handed out). */
  attempted: number;
  attemptedByKind: PerKind<number>;
  /** Writes acknowledged by each sink, each write counted at most once per sink. */
  acknowledged: PerSink<number>;
  acknowledgedByKind: PerSink<PerKind<number>>;
  /** Writes acknowledged by every enabled sink. */
  completed: number;
  /** Writes a sink was asked to take and never acknowledged (permanent error, deadline, stop). */
  failed: PerSink<number>;
  failedByReason: PerSink<Record<string, number>>;
  /** Extra attempts (beyond the first) per sink. */
  retried: PerSink<number>;
  retriedByReason: PerSink<Record<string, number>>;
  /** PostgreSQL retries that found the write already committed (counted as one ack). */
  duplicatesSuppressed: number;
  /** Connections (re)established after the first one, per sink. */
  reconnects: PerSink<number>;
  /** Writes started but not finished. */
  inFlight: number;
  /** Highest sequence number handed out. */
  lastSeq: number;
  /** Finished writes in a row that some sink failed (reset by a completed write); guards against a broken setup. */
  consecutiveFailures: number;
}

interface WriteState {
  kind: WriteKind;
  acked: Set<Sink>;
  failed: Set<Sink>;
  retries: PerSink<number>;
}

export interface AckResult {
  /** True the first time this write is acknowledged by this sink; false for a repeat. */
  counted: boolean;
}

export class WriteAccounting {
  private readonly seqs: SequenceNumbers;
  private readonly open = new Map<number, WriteState>();
  private readonly c: WriteCounters;

  constructor(
    readonly sinks: readonly Sink[],
    startSeq = 1,
  ) {
    if (sinks.length === 0 || !sinks.includes('postgres'))
      throw new Error('the postgres sink is always enabled');
    this.seqs = new SequenceNumbers(startSeq);
    this.c = {
      attempted: 0,
      attemptedByKind: perKind(() => 0),
      acknowledged: perSink(() => 0),
      acknowledgedByKind: perSink(() => perKind(() => 0)),
      completed: 0,
      failed: perSink(() => 0),
      failedByReason: perSink(() => ({})),
      retried: perSink(() => 0),
      retriedByReason: perSink(() => ({})),
      duplicatesSuppressed: 0,
      reconnects: perSink(() => 0),
      inFlight: 0,
      lastSeq: 0,
      consecutiveFailures: 0,
    };
  }

  /** Starts a write: hands out the next sequence number. */
  begin(kind: WriteKind): number {
    const seq = this.seqs.next();
    this.open.set(seq, { kind, acked: new Set(), failed: new Set(), retries: perSink(() => 0) });
    this.c.attempted += 1;
    this.c.attemptedByKind[kind] += 1;
    this.c.inFlight += 1;
    this.c.lastSeq = seq;
    return seq;
  }

  private state(seq: number, sink: Sink): WriteState {
    const s = this.open.get(seq);
    if (!s) throw new Error(`write ${seq} is not in flight`);
    if (!this.sinks.includes(sink)) throw new Error(`sink ${sink} is not enabled`);
    return s;
  }

  /**
   * Records that `sink` acknowledged write `seq`. `duplicate` = the acknowledgement came
   * from a retry that found the write already applied (the idempotency key existed).
   * A write is counted once per sink, however many times it is acknowledged.
   */
  acknowledge(seq: number, sink: Sink, opts: { duplicate?: boolean } = {}): AckResult {
    const s = this.state(seq, sink);
    if (s.failed.has(sink)) throw new Error(`write ${seq} was already declared failed for ${sink}`);
    if (s.acked.has(sink)) return { counted: false };
    s.acked.add(sink);
    this.c.acknowledged[sink] += 1;
    this.c.acknowledgedByKind[sink][s.kind] += 1;
    if (opts.duplicate && sink === 'postgres') this.c.duplicatesSuppressed += 1;
    return { counted: true };
  }

  /** Records one more attempt of write `seq` on `sink` after an error. */
  retry(seq: number, sink: Sink, reason: string): void {
    const s = this.state(seq, sink);
    if (s.acked.has(sink) || s.failed.has(sink))
      throw new Error(`write ${seq} is already settled for ${sink}`);
    s.retries[sink] += 1;
    this.c.retried[sink] += 1;
    bump(this.c.retriedByReason[sink], reason);
  }

  /** Declares write `seq` failed for `sink` (never acknowledged); counted once. */
  fail(seq: number, sink: Sink, reason: string): void {
    const s = this.state(seq, sink);
    if (s.acked.has(sink)) throw new Error(`write ${seq} was already acknowledged by ${sink}`);
    if (s.failed.has(sink)) return;
    s.failed.add(sink);
    this.c.failed[sink] += 1;
    bump(this.c.failedByReason[sink], reason);
  }

  retriesOf(seq: number, sink: Sink): number {
    return this.state(seq, sink).retries[sink];
  }

  isAcknowledged(seq: number, sink: Sink): boolean {
    return this.state(seq, sink).acked.has(sink);
  }

  /** Writes started so far. */
  get attempted(): number {
    return this.c.attempted;
  }

  /** Finished writes in a row that some sink failed. */
  get consecutiveFailures(): number {
    return this.c.consecutiveFailures;
  }

  reconnected(sink: Sink): void {
    this.c.reconnects[sink] += 1;
  }

  /**
   * Ends write `seq`. A sink that never settled it (Kafka is not tried when PostgreSQL
   * failed) is left uncounted, so for every sink: acknowledged + failed = writes it was asked to take.
   */
  finish(seq: number): void {
    const s = this.open.get(seq);
    if (!s) throw new Error(`write ${seq} is not in flight`);
    if (this.sinks.every((sink) => s.acked.has(sink))) {
      this.c.completed += 1;
      this.c.consecutiveFailures = 0;
    } else {
      this.c.consecutiveFailures += 1;
    }
    this.open.delete(seq);
    this.c.inFlight -= 1;
  }

  /** A deep copy of the counters. */
  snapshot(): WriteCounters {
    return structuredClone(this.c);
  }
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

// ---------------------------------------------------------------------------
// Rate schedule
// ---------------------------------------------------------------------------

/**
 * When each write is due at `ratePerSecond`. After a stall (a failover) the schedule
 * does not try to catch up on everything it missed: at most `maxBurst` writes are
 * released back to back, then it is back to the nominal rate.
 */
export class RateSchedule {
  private nextDueMs: number;
  readonly intervalMs: number;

  constructor(
    ratePerSecond: number,
    startMs: number,
    private readonly maxBurst = 1,
  ) {
    if (!Number.isInteger(maxBurst) || maxBurst < 1)
      throw new Error(`maxBurst must be a positive integer, got ${maxBurst}`);
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond))
      throw new Error(`rate must be positive, got ${ratePerSecond}`);
    this.intervalMs = 1000 / ratePerSecond;
    this.nextDueMs = startMs;
  }

  /** Claims the next slot: returns when it is due (may be in the past = now). */
  claim(nowMs: number): number {
    const due = Math.max(this.nextDueMs, nowMs - (this.maxBurst - 1) * this.intervalMs);
    this.nextDueMs = due + this.intervalMs;
    return due;
  }
}
