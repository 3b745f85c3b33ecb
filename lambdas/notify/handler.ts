import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { notifierProvider } from '../shared/providers/notifier';
import { notifyStep } from './logic';

/** Deployed with only the adapters its logic declares: notifier. */
export const handler = lambdaHandler(notifyStep, fromEnvironment(notifierProvider));
