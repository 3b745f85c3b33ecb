import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { restoreTargetsProvider } from '../shared/providers/restore-targets';
import { restoreRedisBackupStep } from './logic';

/** Deployed with only the adapters its logic declares: restoreTargets. */
export const handler = lambdaHandler(restoreRedisBackupStep, fromEnvironment(restoreTargetsProvider));
