import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { notifierProvider } from '../shared/providers/notifier';
import { runRecordsProvider } from '../shared/providers/run-records';
import { requestApprovalStep } from './logic';

/** Deployed with only the adapters its logic declares: notifier, runRecords. */
export const handler = lambdaHandler(
  requestApprovalStep,
  fromEnvironment(notifierProvider, runRecordsProvider),
);
