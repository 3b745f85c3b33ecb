/**
 * What the export accepts as a table list and a time window, and the COPY statement it
 * builds: every refusal names what is wrong.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../../../lambdas/shared/errors';
import {
  AUDIT_TABLE_SPECS,
  copySql,
  parseInstant,
  parseTables,
  parseWindow,
} from '../../../integrity/audit-export/tables';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('tables', () => {
  it('accepts each table, lists and all, in a fixed order', () => {
    expect(parseTables('orders')).toEqual(['orders']);
    expect(parseTables('risk_events,orders')).toEqual(['orders', 'risk_events']);
    expect(parseTables('all')).toEqual(['orders', 'fills', 'risk_events']);
    expect(parseTables(['fills', 'fills'])).toEqual(['fills']);
  });

  it('names an unknown table', () => {
    expect(() => parseTables('trades')).toThrow(InvalidInputError);
    expect(() => parseTables('orders,balances')).toThrow(
      "unknown table 'balances': expected one of orders, fills, risk_events or all",
    );
    expect(() => parseTables('')).toThrow(/no table given/);
  });
});

describe('instants', () => {
  it.each([
    ['2026-01-31', '2026-01-31T00:00:00.000000Z'],
    ['2026-01-31T09:30Z', '2026-01-31T09:30:00.000000Z'],
    ['2026-01-31T09:30:15Z', '2026-01-31T09:30:15.000000Z'],
    ['2026-01-31T09:30:15.5Z', '2026-01-31T09:30:15.500000Z'],
    ['2026-01-31T09:30:15.123456Z', '2026-01-31T09:30:15.123456Z'],
    ['2026-01-31T09:30:15+02:00', '2026-01-31T07:30:15.000000Z'],
    ['2026-01-31T00:30:00-0130', '2026-01-31T02:00:00.000000Z'],
    ['2026-01-01T00:00:00.000001+01:00', '2025-12-31T23:00:00.000001Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000000Z'],
    ['1969-12-31T23:59:59.999999Z', '1969-12-31T23:59:59.999999Z'],
  ])('%s is %s', (input, iso) => {
    expect(parseInstant(input, 'from').iso).toBe(iso);
  });

  it.each([
    ['yesterday', /unrecognised format/],
    ['2026-01-31T09:30:00', /needs Z or an offset/],
    ['2026-13-01', /month 13 does not exist/],
    ['2026-02-30', /day 30 does not exist in 2026-02/],
    ['2025-02-29T00:00:00Z', /day 29 does not exist/],
    ['2026-01-31T24:00:00Z', /time of day out of range/],
    ['2026-01-31T09:30:00.1234567Z', /unrecognised format/],
    ['2026-01-31T09:30:00+25:00', /offset/],
    ['31/01/2026', /unrecognised format/],
    ['1738300000', /unrecognised format/],
  ])('%s is refused', (input, why) => {
    expect(() => parseInstant(input, 'from')).toThrow(InvalidInputError);
    expect(() => parseInstant(input, 'from')).toThrow(why);
    expect(() => parseInstant(input, 'from')).toThrow(`from '${input}' is not an ISO-8601 instant`);
  });
});

describe('window [from, to)', () => {
  it('keeps microseconds and orders by them', () => {
    const w = parseWindow('2026-01-01T00:00:00.000001Z', '2026-01-01T00:00:00.000002Z');
    expect(w.to.epochMicros - w.from.epochMicros).toBe(1n);
  });

  it('refuses a backwards or empty window, naming both ends', () => {
    expect(() => parseWindow('2026-01-02', '2026-01-01')).toThrow(
      'the window is backwards: from 2026-01-02T00:00:00.000000Z must be before to 2026-01-01T00:00:00.000000Z',
    );
    // Same instant written two ways.
    expect(() => parseWindow('2026-01-01T01:00:00+01:00', '2026-01-01T00:00:00Z')).toThrow(
      /the window is empty/,
    );
  });

  it('refuses a missing end', () => {
    expect(() => parseWindow(undefined, '2026-01-01')).toThrow('the window needs a start: --from');
    expect(() => parseWindow('2026-01-01', ' ')).toThrow('the window needs an end: --to');
  });
});

describe('COPY statement', () => {
  const window = parseWindow('2026-01-01', '2026-01-02T12:00:00+01:00');

  it('selects the spec columns in order, UTC timestamps, the half-open window and a total row order', () => {
    const sql = copySql(AUDIT_TABLE_SPECS.fills, window);
    expect(sql).toContain(
      `where "executed_at" >= '2026-01-01T00:00:00.000000Z'::timestamptz and "executed_at" < '2026-01-02T11:00:00.000000Z'::timestamptz`,
    );
    expect(sql).toContain('order by "executed_at", "fill_id")');
    expect(sql).toContain(
      `to_char("executed_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "executed_at"`,
    );
    expect(sql).toMatch(/to stdout with \(format csv, header true, encoding 'UTF8'\)$/);
    const columns = [...sql.matchAll(/ as "([a-z_]+)"/g)].map((m) => m[1]);
    expect(columns).toEqual(AUDIT_TABLE_SPECS.fills.columns.map((c) => c.name));
  });

  it('covers every column of the three tables in the order of the schema file', () => {
    const schema = fs.readFileSync(
      path.join(REPO_ROOT, 'schemas', 'postgres', '0001_trading_core.sql'),
      'utf8',
    );
    for (const spec of Object.values(AUDIT_TABLE_SPECS)) {
      const body = new RegExp(`create table if not exists ${spec.table} \\(\\n([\\s\\S]*?)\\n\\);`).exec(
        schema,
      )![1]!;
      const columns = body
        .split('\n')
        .map(
          (line) =>
            /^ {2}([a-z_]+)\s+(uuid|text|bigint|numeric|timestamptz|jsonb|char|boolean)/.exec(line)?.[1],
        )
        .filter((c): c is string => c !== undefined);
      expect([spec.table, spec.columns.map((c) => c.name)]).toEqual([spec.table, columns]);
      expect(columns).toContain(spec.timeColumn);
      expect(columns).toContain(spec.primaryKey);
    }
  });
});
