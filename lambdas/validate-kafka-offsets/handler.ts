import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { backupReaderProvider } from '../shared/providers/backup-reader';
import { mirrorReplayProvider } from '../shared/providers/mirror-replay';
import { validateKafkaOffsetsStep } from './logic';

/** Deployed with only the adapters its logic declares: backupReader, mirrorReplay. */
export const handler = lambdaHandler(
  validateKafkaOffsetsStep,
  fromEnvironment(backupReaderProvider, mirrorReplayProvider),
);
