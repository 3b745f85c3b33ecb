import { lambdaHandler } from '../shared/lambda-handler';
import { evaluateRpoGateStep } from './logic';

export const handler = lambdaHandler(evaluateRpoGateStep);
