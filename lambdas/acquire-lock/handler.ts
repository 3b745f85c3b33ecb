import { lambdaHandler } from '../shared/lambda-handler';
import { acquireLockStep } from './logic';

export const handler = lambdaHandler(acquireLockStep);
