import { lambdaHandler } from '../shared/lambda-handler';
import { promoteRedisStep } from './logic';

export const handler = lambdaHandler(promoteRedisStep);
