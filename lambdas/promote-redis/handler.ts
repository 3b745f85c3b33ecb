import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { redisProvider } from '../shared/providers/redis';
import { promoteRedisStep } from './logic';

/** Deployed with only the adapters its logic declares: redis. */
export const handler = lambdaHandler(promoteRedisStep, fromEnvironment(redisProvider));
