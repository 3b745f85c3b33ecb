import {
  backoffDelayMs,
  classifyKafkaError,
  classifyPostgresError,
  decideRetry,
  DEFAULT_RETRY_POLICY,
  IdempotencyConflictError,
  RateSchedule,
  SequenceNumbers,
  StoppedError,
  WriteAccounting,
  type RetryPolicy,
} from '../../../workload/accounting';

const sqlError = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('SequenceNumbers', () => {
  it('hands out 1, 2, 3, … strictly increasing', () => {
    const seq = new SequenceNumbers();
    expect(seq.current).toBe(0);
    const got = Array.from({ length: 1000 }, () => seq.next());
    expect(got[0]).toBe(1);
    for (let i = 1; i < got.length; i++) expect(got[i]).toBe((got[i - 1] as number) + 1);
    expect(seq.current).toBe(1000);
  });

  it('can resume from a given number and rejects nonsense', () => {
    expect(new SequenceNumbers(42).next()).toBe(42);
    expect(() => new SequenceNumbers(0)).toThrow(/positive/);
    expect(() => new SequenceNumbers(1.5)).toThrow(/positive/);
  });
});

describe('WriteAccounting', () => {
  it('numbers writes monotonically across kinds, even when they finish out of order', () => {
    const a = new WriteAccounting(['postgres']);
    const s1 = a.begin('order');
    const s2 = a.begin('fill');
    const s3 = a.begin('risk_event');
    expect([s1, s2, s3]).toEqual([1, 2, 3]);
    a.acknowledge(s3, 'postgres');
    a.finish(s3);
    a.acknowledge(s1, 'postgres');
    a.finish(s1);
    expect(a.begin('order')).toBe(4);
    const c = a.snapshot();
    expect(c.attempted).toBe(4);
    expect(c.attemptedByKind).toEqual({ order: 2, fill: 1, risk_event: 1 });
    expect(c.lastSeq).toBe(4);
    expect(c.inFlight).toBe(2);
  });

  it('counts an acknowledgement once however many retries of the same write it took', () => {
    const a = new WriteAccounting(['postgres', 'kafka']);
    const seq = a.begin('order');
    a.retry(seq, 'postgres', 'connection_lost');
    a.retry(seq, 'postgres', 'econnrefused');
    expect(a.retriesOf(seq, 'postgres')).toBe(2);
    // The retry found the idempotency key already committed: acknowledged, as a suppressed duplicate.
    expect(a.acknowledge(seq, 'postgres', { duplicate: true })).toEqual({ counted: true });
    // A second acknowledgement of the same write (e.g. another retry succeeding) is not counted.
    expect(a.acknowledge(seq, 'postgres', { duplicate: true })).toEqual({ counted: false });
    expect(a.acknowledge(seq, 'postgres')).toEqual({ counted: false });
    a.acknowledge(seq, 'kafka');
    a.finish(seq);

    const c = a.snapshot();
    expect(c.acknowledged).toEqual({ postgres: 1, kafka: 1 });
    expect(c.acknowledgedByKind.postgres).toEqual({ order: 1, fill: 0, risk_event: 0 });
    expect(c.duplicatesSuppressed).toBe(1);
    expect(c.retried).toEqual({ postgres: 2, kafka: 0 });
    expect(c.retriedByReason.postgres).toEqual({ connection_lost: 1, econnrefused: 1 });
    expect(c.failed).toEqual({ postgres: 0, kafka: 0 });
    expect(c.completed).toBe(1);
    expect(c.inFlight).toBe(0);
  });

  it('keeps failed (gave up) and retried (extra attempts) apart', () => {
    const a = new WriteAccounting(['postgres', 'kafka']);
    const seq = a.begin('fill');
    a.retry(seq, 'postgres', 'read_only_sql_transaction');
    a.retry(seq, 'postgres', 'read_only_sql_transaction');
    a.fail(seq, 'postgres', 'deadline_exceeded(read_only_sql_transaction)');
    a.fail(seq, 'postgres', 'again'); // counted once
    a.finish(seq);

    const c = a.snapshot();
    expect(c.retried.postgres).toBe(2);
    expect(c.failed.postgres).toBe(1);
    expect(c.failedByReason.postgres).toEqual({ 'deadline_exceeded(read_only_sql_transaction)': 1 });
    expect(c.acknowledged.postgres).toBe(0);
    // Kafka was never asked to take the write: it is neither acknowledged nor failed there.
    expect(c.failed.kafka).toBe(0);
    expect(c.completed).toBe(0);
    expect(c.consecutiveFailures).toBe(1);
  });

  it('refuses contradictions: ack after fail, fail or retry after ack, unknown writes, disabled sinks', () => {
    const a = new WriteAccounting(['postgres']);
    const s1 = a.begin('order');
    a.fail(s1, 'postgres', 'x');
    expect(() => a.acknowledge(s1, 'postgres')).toThrow(/failed/);
    const s2 = a.begin('order');
    a.acknowledge(s2, 'postgres');
    expect(() => a.fail(s2, 'postgres', 'x')).toThrow(/acknowledged/);
    expect(() => a.retry(s2, 'postgres', 'x')).toThrow(/settled/);
    expect(() => a.acknowledge(s2, 'kafka')).toThrow(/not enabled/);
    expect(() => a.acknowledge(99, 'postgres')).toThrow(/not in flight/);
    a.finish(s2);
    expect(() => a.finish(s2)).toThrow(/not in flight/);
    expect(() => new WriteAccounting(['kafka'])).toThrow(/postgres/);
  });

  it('counts consecutive incomplete writes and resets on a complete one', () => {
    const a = new WriteAccounting(['postgres', 'kafka']);
    for (let i = 0; i < 3; i++) {
      const s = a.begin('order');
      a.acknowledge(s, 'postgres');
      a.fail(s, 'kafka', 'message_too_large');
      a.finish(s);
    }
    expect(a.consecutiveFailures).toBe(3);
    const s = a.begin('order');
    a.acknowledge(s, 'postgres');
    a.acknowledge(s, 'kafka');
    a.finish(s);
    expect(a.consecutiveFailures).toBe(0);
    expect(a.snapshot()).toMatchObject({
      completed: 1,
      failed: { postgres: 0, kafka: 3 },
      acknowledged: { postgres: 4, kafka: 1 },
    });
  });

  it('counts reconnects per sink and returns independent snapshots', () => {
    const a = new WriteAccounting(['postgres', 'kafka']);
    a.reconnected('postgres');
    a.reconnected('postgres');
    a.reconnected('kafka');
    const snap = a.snapshot();
    expect(snap.reconnects).toEqual({ postgres: 2, kafka: 1 });
    snap.reconnects.postgres = 100;
    expect(a.snapshot().reconnects.postgres).toBe(2);
  });
});

