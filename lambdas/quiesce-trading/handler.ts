import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { flagsProvider } from '../shared/providers/flags';
import { quiesceTradingStep } from './logic';

/** Deployed with only the adapters its logic declares: flags. */
export const handler = lambdaHandler(quiesceTradingStep, fromEnvironment(flagsProvider));
