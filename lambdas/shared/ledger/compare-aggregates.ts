import type { LedgerAggregates } from '../adapters/contracts';

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
 * Ledger parity between the last healthy snapshot and the promoted cluster: row counts,
 * quantity and notional sums per canonical table, balance per account, position per
 * account and instrument. Fewer rows than the snapshot is missing data (SEV-1). More rows,
 * all with sequence numbers beyond the snapshot's, are writes after the snapshot
 * (expected); the tables those writes maintain in the same transactions (positions, the
 * balance ledger) then differ too, and are reported as such rather than as SEV-1.
 */
export function compareLedgerAggregates(
  baseline: LedgerAggregates,
  found: LedgerAggregates,
): LedgerFinding[] {
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
