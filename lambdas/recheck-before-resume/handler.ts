import { lambdaHandler } from '../shared/lambda-handler';
import { recheckBeforeResumeStep } from './logic';

export const handler = lambdaHandler(recheckBeforeResumeStep);
