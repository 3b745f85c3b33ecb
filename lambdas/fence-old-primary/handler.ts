import { lambdaHandler } from '../shared/lambda-handler';
import { fenceOldPrimaryStep } from './logic';

export const handler = lambdaHandler(fenceOldPrimaryStep);
