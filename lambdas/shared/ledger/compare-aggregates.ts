import type {
  LedgerAggregates,
  LedgerFigures,
  LedgerFiguresByKey,
  LedgerHorizon,
  LedgerHorizonSplit,
} from '../adapters/contracts';
import { compareDecimals } from './exact-decimal';

export type FindingClass =
  'missing-acknowledged-write' | 'missing-data' | 'write-after-snapshot' | 'mismatch';

export interface LedgerFinding {
  /** Table or aggregate the discrepancy is in, e.g. `orders`, `balances`, `positions`. */
  table: string;
  /** Row key or key range: account, account/instrument, writer seq range. */
  key: string;
  expected: string;
  found: string;
  classification: FindingClass;
  /** SEV-1 findings block resumption of trading. */
  sev1: boolean;
}

const decimal = (value: string | undefined) => value ?? '0';

/** Exact comparison of decimal strings (no float rounding): equal when they denote the same number. */
export function sameDecimal(a: string | undefined, b: string | undefined): boolean {
  const norm = (v: string) => {
    const [int = '0', frac = ''] = v.replace(/^\+/, '').split('.');
    const negative = int.startsWith('-');
    const digits = (negative ? int.slice(1) : int).replace(/^0+(?=\d)/, '');
    const fraction = frac.replace(/0+$/, '');
    const zero = /^0*$/.test(digits) && fraction === '';
    return zero ? '0' : `${negative ? '-' : ''}${digits}${fraction ? `.${fraction}` : ''}`;
  };
  return norm(decimal(a)) === norm(decimal(b));
}

function compareMaps(
  table: string,
  expected: Record<string, string>,
  found: Record<string, string>,
): LedgerFinding[] {
  const findings: LedgerFinding[] = [];
  for (const key of new Set([...Object.keys(expected), ...Object.keys(found)])) {
    if (!sameDecimal(expected[key], found[key])) {
      findings.push({
        table,
        key,
        expected: decimal(expected[key]),
        found: decimal(found[key]),
        classification: 'mismatch',
        sev1: true,
      });
    }
  }
  return findings;
}

/**
 * Ledger parity between the last healthy snapshot and the promoted cluster.
 *
 * When `found` was read against the baseline's horizon (`found.horizon`, see
 * horizonOf), the comparison is exact: every figure of the rows the snapshot could hold —
 * per table, per account, per instrument, per writer, every balance and position — must
 * equal the baseline's; any difference is SEV-1 (fewer rows: missing data; anything else: a
 * mismatch), and the rows written after the snapshot are reported, per table and writer
 * with their seq ranges, as expected. See compareAtHorizon.
 *
 * Without a horizon split (aggregates read by older code, fakes) it falls back to table
 * totals: fewer rows than the snapshot is missing data (SEV-1). More rows, all with
 * sequence numbers beyond the snapshot's, are writes after the snapshot (expected); the
 * tables those writes maintain in the same transactions (positions, the balance ledger)
 * then differ too, and are reported as such rather than as SEV-1.
 */
export function compareLedgerAggregates(
  baseline: LedgerAggregates,
  found: LedgerAggregates,
): LedgerFinding[] {
  if (found.horizon) return compareAtHorizon(baseline, found.horizon, found);
  const findings: LedgerFinding[] = [];
  const tables = [...new Set([...Object.keys(baseline.tables), ...Object.keys(found.tables)])];
  const sequenced = (table: string) => table in baseline.maxSeq || table in found.maxSeq;
  const compareTable = (table: string, afterSnapshot: boolean) => {
    const want = baseline.tables[table] ?? { rows: 0 };
    const have = found.tables[table] ?? { rows: 0 };
    const differ = (key: string, expected: string, actual: string, missing: boolean) =>
      findings.push({
        table,
        key,
        expected,
        found: actual,
        classification: missing ? 'missing-data' : afterSnapshot ? 'write-after-snapshot' : 'mismatch',
        sev1: missing || !afterSnapshot,
      });
    if (have.rows < want.rows) return differ('row count', String(want.rows), String(have.rows), true);
    if (have.rows > want.rows) {
      const newer = sequenced(table)
        ? (found.maxSeq[table] ?? 0) > (baseline.maxSeq[table] ?? 0)
        : afterSnapshot;
      findings.push({
        table,
        key: sequenced(table) ? `seq > ${baseline.maxSeq[table] ?? 0}` : 'row count',
        expected: String(want.rows),
        found: String(have.rows),
        classification: newer ? 'write-after-snapshot' : 'mismatch',
        sev1: !newer,
      });
      return;
    }
    for (const measure of ['quantitySum', 'notionalSum'] as const) {
      if (!sameDecimal(want[measure], have[measure]))
        differ(measure, decimal(want[measure]), decimal(have[measure]), false);
    }
  };
  for (const table of tables.filter(sequenced)) compareTable(table, false);
  const newerWrites = findings.some((f) => f.classification === 'write-after-snapshot');
  for (const table of tables.filter((t) => !sequenced(t))) compareTable(table, newerWrites);
  if (!newerWrites) {
    findings.push(...compareMaps('balances', baseline.balancesByAccount, found.balancesByAccount));
    findings.push(
      ...compareMaps('positions', baseline.positionsByAccountInstrument, found.positionsByAccountInstrument),
    );
  }
  return findings;
}

