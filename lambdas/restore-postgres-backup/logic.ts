import type { BackupValidationDependencies } from '../shared/backup-validation/dependencies';
import { RestoreInputSchema } from '../shared/backup-validation/step-inputs';
import { defineStep } from '../shared/step';

/** Restores the selected PostgreSQL backup into a disposable target (sandbox data directory + port, or a temporary RDS instance). */
export const restorePostgresBackupStep = defineStep({
  name: 'restore-postgres-backup',
  input: RestoreInputSchema,
  async run({ run, backupId }, deps: Pick<BackupValidationDependencies, 'restoreTargets'>) {
    const target = await deps.restoreTargets.restorePostgres({ runId: run.runId, backupId });
    return {
      action: 'changed' as const,
      observed: { details: target.details },
      changes: [
        `restored PostgreSQL backup ${backupId} into disposable ${target.kind} ${target.targetId} (${target.host}:${target.port}) in ${target.restoreMs} ms`,
      ],
      result: target,
    };
  },
});
