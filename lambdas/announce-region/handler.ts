import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { eventsProvider } from '../shared/providers/events';
import { flagsProvider } from '../shared/providers/flags';
import { announceRegionStep } from './logic';

/** Deployed with only the adapters its logic declares: flags, events. */
export const handler = lambdaHandler(announceRegionStep, fromEnvironment(flagsProvider, eventsProvider));
