import type { LedgerAggregates, LedgerHorizon, PostgresAdapter } from '../adapters/contracts';
import type { AcknowledgedJournal } from '../dependencies';
import { compareLedgerAggregates, horizonOf, seqRanges, type LedgerFinding } from './compare-aggregates';

/**
 * Ledger reconciliation, the one engine the failover's reconcile-ledger step and the
 * operators' `npm run reconcile` share: the promoted (or restored) cluster's aggregates,
 * split at the baseline's horizon, compared exactly with the baseline; and, in drills, every
 * write the load generator's journal says was acknowledged looked up on the cluster
 * (missing = SEV-1). The result gates the approval before trading resumes.
 */

export interface JournalReconciliation {
  acknowledged: number;
  missing: number;
  findings: LedgerFinding[];
}

/** Each acknowledged (table, writer, seq) the target does not hold is a SEV-1 missing acknowledged write. */
export async function reconcileAcknowledgedWrites(
  journal: AcknowledgedJournal,
  target: Pick<PostgresAdapter, 'missingSequences'>,
): Promise<JournalReconciliation> {
  const result: JournalReconciliation = { acknowledged: 0, missing: 0, findings: [] };
  for (const { table, writerId, seqs } of await journal.acknowledgedPostgresWrites()) {
    result.acknowledged += seqs.length;
    const missing = await target.missingSequences(table, writerId, seqs);
    result.missing += missing.length;
    if (missing.length > 0) {
      result.findings.push({
        table,
        key: `writer ${writerId} seq ${seqRanges(missing)}`,
        expected: `${seqs.length} acknowledged`,
        found: `${seqs.length - missing.length} present, ${missing.length} missing`,
        classification: 'missing-acknowledged-write',
        sev1: true,
      });
    }
  }
  return result;
}

export interface LedgerReconciliation {
  /** No SEV-1 finding. */
  parity: boolean;
  sev1: boolean;
  findings: LedgerFinding[];
  /** Acknowledged writes checked and missing (drills), null without a journal. */
  journal: { acknowledged: number; missing: number } | null;
  /** The cluster's aggregates, split at the baseline's horizon. */
  found: LedgerAggregates;
  horizon: LedgerHorizon;
  /** Findings per classification. */
  counts: Record<LedgerFinding['classification'], number>;
}

export async function reconcileLedger(input: {
  baseline: LedgerAggregates;
  target: Pick<PostgresAdapter, 'ledgerAggregates' | 'missingSequences'>;
  journal?: AcknowledgedJournal | null;
}): Promise<LedgerReconciliation> {
  const horizon = horizonOf(input.baseline);
  const found = await input.target.ledgerAggregates({ horizon });
  const findings = compareLedgerAggregates(input.baseline, found);
  let journal: LedgerReconciliation['journal'] = null;
  if (input.journal) {
    const checked = await reconcileAcknowledgedWrites(input.journal, input.target);
    journal = { acknowledged: checked.acknowledged, missing: checked.missing };
    findings.push(...checked.findings);
  }
  const sev1 = findings.some((f) => f.sev1);
  const counts = {
    'missing-acknowledged-write': 0,
    'missing-data': 0,
    'write-after-snapshot': 0,
    mismatch: 0,
  };
  for (const f of findings) counts[f.classification] += 1;
  return { parity: !sev1, sev1, findings, journal, found, horizon, counts };
}

/** Findings as an operator reads them: SEV-1 first, one line each. */
export function formatFindings(findings: readonly LedgerFinding[]): string[] {
  const ordered = [...findings.filter((f) => f.sev1), ...findings.filter((f) => !f.sev1)];
  return ordered.map(
    (f) =>
      `${f.sev1 ? 'SEV-1   ' : 'expected'} ${f.classification.padEnd(26)} ${f.table} ${f.key}: expected ${f.expected}, found ${f.found}`,
  );
}
