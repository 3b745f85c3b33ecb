import { lambdaHandler } from '../shared/lambda-handler';
import { validateInputStep } from './logic';

export const handler = lambdaHandler(validateInputStep);
