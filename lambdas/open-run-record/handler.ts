import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { runRecordsProvider } from '../shared/providers/run-records';
import { openRunRecordStep } from './logic';

/** Deployed with only the adapters its logic declares: runRecords. */
export const handler = lambdaHandler(openRunRecordStep, fromEnvironment(runRecordsProvider));
