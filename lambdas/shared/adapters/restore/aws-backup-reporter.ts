import { PutRestoreValidationResultCommand, type BackupClient } from '@aws-sdk/client-backup';
import { awsCall } from '../aws/aws-call';
import type { RestoreValidationReporter } from '../contracts';

/** Reports a validation to the AWS Backup restore-testing job whose restore was validated. */
export class AwsBackupRestoreValidationReporter implements RestoreValidationReporter {
  constructor(private readonly backup: BackupClient) {}

  async report(result: {
    restoreJobId: string;
    status: 'SUCCESSFUL' | 'FAILED';
    message: string;
  }): Promise<{ reported: boolean }> {
    await awsCall(() =>
      this.backup.send(
        new PutRestoreValidationResultCommand({
          RestoreJobId: result.restoreJobId,
          ValidationStatus: result.status,
          ValidationStatusMessage: result.message.slice(0, 1000),
        }),
      ),
    );
    return { reported: true };
  }
}
