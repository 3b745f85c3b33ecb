import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { postgresProvider } from '../shared/providers/postgres';
import { redisProvider } from '../shared/providers/redis';
import { fenceOldPrimaryStep } from './logic';

/** Deployed with only the adapters its logic declares: postgres, redis. */
export const handler = lambdaHandler(fenceOldPrimaryStep, fromEnvironment(postgresProvider, redisProvider));
