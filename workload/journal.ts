/**
 * The journal of ACKNOWLEDGED writes: one JSON line per (write, sink) acknowledgement,
 * appended only after the sink acknowledged it (PostgreSQL: COMMIT returned; Kafka:
 * the acks=-1 produce returned its offset). After a failover, comparing the journal
 * with what the promoted stores hold counts exactly what was acknowledged and lost.
 *
 * Durability. Each line is handed to the kernel with one synchronous write(2) on an
 * O_APPEND descriptor *before* the acknowledgement is counted, so a crash or kill of
 * the generator process loses nothing it counted. fsync only guards against the
 * generator's own host losing power or panicking, which no drill simulates; doing it
 * per line would cap the write rate at the disk's flush latency. So the default is
 * `interval`: fdatasync at most every `syncIntervalMs` (200 ms) when lines were added,
 * and always on close. `always` (fdatasync per line) and `close` are available.
 * A line is complete only with its terminating newline: a torn last line (host crash
 * mid-write) is reported by the reader and never counted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SINKS, WRITE_KINDS, type PerKind, type PerSink, type Sink } from './accounting';
import { fromUnits, multiplyUnits, toUnits } from './decimal';

export const JOURNAL_FORMAT_VERSION = 1;

const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal string');
const uuid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a UUID');

const entryBase = {
  v: z.literal(JOURNAL_FORMAT_VERSION),
  writer: z.string().min(1),
  seq: z.number().int().positive(),
  kind: z.enum(WRITE_KINDS),
  idempotencyKey: z.string().min(1),
  orderId: uuid.nullable(),
  fillId: uuid.nullable(),
  riskEventId: uuid.nullable(),
  account: z.string().min(1),
  instrument: z.string().min(1).nullable(),
  side: z.enum(['buy', 'sell']).nullable(),
  quantity: decimal.nullable(),
  price: decimal.nullable(),
  acknowledgedAt: z.iso.datetime({ offset: true }),
  /** The acknowledgement came from a retry that found the write already applied. */
  duplicate: z.boolean(),
};

export const PostgresAckSchema = z.object({ ...entryBase, sink: z.literal('postgres') }).strict();
export const KafkaAckSchema = z
  .object({
    ...entryBase,
    sink: z.literal('kafka'),
    topic: z.string().min(1),
    partition: z.number().int().nonnegative(),
    /** Offset as a decimal string (Kafka offsets are int64). */
    offset: z.string().regex(/^\d+$/),
  })
  .strict();
export const JournalEntrySchema = z.discriminatedUnion('sink', [PostgresAckSchema, KafkaAckSchema]);

export type PostgresAckEntry = z.infer<typeof PostgresAckSchema>;
export type KafkaAckEntry = z.infer<typeof KafkaAckSchema>;
export type JournalEntry = z.infer<typeof JournalEntrySchema>;

export type JournalSyncMode = 'always' | 'interval' | 'close';

export interface JournalWriterOptions {
  /** @default 'interval' */
  sync?: JournalSyncMode;
  /** @default 200 */
  syncIntervalMs?: number;
}

/** An unterminated last line: what a crash in the middle of an append leaves. */
export interface TornTail {
  line: number;
  byteOffset: number;
  bytes: number;
  /** The first bytes of the fragment, for the report. */
  preview: string;
}

export class JournalWriter {
  private fd: number | undefined;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private written = 0;
  readonly sync: JournalSyncMode;

  private constructor(
    readonly path: string,
    fd: number,
    opts: JournalWriterOptions,
    /** A torn last line found (and cut off) when an existing journal was reopened. */
    readonly repairedTornTail: TornTail | null,
  ) {
    this.fd = fd;
    this.sync = opts.sync ?? 'interval';
    const interval = opts.syncIntervalMs ?? 200;
    if (!(interval > 0)) throw new Error('syncIntervalMs must be positive');
    if (this.sync === 'interval') {
      this.timer = setInterval(() => this.flushIfDirty(), interval);
      this.timer.unref();
    }
  }

