import { lambdaHandler } from '../shared/lambda-handler';
import { evaluateVerificationStep } from './logic';

export const handler = lambdaHandler(evaluateVerificationStep);
