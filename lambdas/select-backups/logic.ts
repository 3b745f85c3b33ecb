import type { BackupManifest } from '../shared/backup/contracts';
import { DrError } from '../shared/errors';
import type { BackupValidationDependencies } from '../shared/backup-validation/dependencies';
import {
  checkBackupAge,
  type ValidatedStore,
  type ValidationCheck,
} from '../shared/backup-validation/checks';
import { BACKUP_KIND_OF, RunInputSchema } from '../shared/backup-validation/run';
import { defineStep } from '../shared/step';

export interface SelectedBackup {
  backupId: string;
  manifestKey: string;
  manifestSha256: string;
  takenAt: string;
  ageSeconds: number;
}

/** Why a backup cannot be validated, from the typed refusal errors of lambdas/shared/backup. */
function refusalOf(err: unknown): { error: string; reason: string; message: string } | null {
  if (!(err instanceof DrError)) return null;
  if (!/^Backup(NotFound|ManifestInvalid|Signature|Integrity)Error$/.test(err.name)) return null;
  return { error: err.name, reason: String(err.details.reason ?? err.name), message: err.message };
}

/**
 * Picks the latest backup of each requested store (or the one the input names), then refuses
 * any whose manifest signature does not verify, whose stored objects do not hash to the
 * manifest's checksums, or that is older than the RPO objective allows. Each refusal is a
 * failed check with its reason; nothing is restored when any backup is refused.
 */
export const selectBackupsStep = defineStep({
  name: 'select-backups',
  input: RunInputSchema,
  async run({ run }, deps: Pick<BackupValidationDependencies, 'backupReader' | 'backupObjects'>, clock) {
    const selected: Partial<Record<ValidatedStore, SelectedBackup>> = {};
    const checks: ValidationCheck[] = [];
    for (const store of run.stores) {
      const kind = BACKUP_KIND_OF[store];
      const started = Date.now();
      const named = run.backups[store];
      const done = (check: Omit<ValidationCheck, 'durationMs'>) =>
        checks.push({ ...check, durationMs: Date.now() - started });
      let backupId = named;
      if (!backupId) {
        const latest = await deps.backupReader.latestBackup(kind);
        if (!latest) {
          done({
            check: `${store}.backup-selected`,
            store,
            passed: false,
            reason: `no ${kind} backup exists in the bucket`,
            figures: { kind },
          });
          continue;
        }
        backupId = latest.backupId;
      }
      let manifest: BackupManifest;
      try {
        const verified = await deps.backupReader.loadVerifiedManifest({ kind, backupId });
        manifest = verified.manifest;
        done({
          check: `${store}.manifest-signature`,
          store,
          passed: true,
          reason: `manifest of ${backupId} verified (${verified.signature.algorithm}, key ${verified.signature.keyId})`,
          figures: { backupId, manifestKey: verified.manifestKey, manifestSha256: verified.manifestSha256 },
        });
        selected[store] = {
          backupId,
          manifestKey: verified.manifestKey,
          manifestSha256: verified.manifestSha256,
          takenAt: manifest.takenAt,
          ageSeconds: Math.round((clock.now().getTime() - Date.parse(manifest.takenAt)) / 1000),
        };
      } catch (err) {
        const refusal = refusalOf(err);
        if (!refusal) throw err;
        done({
          check: `${store}.manifest-signature`,
          store,
          passed: false,
          reason: `backup ${backupId} refused (${refusal.reason}): ${refusal.message}`,
          figures: { backupId, named: Boolean(named), ...refusal },
        });
        continue;
      }
      checks.push(
        checkBackupAge({
          store,
          backupId,
          takenAt: manifest.takenAt,
          now: clock.now(),
          maxAgeSeconds: run.maxAgeSeconds[store],
          rpoSeconds: run.objectives[store].rpoSeconds,
        }),
      );
      if (
        manifest.objects.length > 0 &&
        (store !== 'postgres' || run.postgres.verifyCiphertextBeforeRestore)
      ) {
        const hashStarted = Date.now();
        const mismatched: string[] = [];
        const figures: Record<string, unknown>[] = [];
        for (const object of manifest.objects) {
          try {
            const stored = await deps.backupObjects.ciphertextSha256(object.key);
            figures.push({ object: object.name, bytes: stored.bytes, sha256: stored.sha256 });
            if (stored.sha256 !== object.ciphertextSha256 || stored.bytes !== object.ciphertextBytes)
              mismatched.push(
                `${object.name}: stored ${stored.bytes} bytes with SHA-256 ${stored.sha256.slice(0, 16)}…, the manifest says ${object.ciphertextBytes} bytes with ${object.ciphertextSha256.slice(0, 16)}…`,
              );
          } catch (err) {
            const refusal = refusalOf(err);
            if (!refusal) throw err;
            mismatched.push(`${object.name}: ${refusal.message}`);
          }
        }
        checks.push({
          check: `${store}.checksums`,
          store,
          passed: mismatched.length === 0,
          reason:
            mismatched.length === 0
              ? `${manifest.objects.length} stored object(s) match the manifest's SHA-256`
              : `checksum mismatch, ${mismatched.join('; ')}`,
          figures: { objects: figures },
          durationMs: Date.now() - hashStarted,
        });
      }
    }
    const refused = checks.filter((c) => !c.passed);
    for (const store of new Set(refused.map((c) => c.store))) delete selected[store as ValidatedStore];
    return {
      action: 'observed' as const,
      observed: { selected, refused: refused.map((c) => c.reason) },
      changes: [],
      result: { accepted: refused.length === 0, selected, checks },
    };
  },
});
