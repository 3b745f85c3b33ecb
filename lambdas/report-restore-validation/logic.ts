import * as z from 'zod';
import type { BackupValidationDependencies } from '../shared/backup-validation/dependencies';
import { defineStep } from '../shared/step';

const InputSchema = z
  .object({
    restoreJobId: z.string().min(1),
    outcome: z.enum(['passed', 'failed', 'rejected']),
    summary: z.string().min(1),
  })
  .strict();

/** Reports the validation back to the AWS Backup restore-testing job that made the restore (PutRestoreValidationResult). */
export const reportRestoreValidationStep = defineStep({
  name: 'report-restore-validation',
  input: InputSchema,
  async run(
    { restoreJobId, outcome, summary },
    deps: Pick<BackupValidationDependencies, 'restoreValidation'>,
  ) {
    const status = outcome === 'passed' ? ('SUCCESSFUL' as const) : ('FAILED' as const);
    // AWS Backup keeps at most 1000 characters of the message.
    const message = summary.slice(0, 1000);
    await deps.restoreValidation.report({ restoreJobId, status, message });
    return {
      action: 'changed' as const,
      observed: {},
      changes: [`reported ${status} to AWS Backup restore job ${restoreJobId}`],
      result: { restoreJobId, status },
    };
  },
});
