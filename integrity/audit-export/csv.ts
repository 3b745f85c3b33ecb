import { Transform, type TransformCallback } from 'node:stream';

/**
 * RFC 4180 for the exports: fields separated by commas, a field quoted when it contains a
 * comma, a double quote, CR or LF, a double quote inside a quoted field written twice, and
 * every record (the header included) ended by CRLF. PostgreSQL's `COPY … (format csv)`
 * does the quoting; it ends records with a bare LF, which `CrlfRecordEnds` turns into CRLF
 * outside quoted fields only (a line break inside a quoted field is data and stays as it is).
 */
const QUOTE = 0x22;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

/**
 * Finds the LFs that end records (those outside quoted fields) across chunk boundaries.
 * Quote state simply toggles on every `"`: an escaped `""` toggles twice.
 */
export class CsvRecordScanner {
  private inQuotes = false;
  /** Record ends seen so far (the header counts as one). */
  records = 0;

  /** Calls `onRecordEnd(i)` for the index of each record-ending LF in `chunk`. */
  scan(chunk: Uint8Array, onRecordEnd?: (index: number) => void): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const n = bytes.length;
    let pos = 0;
    let nextQuote = -2;
    let nextLf = -2;
    while (pos < n) {
      if (nextQuote < pos && nextQuote !== -1) nextQuote = bytes.indexOf(QUOTE, pos);
      if (this.inQuotes) {
        if (nextQuote === -1) return;
        this.inQuotes = false;
        pos = nextQuote + 1;
        continue;
      }
      if (nextLf < pos && nextLf !== -1) nextLf = bytes.indexOf(LF, pos);
      const q = nextQuote === -1 ? n : nextQuote;
      const lf = nextLf === -1 ? n : nextLf;
      if (lf < q) {
        this.records += 1;
        onRecordEnd?.(lf);
        pos = lf + 1;
      } else if (q < n) {
        this.inQuotes = true;
        pos = q + 1;
      } else return;
    }
  }

  /** True when the input so far ended inside a quoted field (a truncated or malformed file). */
  get insideQuotedField(): boolean {
    return this.inQuotes;
  }
}

/** LF → CRLF at record ends (outside quoted fields); counts records on the way. */
export class CrlfRecordEnds extends Transform {
  readonly scanner = new CsvRecordScanner();

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const pieces: Buffer[] = [];
    let start = 0;
    this.scanner.scan(chunk, (lf) => {
      // PostgreSQL never writes CR outside quotes, so a record end is always a bare LF here.
      pieces.push(chunk.subarray(start, lf), CRLF);
      start = lf + 1;
    });
    if (start === 0) return done(null, chunk);
    if (start < chunk.length) pieces.push(chunk.subarray(start));
    done(null, Buffer.concat(pieces));
  }
}

/** One field as RFC 4180 writes it (what PostgreSQL's CSV output does for non-NULL values that need it). */
export function csvField(value: string | null): string {
  if (value === null) return '';
  if (value === '' || /[",\r\n]/.test(value)) return `"${value.replaceAll('"', '""')}"`;
  return value;
}

/**
 * Parses RFC 4180 text into records (arrays of fields; an unquoted empty field is null,
 * a quoted empty field is ''). For tests and small files: it holds everything in memory.
 */
export function parseCsv(text: string): (string | null)[][] {
  const records: (string | null)[][] = [];
  let record: (string | null)[] = [];
  let i = 0;
  const n = text.length;
  if (n === 0) return records;
  for (;;) {
    let field: string | null;
    if (text[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) throw new SyntaxError(`unterminated quoted field at offset ${i}`);
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      field = value;
    } else {
      let j = i;
      while (j < n && text[j] !== ',' && text[j] !== '\r' && text[j] !== '\n') j += 1;
      const raw = text.slice(i, j);
      if (raw.includes('"')) throw new SyntaxError(`stray quote in unquoted field at offset ${i}`);
      field = raw === '' ? null : raw;
      i = j;
    }
    record.push(field);
    if (text[i] === ',') {
      i += 1;
      continue;
    }
    if (text.startsWith('\r\n', i)) i += 2;
    else if (text[i] === '\n') i += 1;
    else if (i < n) throw new SyntaxError(`expected a comma or a record end at offset ${i}`);
    records.push(record);
    record = [];
    if (i >= n) return records;
  }
}
