import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { flagsProvider } from '../shared/providers/flags';
import { kafkaProvider } from '../shared/providers/kafka';
import { postgresProvider } from '../shared/providers/postgres';
import { redisProvider } from '../shared/providers/redis';
import { runRecordsProvider } from '../shared/providers/run-records';
import { postFailbackReviewStep } from './logic';

/** Deployed with only the adapters its logic declares: postgres, kafka, redis, flags, run records. */
export const handler = lambdaHandler(
  postFailbackReviewStep,
  fromEnvironment(postgresProvider, kafkaProvider, redisProvider, flagsProvider, runRecordsProvider),
);
