import { lambdaHandler } from '../shared/lambda-handler';
import { notifyStep } from './logic';

export const handler = lambdaHandler(notifyStep);
