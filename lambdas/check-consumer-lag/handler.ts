import { lambdaHandler } from '../shared/lambda-handler';
import { checkConsumerLagStep } from './logic';

export const handler = lambdaHandler(checkConsumerLagStep);
