import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { backupReaderProvider } from '../shared/providers/backup-reader';
import { restoredStoresProvider } from '../shared/providers/restored-stores';
import { validateRedisRestoreStep } from './logic';

/** Deployed with only the adapters its logic declares: backupReader, restoredStores. */
export const handler = lambdaHandler(
  validateRedisRestoreStep,
  fromEnvironment(backupReaderProvider, restoredStoresProvider),
);
