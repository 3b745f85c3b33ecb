import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  JournalWriter,
  readJournal,
  summarizeJournal,
  journalSummaryToJson,
  toRanges,
  type JournalEntry,
  type JournalRecord,
} from '../../../workload/journal';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-test-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const ORDER_ID = '11111111-1111-8111-8111-111111111111';
const FILL_ID = '22222222-2222-8222-8222-222222222222';
const RISK_ID = '33333333-3333-8333-8333-333333333333';

function order(seq: number, over: Partial<JournalEntry> = {}): JournalEntry {
  return {
    v: 1,
    writer: 'w1',
    seq,
    kind: 'order',
    idempotencyKey: `w1:${seq}`,
    orderId: ORDER_ID,
    fillId: null,
    riskEventId: null,
    account: 'ACC-0001',
    instrument: 'AAPL',
    side: 'buy',
    quantity: '10',
    price: '189.5',
    acknowledgedAt: '2026-01-01T00:00:00.000Z',
    sink: 'postgres',
    duplicate: false,
    ...over,
  } as JournalEntry;
}

function fill(seq: number, over: Partial<JournalEntry> = {}): JournalEntry {
  return order(seq, { kind: 'fill', fillId: FILL_ID, quantity: '4', price: '189.25', ...over });
}

function risk(seq: number, over: Partial<JournalEntry> = {}): JournalEntry {
  return order(seq, {
    kind: 'risk_event',
    orderId: null,
    riskEventId: RISK_ID,
    side: null,
    quantity: null,
    price: null,
    ...over,
  });
}

function kafka(entry: JournalEntry, partition: number, offset: number): JournalEntry {
  return {
    ...entry,
    sink: 'kafka',
    duplicate: false,
    topic: `${entry.kind}s`,
    partition,
    offset: String(offset),
  } as JournalEntry;
}

function writeJournal(file: string, entries: JournalEntry[]): void {
  const w = JournalWriter.open(file);
  for (const e of entries) w.append(e);
  w.close();
}

async function collect(file: string): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  for await (const r of readJournal(file)) out.push(r);
  return out;
}

