import { lambdaHandler } from '../shared/lambda-handler';
import { waitForDnsSyncStep } from './logic';

export const handler = lambdaHandler(waitForDnsSyncStep);
