import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { evidenceProvider } from '../shared/providers/evidence';
import { recordBackupValidationStep } from './logic';

/** Deployed with only the adapters its logic declares: evidence. */
export const handler = lambdaHandler(recordBackupValidationStep, fromEnvironment(evidenceProvider));
