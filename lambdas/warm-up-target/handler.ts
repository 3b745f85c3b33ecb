import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { kafkaProvider } from '../shared/providers/kafka';
import { postgresProvider } from '../shared/providers/postgres';
import { redisProvider } from '../shared/providers/redis';
import { warmUpTargetStep } from './logic';

/** Deployed with only the adapters its logic declares: postgres, kafka, redis (read-only). */
export const handler = lambdaHandler(
  warmUpTargetStep,
  fromEnvironment(postgresProvider, kafkaProvider, redisProvider),
);