describe('classifyPostgresError', () => {
  it.each([
    [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      'reconnect',
      'econnrefused',
    ],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'reconnect', 'econnreset'],
    [new Error('Connection terminated unexpectedly'), 'reconnect', 'connection_lost'],
    [
      new Error('Client has encountered a connection error and is not queryable'),
      'reconnect',
      'connection_lost',
    ],
    [new Error('Query read timeout'), 'reconnect', 'connection_lost'],
    [
      sqlError('25006', 'cannot execute INSERT in a read-only transaction'),
      'reconnect',
      'read_only_sql_transaction',
    ],
    [sqlError('57P01', 'terminating connection due to administrator command'), 'reconnect', 'admin_shutdown'],
    [sqlError('57P03', 'the database system is starting up'), 'reconnect', 'cannot_connect_now'],
    [
      sqlError('28000', 'role "tradepulse_app" is not permitted to log in'),
      'reconnect',
      'invalid_authorization_specification',
    ],
    [sqlError('08006'), 'reconnect', 'connection_exception_08006'],
    [sqlError('40001'), 'retry', 'serialization_failure'],
    [sqlError('40P01'), 'retry', 'deadlock_detected'],
    [sqlError('23505'), 'fail', 'unique_violation'],
    [sqlError('23503'), 'fail', 'foreign_key_violation'],
    [sqlError('23514'), 'fail', 'integrity_constraint_violation'],
    [sqlError('42P01', 'relation "orders" does not exist'), 'fail', 'sqlstate_42P01'],
    [new IdempotencyConflictError('reused'), 'fail', 'idempotency_conflict'],
    [new StoppedError('stopping'), 'fail', 'stopped'],
    [new Error('something else'), 'fail', 'unexpected_error'],
    ['a string', 'fail', 'unexpected_error'],
  ])('%s → %s (%s)', (err, action, reason) => {
    expect(classifyPostgresError(err)).toEqual({ action, reason });
  });

  it('looks at the cause of a wrapped error', () => {
    const wrapped = new Error('write failed', {
      cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
    });
    expect(classifyPostgresError(wrapped)).toEqual({ action: 'reconnect', reason: 'econnrefused' });
  });
});

