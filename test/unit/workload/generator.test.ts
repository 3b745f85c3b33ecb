import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  startLoadGenerator,
  LoadGeneratorOptionsError,
  type ConnectorHooks,
  type LoadGeneratorOptions,
} from '../../../workload/generator';
import { summarizeJournal, readJournal, type JournalEntry } from '../../../workload/journal';
import { PostgresSink, type PostgresAck, type SinkConnection } from '../../../workload/postgres-sink';
import type { KafkaAck } from '../../../workload/kafka-sink';
import type { PlannedWrite } from '../../../workload/write-plan';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'generator-test-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const sqlError = (code: string, message = `sqlstate ${code}`) => Object.assign(new Error(message), { code });

/** What a scripted sink does on attempt `attempt` of write `seq`. */
type Step = 'ok' | 'commit-then-drop' | Error;
type Script = (write: PlannedWrite, attempt: number) => Step;

/** A stand-in for the trading store: rows by idempotency key, like the UNIQUE constraint. */
class FakeDatabase {
  readonly rows = new Map<string, PlannedWrite>();
  connects = 0;

  connector(script: Script = () => 'ok') {
    const attempts = new Map<number, number>();
    return (_worker: number, hooks: ConnectorHooks): SinkConnection<PostgresAck> => {
      let connected = false;
      let connections = 0;
      return {
        write: async (w) => {
          if (!connected) {
            connections += 1;
            this.connects += 1;
            hooks.onConnect('fake-postgres', connections);
            connected = true;
          }
          const attempt = (attempts.get(w.seq) ?? 0) + 1;
          attempts.set(w.seq, attempt);
          const step = script(w, attempt);
          if (step instanceof Error) throw step;
          const existed = this.rows.has(w.idempotencyKey);
          if (!existed) this.rows.set(w.idempotencyKey, w);
          if (step === 'commit-then-drop') {
            // COMMIT went through, then the connection died before the client heard of it.
            connected = false;
            throw new Error('Connection terminated unexpectedly');
          }
          return { duplicate: existed };
        },
        reset: async () => {
          connected = false;
        },
        close: async () => {
          connected = false;
        },
      };
    };
  }
}

class FakeKafka {
  readonly messages: Array<{ topic: string; seq: number; key: string }> = [];
  private offsets = new Map<string, number>();

  connector(script: Script = () => 'ok') {
    const attempts = new Map<number, number>();
    return (_worker: number, hooks: ConnectorHooks): SinkConnection<KafkaAck> => {
      let connected = false;
      let connections = 0;
      return {
        write: async (w) => {
          if (!connected) {
            connections += 1;
            hooks.onConnect('fake-kafka:9092', connections);
            connected = true;
          }
          const attempt = (attempts.get(w.seq) ?? 0) + 1;
          attempts.set(w.seq, attempt);
          const step = script(w, attempt);
          if (step instanceof Error) throw step;
          const topic = `${w.kind}s`;
          const offset = this.offsets.get(topic) ?? 0;
          this.offsets.set(topic, offset + 1);
          this.messages.push({ topic, seq: w.seq, key: w.accountId });
          return { topic, partition: 0, offset: String(offset) };
        },
        reset: async () => {
          connected = false;
        },
        close: async () => {},
      };
    };
  }
}

const FAST_RETRY = { initialDelayMs: 1, maxDelayMs: 4, writeDeadlineMs: 60_000 };

function options(over: Partial<LoadGeneratorOptions>): LoadGeneratorOptions {
  return {
    postgres: { host: '127.0.0.1', port: 1, database: 'tradepulse', user: 'tradepulse_app' },
    journalPath: path.join(dir, 'journal.jsonl'),
    ratePerSecond: 5_000,
    concurrency: 1,
    writerId: 'unit-writer',
    seed: 7,
    retry: FAST_RETRY,
    ...over,
  };
}

async function journalEntries(file: string): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  for await (const r of readJournal(file)) if (r.type === 'entry') out.push(r.entry);
  return out;
}

