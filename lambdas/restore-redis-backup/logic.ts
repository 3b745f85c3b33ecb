import type { BackupValidationDependencies } from '../shared/backup-validation/dependencies';
import { RestoreInputSchema } from '../shared/backup-validation/step-inputs';
import { defineStep } from '../shared/step';

/** Loads the selected Redis RDB into a disposable canary redis-server. */
export const restoreRedisBackupStep = defineStep({
  name: 'restore-redis-backup',
  input: RestoreInputSchema,
  async run({ run, backupId }, deps: Pick<BackupValidationDependencies, 'restoreTargets'>) {
    const target = await deps.restoreTargets.restoreRedis({ runId: run.runId, backupId });
    return {
      action: 'changed' as const,
      observed: { details: target.details },
      changes: [
        `loaded Redis backup ${backupId} into canary ${target.targetId} (${target.host}:${target.port}) in ${target.restoreMs} ms`,
      ],
      result: target,
    };
  },
});