  /**
   * Opens (creating directories as needed) a journal for appending. An existing journal
   * is appended to; a torn last line in it is cut off first and reported in
   * `repairedTornTail`, so the next line does not get glued to the fragment.
   */
  static open(file: string, opts: JournalWriterOptions = {}): JournalWriter {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const fd = fs.openSync(file, 'a+');
    try {
      const torn = cutTornTail(fd);
      return new JournalWriter(file, fd, opts, torn);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /** Lines appended by this writer. */
  get linesWritten(): number {
    return this.written;
  }

  /** Appends one acknowledged write. Returns once the line is in the kernel (and on disk for `always`). */
  append(entry: JournalEntry): void {
    if (this.fd === undefined) throw new Error(`journal ${this.path} is closed`);
    const line = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
    let off = 0;
    while (off < line.length) off += fs.writeSync(this.fd, line, off, line.length - off);
    this.written += 1;
    if (this.sync === 'always') fs.fdatasyncSync(this.fd);
    else this.dirty = true;
  }

  /** Forces everything appended so far to disk. */
  flush(): void {
    if (this.fd === undefined) return;
    fs.fdatasyncSync(this.fd);
    this.dirty = false;
  }

  private flushIfDirty(): void {
    if (this.dirty) this.flush();
  }

  /** Flushes and closes; idempotent. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.fd === undefined) return;
    try {
      fs.fsyncSync(this.fd);
    } finally {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

/** If the file does not end in a newline, truncates it after its last newline. */
function cutTornTail(fd: number): TornTail | null {
  const size = fs.fstatSync(fd).size;
  if (size === 0) return null;
  const last = Buffer.alloc(1);
  fs.readSync(fd, last, 0, 1, size - 1);
  if (last[0] === 0x0a) return null;
  // Scan backwards for the previous newline.
  const chunk = Buffer.alloc(64 * 1024);
  let end = size;
  let cut = 0;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const n = fs.readSync(fd, chunk, 0, end - start, start);
    const idx = chunk.subarray(0, n).lastIndexOf(0x0a);
    if (idx >= 0) {
      cut = start + idx + 1;
      break;
    }
    end = start;
  }
  const fragment = Buffer.alloc(Math.min(120, size - cut));
  fs.readSync(fd, fragment, 0, fragment.length, cut);
  let lines = 0;
  const counter = Buffer.alloc(64 * 1024);
  for (let pos = 0; pos < cut; pos += counter.length) {
    const n = fs.readSync(fd, counter, 0, Math.min(counter.length, cut - pos), pos);
    for (let i = 0; i < n; i++) if (counter[i] === 0x0a) lines++;
  }
  fs.ftruncateSync(fd, cut);
  return { line: lines + 1, byteOffset: cut, bytes: size - cut, preview: fragment.toString('utf8') };
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

export type JournalRecord =
  | { type: 'entry'; line: number; byteOffset: number; entry: JournalEntry }
  | { type: 'invalid'; line: number; byteOffset: number; reason: string }
  | ({ type: 'torn' } & TornTail);

function parseLine(text: string): { entry: JournalEntry } | { reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { reason: `not JSON: ${(err as Error).message}` };
  }
  const result = JournalEntrySchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    return {
      reason: `not a journal entry: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    };
  }
  return { entry: result.data };
}

/**
 * Streams a journal back, one record per line, in file order and in bounded memory.
 * A last line without its newline is yielded as `torn` (never as an entry).
 */
export async function* readJournal(file: string): AsyncGenerator<JournalRecord> {
  const stream = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  let pending: Buffer = Buffer.alloc(0);
  let pendingOffset = 0;
  let line = 0;
  for await (const data of stream) {
    let buf = pending.length ? Buffer.concat([pending, data as Buffer]) : (data as Buffer);
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf(0x0a, start)) >= 0) {
      line += 1;
      const byteOffset = pendingOffset + start;
      const text = buf.toString('utf8', start, nl);
      start = nl + 1;
      if (text.trim() === '') {
        yield { type: 'invalid', line, byteOffset, reason: 'blank line' };
        continue;
      }
      const parsed = parseLine(text);
      yield 'entry' in parsed
        ? { type: 'entry', line, byteOffset, entry: parsed.entry }
        : { type: 'invalid', line, byteOffset, reason: parsed.reason };
    }
    pendingOffset += start;
    buf = buf.subarray(start);
    pending = Buffer.from(buf);
  }
  if (pending.length > 0) {
    yield {
      type: 'torn',
      line: line + 1,
      byteOffset: pendingOffset,
      bytes: pending.length,
      preview: pending.toString('utf8', 0, Math.min(120, pending.length)),
    };
  }
}

// ---------------------------------------------------------------------------
// Summaries
// ---------------------------------------------------------------------------

export interface KindTotals {
  count: number;
  /** Σ quantity (exact decimal string). */
  quantity: string;
  /** Σ quantity × price over entries that have a price (exact decimal string). */
  notional: string;
}

export interface SinkJournalSummary {
  /** Distinct writes acknowledged by this sink. */
  acknowledged: number;
  /** Of those, acknowledged by a retry that found the write already applied. */
  duplicates: number;
  byKind: PerKind<KindTotals>;
  byAccount: Record<string, PerKind<KindTotals>>;
  byInstrument: Record<string, PerKind<KindTotals>>;
}

export interface WriterSeqs {
  maxSeq: number;
  seqs: Set<number>;
}

export interface KafkaPartitionSummary {
  topic: string;
  partition: number;
  count: number;
  minOffset: string;
  maxOffset: string;
}

export interface JournalSummary {
  /** Lines read, including invalid ones (not the torn tail). */
  lines: number;
  /** Valid entries counted. */
  entries: number;
  /** Entries repeating a (writer, seq, sink) already seen: not counted again. Should be 0. */
  repeatedAcks: number;
  /** Complete lines that are not journal entries (corruption, not a crash artefact). */
  invalidLines: Array<{ line: number; byteOffset: number; reason: string }>;
  /** An unterminated last line (the generator's host crashed mid-append): not counted. */
  tornTail: TornTail | null;
  sinks: PerSink<SinkJournalSummary>;
  /** Acknowledged sequence numbers per writer and sink. */
  writers: Record<string, PerSink<WriterSeqs>>;
  /** Kafka acknowledgements per `topic/partition`. */
  kafkaPartitions: Record<string, KafkaPartitionSummary>;
  /** Highest acknowledged sequence number of any writer and sink (0 when empty). */
  maxSeq: number;
}

interface KindAcc {
  count: number;
  quantity: bigint;
  notional: bigint;
}
type KindAccs = PerKind<KindAcc>;

const newKindAccs = (): KindAccs => ({
  order: { count: 0, quantity: 0n, notional: 0n },
  fill: { count: 0, quantity: 0n, notional: 0n },
  risk_event: { count: 0, quantity: 0n, notional: 0n },
});

const finishKindAccs = (a: KindAccs): PerKind<KindTotals> => {
  const f = (k: KindAcc): KindTotals => ({
    count: k.count,
    quantity: fromUnits(k.quantity),
    notional: fromUnits(k.notional),
  });
  return { order: f(a.order), fill: f(a.fill), risk_event: f(a.risk_event) };
};

/** Accumulates a summary one entry at a time (single pass, no second read). */
export class JournalSummarizer {
  private lines = 0;
  private entries = 0;
  private repeated = 0;
  private readonly invalid: JournalSummary['invalidLines'] = [];
  private torn: TornTail | null = null;
  private readonly sinks = Object.fromEntries(
    SINKS.map((s) => [
      s,
      {
        acknowledged: 0,
        duplicates: 0,
        byKind: newKindAccs(),
        byAccount: new Map<string, KindAccs>(),
        byInstrument: new Map<string, KindAccs>(),
      },
    ]),
  ) as PerSink<{
    acknowledged: number;
    duplicates: number;
    byKind: KindAccs;
    byAccount: Map<string, KindAccs>;
    byInstrument: Map<string, KindAccs>;
  }>;
  private readonly writers = new Map<string, PerSink<WriterSeqs>>();
  private readonly partitions = new Map<
    string,
    { topic: string; partition: number; count: number; min: bigint; max: bigint }
  >();
  private maxSeq = 0;

  addRecord(record: JournalRecord): void {
    if (record.type === 'torn') {
      this.torn = {
        line: record.line,
        byteOffset: record.byteOffset,
        bytes: record.bytes,
        preview: record.preview,
      };
      return;
    }
    this.lines += 1;
    if (record.type === 'invalid')
      this.invalid.push({ line: record.line, byteOffset: record.byteOffset, reason: record.reason });
    else this.addEntry(record.entry);
  }

  addEntry(entry: JournalEntry): void {
    let writer = this.writers.get(entry.writer);
    if (!writer) {
      writer = { postgres: { maxSeq: 0, seqs: new Set() }, kafka: { maxSeq: 0, seqs: new Set() } };
      this.writers.set(entry.writer, writer);
    }
    const seqs = writer[entry.sink];
    if (seqs.seqs.has(entry.seq)) {
      this.repeated += 1;
      return;
    }
    seqs.seqs.add(entry.seq);
    seqs.maxSeq = Math.max(seqs.maxSeq, entry.seq);
    this.maxSeq = Math.max(this.maxSeq, entry.seq);
    this.entries += 1;

    const sink = this.sinks[entry.sink];
    sink.acknowledged += 1;
    if (entry.duplicate) sink.duplicates += 1;
    const quantity = entry.quantity === null ? 0n : toUnits(entry.quantity);
    const notional =
      entry.quantity === null || entry.price === null ? 0n : multiplyUnits(quantity, toUnits(entry.price));
    const add = (accs: KindAccs) => {
      const k = accs[entry.kind];
      k.count += 1;
      k.quantity += quantity;
      k.notional += notional;
    };
    add(sink.byKind);
    add(getOrCreate(sink.byAccount, entry.account, newKindAccs));
    if (entry.instrument !== null) add(getOrCreate(sink.byInstrument, entry.instrument, newKindAccs));

    if (entry.sink === 'kafka') {
      const key = `${entry.topic}/${entry.partition}`;
      const offset = BigInt(entry.offset);
      const p = this.partitions.get(key);
      if (!p)
        this.partitions.set(key, {
          topic: entry.topic,
          partition: entry.partition,
          count: 1,
          min: offset,
          max: offset,
        });
      else {
        p.count += 1;
        if (offset < p.min) p.min = offset;
        if (offset > p.max) p.max = offset;
      }
    }
  }

  result(): JournalSummary {
    const finishSink = (s: (typeof this.sinks)[Sink]): SinkJournalSummary => ({
      acknowledged: s.acknowledged,
      duplicates: s.duplicates,
      byKind: finishKindAccs(s.byKind),
      byAccount: Object.fromEntries(
        [...s.byAccount].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, finishKindAccs(v)]),
      ),
      byInstrument: Object.fromEntries(
        [...s.byInstrument].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, finishKindAccs(v)]),
      ),
    });
    return {
      lines: this.lines,
      entries: this.entries,
      repeatedAcks: this.repeated,
      invalidLines: [...this.invalid],
      tornTail: this.torn,
      sinks: { postgres: finishSink(this.sinks.postgres), kafka: finishSink(this.sinks.kafka) },
      writers: Object.fromEntries(
        [...this.writers].map(([w, s]) => [
          w,
          {
            postgres: { maxSeq: s.postgres.maxSeq, seqs: new Set(s.postgres.seqs) },
            kafka: { maxSeq: s.kafka.maxSeq, seqs: new Set(s.kafka.seqs) },
          },
        ]),
      ),
      kafkaPartitions: Object.fromEntries(
        [...this.partitions].map(([k, p]) => [
          k,
          {
            topic: p.topic,
            partition: p.partition,
            count: p.count,
            minOffset: p.min.toString(),
            maxOffset: p.max.toString(),
          },
        ]),
      ),
      maxSeq: this.maxSeq,
    };
  }
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

/** Reads a journal once, streaming, and summarises it. */
export async function summarizeJournal(file: string): Promise<JournalSummary> {
  const summarizer = new JournalSummarizer();
  for await (const record of readJournal(file)) summarizer.addRecord(record);
  return summarizer.result();
}

/** Sorted, inclusive [first, last] runs of a set of sequence numbers: {1,2,3,7} → [[1,3],[7,7]]. */
export function toRanges(seqs: Iterable<number>): Array<[number, number]> {
  const sorted = [...seqs].sort((a, b) => a - b);
  const ranges: Array<[number, number]> = [];
  for (const s of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else if (!last || s > last[1]) ranges.push([s, s]);
  }
  return ranges;
}

/** The summary with its sequence-number sets as ranges, ready for JSON.stringify. */
export function journalSummaryToJson(summary: JournalSummary): unknown {
  return {
    ...summary,
    writers: Object.fromEntries(
      Object.entries(summary.writers).map(([w, s]) => [
        w,
        Object.fromEntries(
          SINKS.map((sink) => [
            sink,
            { maxSeq: s[sink].maxSeq, count: s[sink].seqs.size, seqRanges: toRanges(s[sink].seqs) },
          ]),
        ),
      ]),
    ),
  };
}
