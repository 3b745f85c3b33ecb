import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { backupReaderProvider } from '../shared/providers/backup-reader';
import { selectBackupsStep } from './logic';

/** Deployed with only the adapters its logic declares: backupReader. */
export const handler = lambdaHandler(selectBackupsStep, fromEnvironment(backupReaderProvider));
