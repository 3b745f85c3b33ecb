import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { lockProvider } from '../shared/providers/lock';
import { releaseLockStep } from './logic';

/** Deployed with only the adapters its logic declares: lock. */
export const handler = lambdaHandler(releaseLockStep, fromEnvironment(lockProvider));
