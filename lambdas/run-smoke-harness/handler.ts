import { lambdaHandler } from '../shared/lambda-handler';
import { runSmokeHarnessStep } from './logic';

export const handler = lambdaHandler(runSmokeHarnessStep);
