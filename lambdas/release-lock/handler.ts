import { lambdaHandler } from '../shared/lambda-handler';
import { releaseLockStep } from './logic';

export const handler = lambdaHandler(releaseLockStep);
