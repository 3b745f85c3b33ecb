import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { evidenceProvider } from '../shared/providers/evidence';
import { runRecordsProvider } from '../shared/providers/run-records';
import { writeEvidenceBundleStep } from './logic';

/** Deployed with only the adapters its logic declares: evidence, runRecords. */
export const handler = lambdaHandler(
  writeEvidenceBundleStep,
  fromEnvironment(evidenceProvider, runRecordsProvider),
);
