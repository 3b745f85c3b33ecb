import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { backupWriterProvider } from '../shared/providers/backup-writer';
import { takeBackupsStep } from './logic';

/** Deployed with only the adapters its logic declares: backupWriter. */
export const handler = lambdaHandler(takeBackupsStep, fromEnvironment(backupWriterProvider));
