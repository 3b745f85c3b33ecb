import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { flagsProvider } from '../shared/providers/flags';
import { kafkaProvider } from '../shared/providers/kafka';
import { postgresProvider } from '../shared/providers/postgres';
import { routerProvider } from '../shared/providers/router';
import { verifySwitchoverStageStep } from './logic';

/** Deployed with only the adapters its logic declares: postgres, kafka, router, flags (read-only). */
export const handler = lambdaHandler(
  verifySwitchoverStageStep,
  fromEnvironment(postgresProvider, kafkaProvider, routerProvider, flagsProvider),
);
