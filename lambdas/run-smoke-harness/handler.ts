import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { smokeSinkProvider } from '../shared/providers/smoke-sink';
import { runSmokeHarnessStep } from './logic';

/** Deployed with only the adapters its logic declares: smokeSink. */
export const handler = lambdaHandler(runSmokeHarnessStep, fromEnvironment(smokeSinkProvider));
