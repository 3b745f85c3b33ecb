import type { LedgerAggregates } from '../shared/adapters/contracts';
import type { DrDependencies } from '../shared/dependencies';
import { reconcileLedger } from '../shared/ledger/reconcile';
import { RunWithStepsInputSchema, resultOf } from '../shared/schemas';
import { defineStep } from '../shared/step';

/**
 * Ledger reconciliation on the promoted cluster (shared/ledger/reconcile.ts): aggregates
 * split at the last healthy snapshot's horizon and compared exactly with it, and in drills
 * the load generator's journal of acknowledged writes (an acknowledged write that is
 * missing is SEV-1). Writes after the snapshot are reported as expected.
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
    const { sev1, findings, journal, found, counts } = await reconcileLedger({
      baseline: baseline.aggregates,
      target,
      journal: deps.journal,
    });
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
        findingsByClassification: counts,
        ...(found.horizon ? { afterSnapshot: found.horizon.after.tables } : {}),
      },
      changes: [],
      result: { parity: !sev1, sev1, findings, journal, aggregates: { tables: found.tables } },
    };
  },
});
