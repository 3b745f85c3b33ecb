import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { flagsProvider } from '../shared/providers/flags';
import { kafkaProvider } from '../shared/providers/kafka';
import { lockProvider } from '../shared/providers/lock';
import { postgresProvider } from '../shared/providers/postgres';
import { redisProvider } from '../shared/providers/redis';
import { routerProvider } from '../shared/providers/router';
import { validateFailbackRequestStep } from './logic';

/** Deployed with only the adapters its logic declares: lock, router, flags, postgres, kafka, redis (all read-only here). */
export const handler = lambdaHandler(
  validateFailbackRequestStep,
  fromEnvironment(
    lockProvider,
    routerProvider,
    flagsProvider,
    postgresProvider,
    kafkaProvider,
    redisProvider,
  ),
);
