import { lambdaHandler } from '../shared/lambda-handler';
import { waitForDrainStep } from './logic';

export const handler = lambdaHandler(waitForDrainStep);
