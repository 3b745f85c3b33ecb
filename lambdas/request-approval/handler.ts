import { lambdaHandler } from '../shared/lambda-handler';
import { requestApprovalStep } from './logic';

export const handler = lambdaHandler(requestApprovalStep);
