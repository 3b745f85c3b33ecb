import { lambdaHandler } from '../shared/lambda-handler';
import { checkTargetHealthStep } from './logic';

export const handler = lambdaHandler(checkTargetHealthStep);