/** Compresses sorted sequence numbers into ranges for a readable key: 4,5,6,9 → "4-6, 9". */
export function seqRanges(seqs: number[], limit = 20): string {
  const sorted = [...seqs].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j += 1;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.length > limit
    ? `${ranges.slice(0, limit).join(', ')}, … (${ranges.length - limit} more ranges)`
    : ranges.join(', ');
}

/** Formats seq ranges for a finding's key: [[4, 6], [9, 9]] → "4-6, 9". */
export function formatRanges(
  ranges: readonly (readonly [number, number])[],
  limit = 20,
  truncated = false,
): string {
  const parts = ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`));
  const more = parts.length > limit ? parts.length - limit : 0;
  const shown = parts.slice(0, limit).join(', ');
  if (more > 0) return `${shown}, … (${more}${truncated ? '+' : ''} more ranges)`;
  return truncated ? `${shown}, … (more ranges)` : shown;
}

/**
 * The horizon of a baseline: what it could hold. Per writer its highest seq and the seqs
 * below it it did not hold; rows of writers it does not know came after it. A baseline
 * captured before per-writer figures existed falls back to each table's highest seq.
 */
export function horizonOf(baseline: LedgerAggregates): LedgerHorizon {
  if (!baseline.byWriter)
    return { capturedAt: baseline.capturedAt, writers: {}, maxSeq: { ...baseline.maxSeq } };
  const writers: LedgerHorizon['writers'] = {};
  for (const byWriter of Object.values(baseline.byWriter))
    for (const [writer, { maxSeq, rows }] of Object.entries(byWriter)) {
      const w = (writers[writer] ??= { maxSeq: 0, gaps: baseline.writerGaps?.[writer] ?? [], rows: 0 });
      w.maxSeq = Math.max(w.maxSeq, maxSeq);
      w.rows = (w.rows ?? 0) + rows;
    }
  return { capturedAt: baseline.capturedAt, writers };
}

const MEASURES = [
  ['quantitySum', 'quantity'],
  ['notionalSum', 'notional'],
] as const;

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** "12 rows, quantity 120, notional 22830" — the measures compared. */
function describe(f: LedgerFigures | undefined, measures: readonly (typeof MEASURES)[number][]): string {
  return [plural(f?.rows ?? 0, 'row'), ...measures.map(([m, label]) => `${label} ${f?.[m] ?? '0'}`)].join(
    ', ',
  );
}

const sortedUnion = (...records: (Record<string, unknown> | undefined)[]) =>
  [...new Set(records.flatMap((r) => Object.keys(r ?? {})))].sort();

/** Canonical tables first, in their order, then any other. */
const tableOrder = (...records: (Record<string, unknown> | undefined)[]) => {
  const canonical = [
    'accounts',
    'instruments',
    'orders',
    'fills',
    'risk_events',
    'positions',
    'balance_ledger',
  ];
  const names = new Set(records.flatMap((r) => Object.keys(r ?? {})));
  return [
    ...canonical.filter((t) => names.has(t)),
    ...[...names].filter((t) => !canonical.includes(t)).sort(),
  ];
};

/**
 * Exact comparison of the baseline with the promoted cluster's figures within the
 * baseline's horizon, plus the rows after it (expected). Keys name where a difference is:
 * `all rows`, `account ACC-0003`, `instrument MSFT`, `writer w`, `account ACC-0003
 * currency USD`, `account ACC-0003 instrument MSFT`, `writer w seq 201-260`.
 */
export function compareAtHorizon(
  baseline: LedgerAggregates,
  split: LedgerHorizonSplit,
  found?: LedgerAggregates,
): LedgerFinding[] {
  const findings: LedgerFinding[] = [];
  const within = split.within;
  const figures = (
    table: string,
    key: string,
    want: LedgerFigures | undefined,
    have: LedgerFigures | undefined,
  ) => {
    // A measure is compared where the promoted side reports it within the horizon.
    const measures = MEASURES.filter(
      ([m]) => have?.[m] !== undefined || (have === undefined && want?.[m] !== undefined),
    );
    const wantRows = want?.rows ?? 0;
    const haveRows = have?.rows ?? 0;
    if (wantRows === haveRows && measures.every(([m]) => compareDecimals(want?.[m], have?.[m]) === 0)) return;
    const missing = haveRows < wantRows;
    findings.push({
      table,
      key,
      expected: describe(want, measures),
      found: describe(have, measures) + (haveRows > wantRows ? ' within the snapshot horizon' : ''),
      classification: missing ? 'missing-data' : 'mismatch',
      sev1: true,
    });
  };
  const byKey = (label: string, want: LedgerFiguresByKey | undefined, have: LedgerFiguresByKey) => {
    if (!want) return; // a baseline captured before per-key figures existed
    for (const table of tableOrder(want, have))
      for (const key of sortedUnion(want[table], have[table]))
        figures(table, `${label} ${key}`, want[table]?.[key], have[table]?.[key]);
  };
  const values = (
    table: string,
    keyOf: (k: string) => string,
    want: Record<string, string>,
    have: Record<string, string>,
  ) => {
    for (const key of sortedUnion(want, have)) {
      if (compareDecimals(want[key], have[key]) === 0) continue;
      findings.push({
        table,
        key: keyOf(key),
        expected: want[key] ?? '0',
        found: have[key] ?? '0',
        classification: 'mismatch',
        sev1: true,
      });
    }
  };
  const pair = (first: string, second: string) => (key: string) => {
    const at = key.indexOf(':');
    return at < 0 ? key : `${first} ${key.slice(0, at)} ${second} ${key.slice(at + 1)}`;
  };

  for (const table of tableOrder(baseline.tables, within.tables))
    figures(table, 'all rows', baseline.tables[table], within.tables[table]);
  byKey('account', baseline.byAccount, within.byAccount);
  byKey('instrument', baseline.byInstrument, within.byInstrument);
  if (baseline.byWriter) {
    const deficits = new Map<string, string[]>();
    const writerFindings: LedgerFinding[] = [];
    for (const table of tableOrder(baseline.byWriter, within.byWriter))
      for (const writer of sortedUnion(baseline.byWriter[table], within.byWriter[table])) {
        const want = baseline.byWriter[table]?.[writer]?.rows ?? 0;
        const have = within.byWriter[table]?.[writer] ?? 0;
        if (want === have) continue;
        if (have < want) deficits.set(writer, [...(deficits.get(writer) ?? []), table]);
        const upTo = split.writerMaxSeq[writer];
        writerFindings.push({
          table,
          key: `writer ${writer}`,
          expected: `${plural(want, 'row')}${upTo === undefined ? '' : ` up to seq ${upTo}`}`,
          found: `${plural(have, 'row')}${have > want ? ' within the snapshot horizon' : ''}`,
          classification: have < want ? 'missing-data' : 'mismatch',
          sev1: true,
        });
      }
    // Name the seqs that are gone: on the table's finding when only one table lost rows of
    // the writer, else on a finding of its own (the baseline does not say which table held a seq).
    for (const f of writerFindings) {
      const writer = f.key.slice('writer '.length);
      const gone = within.missingSeqs?.[writer] ?? [];
      if (f.classification === 'missing-data' && gone.length > 0 && deficits.get(writer)!.length === 1)
        f.key = `${f.key} seq ${seqRanges(gone)}`;
      findings.push(f);
    }
    for (const [writer, tables] of deficits) {
      const gone = within.missingSeqs?.[writer] ?? [];
      if (tables.length > 1 && gone.length > 0)
        findings.push({
          table: tables.join(' or '),
          key: `writer ${writer} seq ${seqRanges(gone)}`,
          expected: 'held by the snapshot',
          found: `absent (${plural(gone.length, 'row')})`,
          classification: 'missing-data',
          sev1: true,
        });
    }
  }
  values('balances', pair('account', 'currency'), baseline.balancesByAccount, within.balancesByAccount);
  values(
    'positions',
    pair('account', 'instrument'),
    baseline.positionsByAccountInstrument,
    within.positionsByAccountInstrument,
  );

  // After the snapshot: expected, reported so that the operator sees what came after.
  const after = split.after;
  for (const table of tableOrder(after.byWriter, after.untracked, after.tables)) {
    const want = baseline.tables[table]?.rows ?? 0;
    const total = found?.tables[table]?.rows;
    const foundText = (n: number) =>
      `${total === undefined ? '' : `${plural(total, 'row')}, `}${n} written after the snapshot`;
    for (const [writer, n] of Object.entries(after.byWriter[table] ?? {}).sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      const ranges = after.writerRanges[writer];
      const upTo = split.writerMaxSeq[writer];
      findings.push({
        table,
        key: `writer ${writer} seq ${ranges ? formatRanges(ranges.ranges, 20, ranges.truncated) : '?'}`,
        expected: `${plural(want, 'row')} in the snapshot (${upTo === undefined ? 'writer not in it' : `writer seq up to ${upTo}`})`,
        found: foundText(n),
        classification: 'write-after-snapshot',
        sev1: false,
      });
    }
    const untracked = after.untracked[table] ?? 0;
    const derived = table in after.byWriter || table in after.untracked ? 0 : (after.tables[table] ?? 0);
    if (untracked > 0 || derived > 0)
      findings.push({
        table,
        key: untracked > 0 ? `rows without writer after ${split.capturedAt}` : 'rows after the snapshot',
        expected: `${plural(want, 'row')} in the snapshot`,
        found: foundText(untracked || derived),
        classification: 'write-after-snapshot',
        sev1: false,
      });
  }
  return findings;
}
