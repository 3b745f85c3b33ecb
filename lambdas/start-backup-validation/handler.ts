import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { startBackupValidationStep } from './logic';

/** Deployed with only the adapters its logic declares: none beyond the topology. */
export const handler = lambdaHandler(startBackupValidationStep, fromEnvironment());
