import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { runRecordsProvider } from '../shared/providers/run-records';
import { evaluateVerificationStep } from './logic';

/** Deployed with only the adapters its logic declares: runRecords. */
export const handler = lambdaHandler(evaluateVerificationStep, fromEnvironment(runRecordsProvider));