describe('classifyKafkaError', () => {
  const kafkaError = (name: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(name), { name, ...extra });

  it('reconnects on connection loss, exhausted retries and retriable protocol errors', () => {
    expect(classifyKafkaError(kafkaError('KafkaJSConnectionError'))).toEqual({
      action: 'reconnect',
      reason: 'KafkaJSConnectionError',
    });
    expect(classifyKafkaError(kafkaError('KafkaJSNumberOfRetriesExceeded'))).toMatchObject({
      action: 'reconnect',
    });
    expect(
      classifyKafkaError(
        kafkaError('KafkaJSProtocolError', { type: 'NOT_LEADER_OR_FOLLOWER', retriable: true }),
      ),
    ).toEqual({
      action: 'reconnect',
      reason: 'not_leader_or_follower',
    });
    expect(
      classifyKafkaError(kafkaError('KafkaJSProtocolError', { type: 'UNKNOWN_TOPIC_OR_PARTITION' })),
    ).toMatchObject({ action: 'reconnect' });
    expect(classifyKafkaError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toMatchObject({
      action: 'reconnect',
    });
  });

  it('fails on errors a retry cannot fix', () => {
    expect(classifyKafkaError(kafkaError('KafkaJSProtocolError', { type: 'MESSAGE_TOO_LARGE' }))).toEqual({
      action: 'fail',
      reason: 'message_too_large',
    });
    expect(
      classifyKafkaError(
        kafkaError('KafkaJSNumberOfRetriesExceeded', {
          originalError: { type: 'TOPIC_AUTHORIZATION_FAILED' },
        }),
      ),
    ).toMatchObject({ action: 'fail' });
    expect(
      classifyKafkaError(
        kafkaError('KafkaJSNonRetriableError', {
          originalError: kafkaError('KafkaJSProtocolError', { type: 'INVALID_RECORD' }),
        }),
      ),
    ).toMatchObject({
      action: 'fail',
    });
    expect(classifyKafkaError(new StoppedError('x'))).toEqual({ action: 'fail', reason: 'stopped' });
  });
});

describe('retry policy', () => {
  const policy: RetryPolicy = { initialDelayMs: 100, maxDelayMs: 1000, writeDeadlineMs: 10_000 };

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffDelayMs(1, policy, 0)).toBe(50);
    expect(backoffDelayMs(1, policy, 0.999)).toBe(100);
    expect(backoffDelayMs(2, policy, 0)).toBe(100);
    expect(backoffDelayMs(3, policy, 0)).toBe(200);
    expect(backoffDelayMs(20, policy, 0)).toBe(500);
    expect(backoffDelayMs(20, policy, 0.999)).toBe(1000);
  });

  const base = { retriesSoFar: 0, firstAttemptAtMs: 0, nowMs: 0, policy, stopping: false, random: 0 };

  it('retries reconnect/retry decisions, never fail decisions', () => {
    expect(decideRetry({ ...base, decision: { action: 'reconnect', reason: 'econnrefused' } })).toEqual({
      retry: true,
      delayMs: 50,
    });
    expect(
      decideRetry({ ...base, decision: { action: 'retry', reason: 'deadlock_detected' }, retriesSoFar: 2 }),
    ).toEqual({
      retry: true,
      delayMs: 200,
    });
    expect(decideRetry({ ...base, decision: { action: 'fail', reason: 'unique_violation' } })).toEqual({
      retry: false,
      reason: 'unique_violation',
    });
  });

  it('gives up when stopping or when the write deadline would pass', () => {
    const decision = { action: 'reconnect' as const, reason: 'econnrefused' };
    expect(decideRetry({ ...base, decision, stopping: true })).toEqual({ retry: false, reason: 'stopped' });
    expect(decideRetry({ ...base, decision, nowMs: 9_990 })).toEqual({
      retry: false,
      reason: 'deadline_exceeded(econnrefused)',
    });
    expect(decideRetry({ ...base, decision, nowMs: 9_900 })).toEqual({ retry: true, delayMs: 50 });
  });

  it('defaults to riding out a failover as long as the runbook RTO', () => {
    expect(DEFAULT_RETRY_POLICY.writeDeadlineMs).toBeGreaterThanOrEqual(10 * 60_000);
  });
});

describe('RateSchedule', () => {
  it('spaces writes at the nominal rate', () => {
    const r = new RateSchedule(100, 1_000);
    expect(r.intervalMs).toBe(10);
    expect([r.claim(1_000), r.claim(1_000), r.claim(1_000)]).toEqual([1_000, 1_010, 1_020]);
  });

  it('after a stall releases at most maxBurst writes at once, then resumes the rate', () => {
    const r = new RateSchedule(10, 0, 3);
    r.claim(0); // due 0
    // Stalled for 10 s (100 missed slots): only 3 are due immediately.
    const now = 10_000;
    const dues = [r.claim(now), r.claim(now), r.claim(now), r.claim(now), r.claim(now)];
    expect(dues.filter((d) => d <= now)).toHaveLength(3);
    expect(dues.slice(3)).toEqual([10_100, 10_200]);
  });

  it('with maxBurst 1 does not catch up at all', () => {
    const r = new RateSchedule(10, 0);
    expect(r.claim(5_000)).toBe(5_000);
    expect(r.claim(5_000)).toBe(5_100);
  });

  it('rejects a non-positive rate or burst', () => {
    expect(() => new RateSchedule(0, 0)).toThrow(/rate/);
    expect(() => new RateSchedule(Number.NaN, 0)).toThrow(/rate/);
    expect(() => new RateSchedule(1, 0, 0)).toThrow(/maxBurst/);
  });
});
