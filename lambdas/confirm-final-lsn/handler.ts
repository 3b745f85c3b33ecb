import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { postgresProvider } from '../shared/providers/postgres';
import { runRecordsProvider } from '../shared/providers/run-records';
import { confirmFinalLsnStep } from './logic';

/** Deployed with only the adapters its logic declares: postgres, run records. */
export const handler = lambdaHandler(
  confirmFinalLsnStep,
  fromEnvironment(postgresProvider, runRecordsProvider),
);
