import { lambdaHandler } from '../shared/lambda-handler';
import { cutoverTrafficStep } from './logic';

export const handler = lambdaHandler(cutoverTrafficStep);
