import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { flagsProvider } from '../shared/providers/flags';
import { lockProvider } from '../shared/providers/lock';
import { postgresProvider } from '../shared/providers/postgres';
import { routerProvider } from '../shared/providers/router';
import { recheckBeforeResumeStep } from './logic';

/** Deployed with only the adapters its logic declares: postgres, router, flags, lock. */
export const handler = lambdaHandler(
  recheckBeforeResumeStep,
  fromEnvironment(postgresProvider, routerProvider, flagsProvider, lockProvider),
);
