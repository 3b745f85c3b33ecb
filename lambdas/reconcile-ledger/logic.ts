import type { LedgerAggregates } from '../shared/adapters/contracts';
import type { DrDependencies } from '../shared/dependencies';
import { compareLedgerAggregates, seqRanges, type LedgerFinding } from '../shared/ledger/compare-aggregates';
import { RunWithStepsInputSchema, resultOf } from '../shared/schemas';
import { defineStep } from '../shared/step';

/**
 * Ledger reconciliation on the promoted cluster: aggregates against the last healthy
 * snapshot, and in drills against the load generator's journal of acknowledged writes
 * (an acknowledged write that is missing is SEV-1).
 */
export const reconcileLedgerStep = defineStep({
  name: 'reconcile-ledger',
  input: RunWithStepsInputSchema,
  async run({ run, steps }, deps: Pick<DrDependencies, 'postgres' | 'journal' | 'runRecords'>, clock) {
    const { baseline } = resultOf<{ baseline: { region: string; aggregates: LedgerAggregates } }>(
      steps,
      'waitForDrain',
    );
    const target = deps.postgres(run.targetRegion);
    const found = await target.ledgerAggregates();
    const findings: LedgerFinding[] = compareLedgerAggregates(baseline.aggregates, found);

    let journal: { acknowledged: number; missing: number } | null = null;
    if (deps.journal) {
      journal = { acknowledged: 0, missing: 0 };
      for (const { table, writerId, seqs } of await deps.journal.acknowledgedPostgresWrites()) {
        journal.acknowledged += seqs.length;
        const missing = await target.missingSequences(table, writerId, seqs);
        journal.missing += missing.length;
        if (missing.length > 0) {
          findings.push({
            table,
            key: `writer ${writerId} seq ${seqRanges(missing)}`,
            expected: `${seqs.length} acknowledged`,
            found: `${seqs.length - missing.length} present, ${missing.length} missing`,
            classification: 'missing-acknowledged-write',
            sev1: true,
          });
        }
      }
    }
    const sev1 = findings.some((f) => f.sev1);
    if (!run.dryRun)
      await deps.runRecords.append(run.runId, {
        kind: 'ledger.reconciliation',
        at: clock.now().toISOString(),
        data: { findings, journal },
      });
    return {
      action: 'observed' as const,
      observed: {
        baselineRegion: baseline.region,
        baselineLsn: baseline.aggregates.lsn,
        foundLsn: found.lsn,
        tables: found.tables,
        journal,
      },
      changes: [],
      result: { parity: !sev1, sev1, findings, journal, aggregates: { tables: found.tables } },
    };
  },
});
