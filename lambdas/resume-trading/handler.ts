import { lambdaHandler } from '../shared/lambda-handler';
import { resumeTradingStep } from './logic';

export const handler = lambdaHandler(resumeTradingStep);
