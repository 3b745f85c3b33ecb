import { lambdaHandler } from '../shared/lambda-handler';
import { captureDataAtRiskStep } from './logic';

export const handler = lambdaHandler(captureDataAtRiskStep);