describe('journal writer + reader', () => {
  it('writes one JSON line per acknowledgement and reads them back in order', async () => {
    const file = path.join(dir, 'nested', 'dir', 'j.jsonl');
    const entries = [order(1), kafka(order(1), 0, 0), fill(2), risk(3)];
    writeJournal(file, entries);

    const text = fs.readFileSync(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(
      text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(entries);

    const records = await collect(file);
    expect(records.map((r) => r.type)).toEqual(['entry', 'entry', 'entry', 'entry']);
    expect(records.map((r) => (r.type === 'entry' ? r.entry : null))).toEqual(entries);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4]);
  });

  it('summarises counts and exact sums per sink, kind, account and instrument', async () => {
    const file = path.join(dir, 'j.jsonl');
    writeJournal(file, [
      order(1),
      kafka(order(1), 0, 7),
      order(2, { account: 'ACC-0002', instrument: 'MSFT', quantity: '0.1', price: '0.2' }),
      kafka(order(2, { account: 'ACC-0002', instrument: 'MSFT', quantity: '0.1', price: '0.2' }), 1, 3),
      fill(3, { duplicate: true }),
      order(4, { price: null }), // market order: quantity counted, no notional
      risk(5),
      kafka(risk(5), 0, 8),
    ]);
    const s = await summarizeJournal(file);

    expect(s.entries).toBe(8);
    expect(s.lines).toBe(8);
    expect(s.tornTail).toBeNull();
    expect(s.invalidLines).toEqual([]);
    expect(s.repeatedAcks).toBe(0);
    expect(s.maxSeq).toBe(5);

    const pg = s.sinks.postgres;
    expect(pg.acknowledged).toBe(5);
    expect(pg.duplicates).toBe(1);
    // 10*189.5 + 0.1*0.2 = 1895.02 (exact, no float drift); the market order adds 10 units, no notional.
    expect(pg.byKind.order).toEqual({ count: 3, quantity: '20.1', notional: '1895.02' });
    expect(pg.byKind.fill).toEqual({ count: 1, quantity: '4', notional: '757' });
    expect(pg.byKind.risk_event).toEqual({ count: 1, quantity: '0', notional: '0' });
    expect(pg.byAccount['ACC-0001']?.order.count).toBe(2);
    expect(pg.byAccount['ACC-0002']?.order).toEqual({ count: 1, quantity: '0.1', notional: '0.02' });
    expect(pg.byInstrument.MSFT?.order.count).toBe(1);
    expect(pg.byInstrument.AAPL?.fill.count).toBe(1);

    expect(s.sinks.kafka.acknowledged).toBe(3);
    expect(s.writers.w1?.postgres.seqs).toEqual(new Set([1, 2, 3, 4, 5]));
    expect(s.writers.w1?.kafka.seqs).toEqual(new Set([1, 2, 5]));
    expect(s.writers.w1?.kafka.maxSeq).toBe(5);
    expect(s.kafkaPartitions['orders/0']).toEqual({
      topic: 'orders',
      partition: 0,
      count: 1,
      minOffset: '7',
      maxOffset: '7',
    });
    expect(s.kafkaPartitions['risk_events/0']?.count).toBe(1);
    expect(s.kafkaPartitions['orders/1']?.minOffset).toBe('3');

    const json = JSON.parse(JSON.stringify(journalSummaryToJson(s)));
    expect(json.writers.w1.postgres).toEqual({ maxSeq: 5, count: 5, seqRanges: [[1, 5]] });
    expect(json.writers.w1.kafka.seqRanges).toEqual([
      [1, 2],
      [5, 5],
    ]);
  });

  it('counts an acknowledgement repeated in the journal once and reports the repeat', async () => {
    const file = path.join(dir, 'j.jsonl');
    writeJournal(file, [order(1), order(1), kafka(order(1), 0, 1), order(2)]);
    const s = await summarizeJournal(file);
    expect(s.repeatedAcks).toBe(1);
    expect(s.sinks.postgres.acknowledged).toBe(2);
    expect(s.sinks.postgres.byKind.order.quantity).toBe('20');
    expect(s.sinks.kafka.acknowledged).toBe(1);
  });

  it('reports a torn last line (crash mid-append) and does not count it', async () => {
    const file = path.join(dir, 'j.jsonl');
    writeJournal(file, [order(1), order(2), order(3)]);
    const sizeBefore = fs.statSync(file).size;
    const fourth = JSON.stringify(order(4));
    fs.appendFileSync(file, fourth.slice(0, 40)); // the write of line 4 was cut short

    const records = await collect(file);
    expect(records.filter((r) => r.type === 'entry')).toHaveLength(3);
    const torn = records.at(-1);
    expect(torn).toEqual({
      type: 'torn',
      line: 4,
      byteOffset: sizeBefore,
      bytes: 40,
      preview: fourth.slice(0, 40),
    });

    const s = await summarizeJournal(file);
    expect(s.entries).toBe(3);
    expect(s.maxSeq).toBe(3);
    expect(s.writers.w1?.postgres.seqs.has(4)).toBe(false);
    expect(s.tornTail).toEqual({ line: 4, byteOffset: sizeBefore, bytes: 40, preview: fourth.slice(0, 40) });
  });

  it('treats a complete JSON object without its newline as torn too', async () => {
    const file = path.join(dir, 'j.jsonl');
    writeJournal(file, [order(1)]);
    fs.appendFileSync(file, JSON.stringify(order(2)));
    const s = await summarizeJournal(file);
    expect(s.entries).toBe(1);
    expect(s.tornTail?.line).toBe(2);
  });

  it('reports corrupt complete lines separately from a torn tail and keeps counting after them', async () => {
    const file = path.join(dir, 'j.jsonl');
    const good = (e: JournalEntry) => `${JSON.stringify(e)}\n`;
    fs.writeFileSync(
      file,
      good(order(1)) + 'garbage\n' + `${JSON.stringify({ ...order(2), seq: -1 })}\n` + '\n' + good(order(3)),
    );
    const s = await summarizeJournal(file);
    expect(s.entries).toBe(2);
    expect(s.tornTail).toBeNull();
    expect(s.invalidLines.map((l) => l.line)).toEqual([2, 3, 4]);
    expect(s.invalidLines[0]?.reason).toMatch(/not JSON/);
    expect(s.invalidLines[1]?.reason).toMatch(/seq/);
    expect(s.invalidLines[2]?.reason).toBe('blank line');
    expect(s.invalidLines[1]?.byteOffset).toBe(good(order(1)).length + 'garbage\n'.length);
  });

  it('reads a journal larger than one read chunk, with lines split across chunks', async () => {
    const file = path.join(dir, 'j.jsonl');
    const entries: JournalEntry[] = [];
    for (let seq = 1; seq <= 3000; seq++)
      entries.push(seq % 3 === 0 ? kafka(order(seq), seq % 3, seq) : order(seq));
    writeJournal(file, entries);
    expect(fs.statSync(file).size).toBeGreaterThan(256 * 1024 * 2);
    const s = await summarizeJournal(file);
    expect(s.entries).toBe(3000);
    expect(s.invalidLines).toEqual([]);
    expect(s.sinks.postgres.acknowledged).toBe(2000);
    expect(s.sinks.kafka.acknowledged).toBe(1000);
    expect(s.sinks.postgres.byKind.order.quantity).toBe('20000');
  });

  it('reopening a journal with a torn tail cuts the fragment off, reports it, and appends cleanly', async () => {
    const file = path.join(dir, 'j.jsonl');
    writeJournal(file, [order(1), order(2)]);
    const intact = fs.statSync(file).size;
    fs.appendFileSync(file, '{"v":1,"writer":"w1","se');

    const w = JournalWriter.open(file);
    expect(w.repairedTornTail).toEqual({
      line: 3,
      byteOffset: intact,
      bytes: 24,
      preview: '{"v":1,"writer":"w1","se',
    });
    w.append(order(3));
    w.close();

    const s = await summarizeJournal(file);
    expect(s.tornTail).toBeNull();
    expect(s.invalidLines).toEqual([]);
    expect(s.writers.w1?.postgres.seqs).toEqual(new Set([1, 2, 3]));
  });

  it('reopening an intact journal appends to it without repairs', async () => {
    const file = path.join(dir, 'j.jsonl');
    writeJournal(file, [order(1)]);
    const w = JournalWriter.open(file, { sync: 'always' });
    expect(w.repairedTornTail).toBeNull();
    w.append(order(2));
    expect(w.linesWritten).toBe(1);
    w.close();
    w.close(); // idempotent
    expect(() => w.append(order(3))).toThrow(/closed/);
    expect((await summarizeJournal(file)).entries).toBe(2);
  });

  it('flushes in the background in interval mode and on close', async () => {
    const file = path.join(dir, 'j.jsonl');
    const w = JournalWriter.open(file, { sync: 'interval', syncIntervalMs: 10 });
    w.append(order(1));
    // The line is in the file (kernel) immediately, before any fsync.
    expect(fs.readFileSync(file, 'utf8').split('\n')).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 30));
    w.close();
    expect((await summarizeJournal(file)).entries).toBe(1);
  });

  it('summarises an empty journal', async () => {
    const file = path.join(dir, 'j.jsonl');
    JournalWriter.open(file).close();
    const s = await summarizeJournal(file);
    expect(s).toMatchObject({ lines: 0, entries: 0, maxSeq: 0, tornTail: null, writers: {} });
  });
});

describe('toRanges', () => {
  it('compresses sequence numbers into sorted inclusive runs', () => {
    expect(toRanges([5, 1, 2, 3, 9, 10, 7, 2])).toEqual([
      [1, 3],
      [5, 5],
      [7, 7],
      [9, 10],
    ]);
    expect(toRanges([])).toEqual([]);
  });
});
