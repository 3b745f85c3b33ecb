/**
 * RFC 4180 as the audit export writes it: PostgreSQL's CSV quoting, CRLF record ends put in
 * only outside quoted fields (whatever the chunking), and the record counting the verifier
 * uses.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CrlfRecordEnds, CsvRecordScanner, csvField, parseCsv } from '../../../integrity/audit-export/csv';

async function throughCrlf(input: Buffer, chunkSize: number): Promise<{ out: string; records: number }> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunkSize) pieces.push(input.subarray(i, i + chunkSize));
  const out: Buffer[] = [];
  const crlf = new CrlfRecordEnds();
  await pipeline(
    Readable.from(pieces),
    crlf,
    new Writable({
      write(chunk, _e, done) {
        out.push(chunk as Buffer);
        done();
      },
    }),
  );
  return { out: Buffer.concat(out).toString('utf8'), records: crlf.scanner.records };
}

// What PostgreSQL's COPY (format csv, header) writes: LF record ends, quotes where needed.
const POSTGRES_CSV = [
  'order_id,idempotency_key,writer_id,details',
  '1,plain,,{}',
  '2,"with, comma",w1,"{""note"": ""quoted \\"" inside""}"',
  '3,"multi\nline\r\nfield",,""',
  '4,"""leading quote",,"ends with quote"""',
  '5,ünïcödé ✓,,',
  '',
].join('\n');

describe('CRLF record ends', () => {
  it.each([1, 2, 3, 5, 16, 1024])(
    'turns record-ending LFs into CRLF and leaves quoted line breaks (chunks of %i)',
    async (chunk) => {
      const { out, records } = await throughCrlf(Buffer.from(POSTGRES_CSV, 'utf8'), chunk);
      expect(records).toBe(6);
      expect(out).toBe(
        [
          'order_id,idempotency_key,writer_id,details',
          '1,plain,,{}',
          '2,"with, comma",w1,"{""note"": ""quoted \\"" inside""}"',
          '3,"multi\nline\r\nfield",,""',
          '4,"""leading quote",,"ends with quote"""',
          '5,ünïcödé ✓,,',
          '',
        ].join('\r\n'),
      );
    },
  );

  it('parses back to the same fields, NULL (unquoted empty) and empty string ("") kept apart', async () => {
    const { out } = await throughCrlf(Buffer.from(POSTGRES_CSV, 'utf8'), 7);
    expect(parseCsv(out)).toEqual([
      ['order_id', 'idempotency_key', 'writer_id', 'details'],
      ['1', 'plain', null, '{}'],
      ['2', 'with, comma', 'w1', '{"note": "quoted \\" inside"}'],
      ['3', 'multi\nline\r\nfield', null, ''],
      ['4', '"leading quote', null, 'ends with quote"'],
      ['5', 'ünïcödé ✓', null, null],
    ]);
  });

  it('an empty export is just the header record', async () => {
    const { out, records } = await throughCrlf(Buffer.from('a,b\n'), 1);
    expect(out).toBe('a,b\r\n');
    expect(records).toBe(1);
  });
});

describe('record scanner', () => {
  it('counts records across chunk boundaries and notices an unterminated quoted field', () => {
    const scanner = new CsvRecordScanner();
    const text = Buffer.from('h\r\n"a\r\nb",1\r\n2,"x""y"\r\n');
    for (let i = 0; i < text.length; i += 1) scanner.scan(text.subarray(i, i + 1));
    expect(scanner.records).toBe(3);
    expect(scanner.insideQuotedField).toBe(false);
    const open = new CsvRecordScanner();
    open.scan(Buffer.from('h\r\n"never closed\r\n'));
    expect(open.records).toBe(1);
    expect(open.insideQuotedField).toBe(true);
  });
});

describe('RFC 4180 quoting', () => {
  it.each([
    [null, ''],
    ['', '""'],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line\nbreak', '"line\nbreak"'],
    ['cr\rhere', '"cr\rhere"'],
    [' spaces kept ', ' spaces kept '],
  ])('%j is written as %j and read back', (value, written) => {
    expect(csvField(value)).toBe(written);
    expect(parseCsv(`${csvField(value)},x\r\n`)).toEqual([[value, 'x']]);
  });

  it('the parser rejects malformed CSV instead of guessing', () => {
    expect(() => parseCsv('"open\r\n')).toThrow(/unterminated/);
    expect(() => parseCsv('a"b,c\r\n')).toThrow(/stray quote/);
    expect(() => parseCsv('"a"b\r\n')).toThrow(/expected a comma/);
  });
});
