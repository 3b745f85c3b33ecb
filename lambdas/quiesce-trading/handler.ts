import { lambdaHandler } from '../shared/lambda-handler';
import { quiesceTradingStep } from './logic';

export const handler = lambdaHandler(quiesceTradingStep);
