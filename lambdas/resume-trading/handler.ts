import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { eventsProvider } from '../shared/providers/events';
import { flagsProvider } from '../shared/providers/flags';
import { runRecordsProvider } from '../shared/providers/run-records';
import { resumeTradingStep } from './logic';
import { measuredRtoFigures } from './metrics';

/** Deployed with only the adapters its logic declares: flags, events, runRecords; emits the measured RTO. */
export const handler = lambdaHandler(
  resumeTradingStep,
  fromEnvironment(flagsProvider, eventsProvider, runRecordsProvider),
  { figures: measuredRtoFigures },
);
