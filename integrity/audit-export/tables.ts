import { InvalidInputError } from './errors';

/**
 * The tables a regulator receives, their columns in a fixed order (the order of
 * schemas/postgres/0001_trading_core.sql), the time column the window applies to and the
 * row order: time, then primary key, so the same window of the same data always gives the
 * same bytes.
 */
export interface AuditTableSpec {
  readonly table: AuditTable;
  readonly primaryKey: string;
  /** The window [from, to) applies to this column. */
  readonly timeColumn: string;
  readonly columns: readonly AuditColumn[];
}

export interface AuditColumn {
  readonly name: string;
  /** timestamptz columns are written as UTC ISO-8601 with microseconds: 2026-01-02T03:04:05.123456Z */
  readonly kind: 'text' | 'timestamp';
}

export const AUDIT_TABLES = ['orders', 'fills', 'risk_events'] as const;
export type AuditTable = (typeof AUDIT_TABLES)[number];

const text = (name: string): AuditColumn => ({ name, kind: 'text' });
const ts = (name: string): AuditColumn => ({ name, kind: 'timestamp' });

export const AUDIT_TABLE_SPECS: Readonly<Record<AuditTable, AuditTableSpec>> = {
  orders: {
    table: 'orders',
    primaryKey: 'order_id',
    timeColumn: 'created_at',
    columns: [
      text('order_id'),
      text('idempotency_key'),
      text('writer_id'),
      text('seq'),
      text('account_id'),
      text('symbol'),
      text('side'),
      text('order_type'),
      text('time_in_force'),
      text('quantity'),
      text('limit_price'),
      text('filled_quantity'),
      text('status'),
      ts('created_at'),
      ts('updated_at'),
    ],
  },
  fills: {
    table: 'fills',
    primaryKey: 'fill_id',
    timeColumn: 'executed_at',
    columns: [
      text('fill_id'),
      text('idempotency_key'),
      text('writer_id'),
      text('seq'),
      text('order_id'),
      text('account_id'),
      text('symbol'),
      text('side'),
      text('quantity'),
      text('price'),
      text('fee'),
      text('liquidity'),
      ts('executed_at'),
    ],
  },
  risk_events: {
    table: 'risk_events',
    primaryKey: 'risk_event_id',
    timeColumn: 'created_at',
    columns: [
      text('risk_event_id'),
      text('idempotency_key'),
      text('writer_id'),
      text('seq'),
      text('account_id'),
      text('symbol'),
      text('order_id'),
      text('event_type'),
      text('severity'),
      text('details'),
      ts('created_at'),
    ],
  },
};

/** `orders`, `fills`, `risk_events`, or `all` (the three, in that order). Anything else is named in the error. */
export function parseTables(input: string | readonly string[]): AuditTable[] {
  const names = (typeof input === 'string' ? input.split(',') : [...input]).map((s) => s.trim());
  if (names.length === 0 || names.every((n) => n === ''))
    throw new InvalidInputError(`no table given: expected one of ${AUDIT_TABLES.join(', ')} or all`, {
      field: 'table',
    });
  const chosen = new Set<AuditTable>();
  for (const name of names) {
    if (name === 'all') AUDIT_TABLES.forEach((t) => chosen.add(t));
    else if ((AUDIT_TABLES as readonly string[]).includes(name)) chosen.add(name as AuditTable);
    else
      throw new InvalidInputError(
        `unknown table '${name}': expected one of ${AUDIT_TABLES.join(', ')} or all`,
        { field: 'table', value: name },
      );
  }
  return AUDIT_TABLES.filter((t) => chosen.has(t));
}

/** One instant, exact to the microsecond (PostgreSQL's precision). */
export interface Instant {
  /** Canonical UTC form with six fraction digits, e.g. 2026-01-02T03:04:05.000000Z */
  readonly iso: string;
  readonly epochMicros: bigint;
}

export interface ExportWindow {
  /** Inclusive. */
  readonly from: Instant;
  /** Exclusive. */
  readonly to: Instant;
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/**
 * An ISO-8601 instant: a date-time with `Z` or an explicit offset (seconds and up to six
 * fraction digits optional), or a bare date, which means 00:00 UTC that day. A date-time
 * without an offset is refused: its meaning would depend on the machine's time zone.
 */
export function parseInstant(value: string, field: string): Instant {
  const m = ISO_DATE_TIME.exec(value.trim());
  const bad = (why: string) =>
    new InvalidInputError(
      `${field} '${value}' is not an ISO-8601 instant (${why}); use e.g. 2026-01-31T00:00:00Z or 2026-01-31`,
      { field, value },
    );
  if (!m) {
    if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value.trim()))
      throw bad('a time needs Z or an offset such as +01:00');
    throw bad('unrecognised format');
  }
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12) throw bad(`month ${mo} does not exist`);
  if (day < 1 || day > daysInMonth) throw bad(`day ${d} does not exist in ${y}-${mo}`);
  if (hour > 23 || minute > 59 || second > 59) throw bad('time of day out of range');
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    const oh = Number(z[2]);
    const om = Number(z[3]);
    if (oh > 23 || om > 59) throw bad(`offset ${zone} out of range`);
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
  const micros = BigInt(epochMs) * 1000n + BigInt(frac.padEnd(6, '0') || '0');
  return { iso: formatInstant(micros), epochMicros: micros };
}

function formatInstant(epochMicros: bigint): string {
  const ms = epochMicros / 1000n - (epochMicros % 1000n < 0n ? 1n : 0n);
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  const fraction = ((epochMicros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  return `${base}.${fraction.toString().padStart(6, '0')}Z`;
}

/** The window [from, to): both valid instants, `from` strictly before `to`. */
export function parseWindow(from: string | undefined, to: string | undefined): ExportWindow {
  if (from === undefined || from.trim() === '')
    throw new InvalidInputError('the window needs a start: --from <ISO-8601 instant>', { field: 'from' });
  if (to === undefined || to.trim() === '')
    throw new InvalidInputError('the window needs an end: --to <ISO-8601 instant>', { field: 'to' });
  const window = { from: parseInstant(from, 'from'), to: parseInstant(to, 'to') };
  if (window.from.epochMicros >= window.to.epochMicros)
    throw new InvalidInputError(
      `the window is ${window.from.epochMicros === window.to.epochMicros ? 'empty' : 'backwards'}: from ${window.from.iso} must be before to ${window.to.iso} (the window is [from, to))`,
      { field: 'window', from: window.from.iso, to: window.to.iso },
    );
  return window;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The COPY statement that streams one table's rows in the window as CSV with a header:
 * columns in the spec's order, timestamps in UTC ISO-8601 with microseconds, NULL as an
 * empty unquoted field and the empty string as "" (PostgreSQL's CSV conventions), rows in
 * (time, primary key) order. The window bounds are literals (COPY takes no parameters),
 * built only from parsed instants.
 */
export function copySql(spec: AuditTableSpec, window: ExportWindow): string {
  const select = spec.columns
    .map((c) =>
      c.kind === 'timestamp'
        ? `to_char(${quoteIdent(c.name)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ${quoteIdent(c.name)}`
        : `${quoteIdent(c.name)}::text as ${quoteIdent(c.name)}`,
    )
    .join(', ');
  const time = quoteIdent(spec.timeColumn);
  return (
    `copy (select ${select} from ${quoteIdent(spec.table)}` +
    ` where ${time} >= '${window.from.iso}'::timestamptz and ${time} < '${window.to.iso}'::timestamptz` +
    ` order by ${time}, ${quoteIdent(spec.primaryKey)})` +
    ` to stdout with (format csv, header true, encoding 'UTF8')`
  );
}
