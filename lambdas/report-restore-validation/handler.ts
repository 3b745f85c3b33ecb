import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { restoreValidationProvider } from '../shared/providers/restore-validation';
import { reportRestoreValidationStep } from './logic';

/** Deployed with only the adapters its logic declares: restoreValidation. */
export const handler = lambdaHandler(reportRestoreValidationStep, fromEnvironment(restoreValidationProvider));
