import type { BackupValidationDependencies } from '../shared/backup-validation/dependencies';
import {
  restoredArchiveCheck,
  checkAggregates,
  checkIndexes,
  checkRestoreTime,
  firstOf,
  type ValidationCheck,
} from '../shared/backup-validation/checks';
import { RestoredPostgresSchema, restoredTargetInput } from '../shared/backup-validation/step-inputs';
import { RESTORED_CANONICAL_TABLES } from '../shared/adapters/restore/restored-stores';
import type { LedgerAggregates } from '../shared/adapters/contracts';
import { formatFindings, reconcileLedger } from '../shared/ledger/reconcile';
import { defineStep } from '../shared/step';

/**
 * Proves a restored PostgreSQL backup: it restored and started within the RTO objective,
 * amcheck finds every B-tree index of the canonical tables sound, its aggregates equal the
 * manifest's exactly, and the ledger engine finds parity against the manifest's baseline.
 */
export const validatePostgresRestoreStep = defineStep({
  name: 'validate-postgres-restore',
  input: restoredTargetInput(RestoredPostgresSchema),
  async run(
    { run, backupId, target },
    deps: Pick<BackupValidationDependencies, 'backupReader' | 'restoredPostgres'>,
  ) {
    const { manifest } = await deps.backupReader.loadVerifiedManifest({ kind: 'postgres', backupId });
    // The manifest's aggregates were read in the backup's snapshot: the baseline the restore must equal.
    const { horizon: _split, ...baseline } = manifest.postgres!.aggregates;
    void _split;
    const checks: ValidationCheck[] = [
      checkRestoreTime('postgres', target.restoreMs, run.objectives.postgres.rtoSeconds),
      ...restoredArchiveCheck('postgres', manifest, target.details),
    ];
    const inspector = deps.restoredPostgres(target);
    try {
      // amcheck and the ledger read run side by side, each in its own session.
      const started = Date.now();
      const [indexes, ledger] = await Promise.all([
        inspector
          .checkIndexes(RESTORED_CANONICAL_TABLES, run.postgres.heapAllIndexed)
          .then((r) => ({ r, ms: Date.now() - started })),
        reconcileLedger({ baseline: baseline as LedgerAggregates, target: inspector.ledger }).then((r) => ({
          r,
          ms: Date.now() - started,
        })),
      ]);
      checks.push({ ...checkIndexes(indexes.r, RESTORED_CANONICAL_TABLES), durationMs: indexes.ms });
      const ledgerMs = ledger.ms;
      const sameSnapshot = (manifest.postgres!.aggregatesConsistency ?? 'same-snapshot') === 'same-snapshot';
      const within = ledger.r.found.horizon?.within;
      const compared: LedgerAggregates =
        sameSnapshot || !within
          ? ledger.r.found
          : {
              ...ledger.r.found,
              tables: within.tables,
              balancesByAccount: within.balancesByAccount,
              positionsByAccountInstrument: within.positionsByAccountInstrument,
            };
      checks.push({ ...checkAggregates(baseline as LedgerAggregates, compared), durationMs: ledgerMs });
      const sev1 = ledger.r.findings.filter((f) => f.sev1);
      checks.push({
        check: 'postgres.ledger-parity',
        store: 'postgres',
        passed: ledger.r.parity,
        reason: ledger.r.parity
          ? `ledger parity with the manifest's baseline (${ledger.r.findings.length} non-SEV-1 finding(s))`
          : `${sev1.length} SEV-1 ledger finding(s): ${formatFindings(sev1).slice(0, 3).join('; ')}`,
        figures: { counts: ledger.r.counts, findings: firstOf(formatFindings(ledger.r.findings)) },
        durationMs: ledgerMs,
      });
    } finally {
      await inspector.close();
    }
    return {
      action: 'observed' as const,
      observed: { target: target.targetId, failed: checks.filter((c) => !c.passed).map((c) => c.check) },
      changes: [],
      result: { passed: checks.every((c) => c.passed), checks },
    };
  },
});
