import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { redisReplicaProvider } from '../shared/providers/redis-replica';
import { reattachRedisReplicaStep } from './logic';

/** Deployed with only the adapters its logic declares: the Redis replica attacher. */
export const handler = lambdaHandler(reattachRedisReplicaStep, fromEnvironment(redisReplicaProvider));