describe('load generator (with fake sinks)', () => {
  it('writes, publishes and journals every write once, with monotonically increasing sequence numbers', async () => {
    const db = new FakeDatabase();
    const kafka = new FakeKafka();
    const gen = startLoadGenerator(
      options({
        maxWrites: 40,
        kafka: { brokers: ['fake:9092'] },
        connectors: { postgres: db.connector(), kafka: kafka.connector() },
      }),
    );
    const summary = await gen.done;

    expect(summary.stopReason).toBe('max_writes');
    expect(summary.attempted).toBe(40);
    expect(summary.acknowledged).toEqual({ postgres: 40, kafka: 40 });
    expect(summary.completed).toBe(40);
    expect(summary.failed).toEqual({ postgres: 0, kafka: 0 });
    expect(summary.retried).toEqual({ postgres: 0, kafka: 0 });
    expect(summary.duplicatesSuppressed).toBe(0);
    expect(summary.reconnects).toEqual({ postgres: 0, kafka: 0 });
    expect(summary.inFlight).toBe(0);
    expect(summary.lastSeq).toBe(40);
    expect(summary.journal.lines).toBe(80);
    expect(summary.state).toBe('stopped');
    expect(db.rows.size).toBe(40);

    const entries = await journalEntries(summary.journal.path);
    const pgSeqs = entries.filter((e) => e.sink === 'postgres').map((e) => e.seq);
    expect(pgSeqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // Each write's Kafka line follows its PostgreSQL line: published only after the commit.
    for (let i = 0; i < entries.length; i += 2) {
      expect(entries[i]).toMatchObject({ sink: 'postgres', seq: i / 2 + 1 });
      expect(entries[i + 1]).toMatchObject({
        sink: 'kafka',
        seq: i / 2 + 1,
        idempotencyKey: `unit-writer:${i / 2 + 1}`,
      });
    }
    expect(kafka.messages.map((m) => m.seq)).toEqual(pgSeqs);
    // Fills only reference orders that were acknowledged earlier.
    const ackedOrders = new Set<string>();
    for (const e of entries.filter((x) => x.sink === 'postgres')) {
      if (e.kind === 'order') ackedOrders.add(e.orderId as string);
      if (e.kind === 'fill') expect(ackedOrders.has(e.orderId as string)).toBe(true);
    }

    const s = await summarizeJournal(summary.journal.path);
    expect(s.sinks.postgres.acknowledged).toBe(summary.acknowledged.postgres);
    expect(s.sinks.kafka.acknowledged).toBe(summary.acknowledged.kafka);
    expect(s.sinks.postgres.byKind.order.count).toBe(summary.acknowledgedByKind.postgres.order);
  });

  it('retries the same write with the same idempotency key across lost commits, read-only servers and reconnects, counting it once', async () => {
    const db = new FakeDatabase();
    const kafka = new FakeKafka();
    const postgresScript: Script = (w, attempt) => {
      if (w.seq === 5 && attempt === 1) return 'commit-then-drop';
      if (w.seq === 9 && attempt <= 2)
        return sqlError('25006', 'cannot execute INSERT in a read-only transaction');
      if (w.seq === 12) return sqlError('23514', 'violates check constraint');
      return 'ok';
    };
    const kafkaScript: Script = (w, attempt) =>
      w.seq === 3 && attempt === 1
        ? Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' })
        : 'ok';
    const seen: string[] = [];
    const gen = startLoadGenerator(
      options({
        maxWrites: 20,
        kafka: { brokers: ['fake:9092'] },
        connectors: { postgres: db.connector(postgresScript), kafka: kafka.connector(kafkaScript) },
        onEvent: (e) =>
          seen.push(
            e.type === 'retry' || e.type === 'failed' ? `${e.type}:${e.sink}:${e.seq}:${e.reason}` : e.type,
          ),
      }),
    );
    const s = await gen.done;

    expect(s.attempted).toBe(20);
    // seq 12 failed for good (constraint violation): never retried, never published.
    expect(s.acknowledged).toEqual({ postgres: 19, kafka: 19 });
    expect(s.failed).toEqual({ postgres: 1, kafka: 0 });
    expect(s.failedByReason.postgres).toEqual({ integrity_constraint_violation: 1 });
    // seq 5: one retry after the lost commit, acknowledged once as a suppressed duplicate.
    expect(s.duplicatesSuppressed).toBe(1);
    // seq 5 once + seq 9 twice.
    expect(s.retried).toEqual({ postgres: 3, kafka: 1 });
    expect(s.retriedByReason.postgres).toEqual({ connection_lost: 1, read_only_sql_transaction: 2 });
    expect(s.reconnects).toEqual({ postgres: 3, kafka: 1 });
    expect(s.completed).toBe(19);
    expect(seen).toContain('retry:postgres:5:connection_lost');
    expect(seen).toContain('failed:postgres:12:integrity_constraint_violation');
    expect(seen).toContain('retry:kafka:3:KafkaJSConnectionError');

    // The database holds each write once; the journal acknowledges each once.
    expect(db.rows.size).toBe(19);
    const entries = await journalEntries(s.journal.path);
    const pg = entries.filter((e) => e.sink === 'postgres');
    expect(pg.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(pg.filter((e) => e.duplicate).map((e) => e.seq)).toEqual([5]);
    expect(entries.filter((e) => e.sink === 'kafka')).toHaveLength(19);
    expect(kafka.messages.filter((m) => m.seq === 12)).toHaveLength(0);
    expect(kafka.messages.filter((m) => m.seq === 3)).toHaveLength(1);
  });

  it('runs PostgreSQL-only when no Kafka target is given', async () => {
    const db = new FakeDatabase();
    const s = await startLoadGenerator(options({ maxWrites: 10, connectors: { postgres: db.connector() } }))
      .done;
    expect(s.sinks).toEqual(['postgres']);
    expect(s.acknowledged).toEqual({ postgres: 10, kafka: 0 });
    expect(s.completed).toBe(10);
    expect((await journalEntries(s.journal.path)).every((e) => e.sink === 'postgres')).toBe(true);
  });

  it('stop() fails writes still being retried after the grace period and returns the summary', async () => {
    const db = new FakeDatabase();
    const gen = startLoadGenerator(
      options({
        ratePerSecond: 100,
        concurrency: 2,
        stopGraceMs: 30,
        connectors: {
          postgres: db.connector(() =>
            Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
          ),
        },
      }),
    );
    await new Promise((r) => setTimeout(r, 80));
    const running = gen.stats();
    expect(running.state).toBe('running');
    expect(running.retried.postgres).toBeGreaterThan(0);

    const [s, again] = await Promise.all([gen.stop(), gen.stop()]);
    expect(again).toBe(s);
    expect(s.stopReason).toBe('stopped');
    expect(s.acknowledged.postgres).toBe(0);
    expect(s.failed.postgres).toBe(s.attempted);
    expect(s.failedByReason.postgres).toEqual({ stopped: s.attempted });
    expect(s.inFlight).toBe(0);
    expect(s.journal.lines).toBe(0);
    expect(gen.stats().state).toBe('stopped');
  });

  it('gives up on a write after its deadline', async () => {
    const db = new FakeDatabase();
    const s = await startLoadGenerator(
      options({
        maxWrites: 1,
        retry: { initialDelayMs: 1, maxDelayMs: 2, writeDeadlineMs: 20 },
        connectors: { postgres: db.connector(() => sqlError('57P03', 'the database system is starting up')) },
      }),
    ).done;
    expect(s.failed.postgres).toBe(1);
    expect(s.failedByReason.postgres).toEqual({ 'deadline_exceeded(cannot_connect_now)': 1 });
    expect(s.retried.postgres).toBeGreaterThan(1);
  });

  it('aborts when writes keep failing for a reason a failover does not explain', async () => {
    const db = new FakeDatabase();
    const s = await startLoadGenerator(
      options({
        maxConsecutiveFailures: 5,
        connectors: { postgres: db.connector(() => sqlError('42P01', 'relation "orders" does not exist')) },
      }),
    ).done;
    expect(s.stopReason).toBe('aborted');
    expect(s.abortReason).toMatch(/5 writes in a row failed/);
    expect(s.abortReason).toMatch(/sqlstate_42P01/);
    expect(s.retried.postgres).toBe(0);
    expect(s.failed.postgres).toBeGreaterThanOrEqual(5);
  });

  it('stops by itself after its duration, at about the requested rate', async () => {
    const db = new FakeDatabase();
    const s = await startLoadGenerator(
      options({ ratePerSecond: 50, durationSeconds: 0.3, connectors: { postgres: db.connector() } }),
    ).done;
    expect(s.stopReason).toBe('duration');
    expect(s.attempted).toBeGreaterThanOrEqual(10);
    expect(s.attempted).toBeLessThanOrEqual(20);
    expect(s.elapsedMs).toBeGreaterThanOrEqual(290);
  });

  it('appends to an existing journal and stamps the writer id', async () => {
    const db = new FakeDatabase();
    const journalPath = path.join(dir, 'shared.jsonl');
    await startLoadGenerator(
      options({ journalPath, writerId: 'run-a', maxWrites: 3, connectors: { postgres: db.connector() } }),
    ).done;
    await startLoadGenerator(
      options({ journalPath, writerId: 'run-b', maxWrites: 4, connectors: { postgres: db.connector() } }),
    ).done;
    const s = await summarizeJournal(journalPath);
    expect(Object.keys(s.writers).sort()).toEqual(['run-a', 'run-b']);
    expect(s.writers['run-a']?.postgres.seqs).toEqual(new Set([1, 2, 3]));
    expect(s.writers['run-b']?.postgres.maxSeq).toBe(4);
    expect(db.rows.size).toBe(7);
  });

  it('rejects invalid options with a message naming the option', () => {
    expect(() => startLoadGenerator(options({ ratePerSecond: -1 }))).toThrow(LoadGeneratorOptionsError);
    expect(() => startLoadGenerator(options({ ratePerSecond: -1 }))).toThrow(/ratePerSecond/);
    expect(() => startLoadGenerator(options({ writerId: 'has spaces' }))).toThrow(/writerId/);
    expect(() => startLoadGenerator(options({ kafka: { brokers: ['nohostport'] } }))).toThrow(
      /kafka\.brokers/,
    );
    expect(() => startLoadGenerator({ ...options({}), bogus: 1 } as LoadGeneratorOptions)).toThrow(
      /bogus|Unrecognized/,
    );
    expect(fs.existsSync(path.join(dir, 'journal.jsonl'))).toBe(false);
  });
});

describe('PostgresSink endpoint resolution', () => {
  it('calls the endpoint function again on every reconnect, so a failover can redirect it', async () => {
    // A loopback port nobody listens on: every connect is refused.
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));

    let calls = 0;
    const sink = new PostgresSink({
      endpoint: () => {
        calls += 1;
        return { host: '127.0.0.1', port, database: 'tradepulse', user: 'tradepulse_app' };
      },
      applicationName: 'unit',
      connectTimeoutMs: 1000,
    });
    const write = { kind: 'risk_event' } as PlannedWrite;
    await expect(sink.write(write)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(sink.write(write)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(calls).toBe(2);
    await sink.close();
  });
});
