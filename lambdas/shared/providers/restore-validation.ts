import { BackupClient } from '@aws-sdk/client-backup';
import { awsClientConfig } from '../adapters/aws/client-config';
import { AwsBackupRestoreValidationReporter } from '../adapters/restore/aws-backup-reporter';
import type { BackupValidationDependencies } from '../backup-validation/dependencies';
import { defineProvider } from './provider';
/** `restoreValidation`: AWS Backup in the orchestrator's region (PutRestoreValidationResult). */
export const restoreValidationProvider = defineProvider<
  Pick<BackupValidationDependencies, 'restoreValidation'>
>('restoreValidation', (ctx) => {
  let client: BackupClient | undefined;
  return {
    forRun: () => ({
      restoreValidation: {
        report: (result) =>
          new AwsBackupRestoreValidationReporter(
            (client ??= new BackupClient(awsClientConfig({ region: ctx.region }))),
          ).report(result),
      },
    }),
    async close() {
      client?.destroy();
    },
  };
});
