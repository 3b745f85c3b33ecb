import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { postgresProvider } from '../shared/providers/postgres';
import { runRecordsProvider } from '../shared/providers/run-records';
import { reconcileLedgerStep } from './logic';

/** Deployed with only the adapters its logic declares: postgres, runRecords. */
export const handler = lambdaHandler(
  reconcileLedgerStep,
  fromEnvironment(postgresProvider, runRecordsProvider),
);
