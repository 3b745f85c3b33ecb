import { lambdaHandler } from '../shared/lambda-handler';
import { recordFailureStep } from './logic';

export const handler = lambdaHandler(recordFailureStep);
