import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { flagsProvider } from '../shared/providers/flags';
import { runRecordsProvider } from '../shared/providers/run-records';
import { recordFailureStep } from './logic';

/** Deployed with only the adapters its logic declares: flags, runRecords. */
export const handler = lambdaHandler(recordFailureStep, fromEnvironment(flagsProvider, runRecordsProvider));
