import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { validateInputStep } from './logic';

/** Deployed with only the adapters its logic declares (none: topology and region). */
export const handler = lambdaHandler(validateInputStep, fromEnvironment());
