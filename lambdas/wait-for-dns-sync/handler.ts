import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { routerProvider } from '../shared/providers/router';
import { waitForDnsSyncStep } from './logic';

/** Deployed with only the adapters its logic declares: router. */
export const handler = lambdaHandler(waitForDnsSyncStep, fromEnvironment(routerProvider));
