import { lambdaHandler } from '../shared/lambda-handler';
import { freezeDeploymentsStep } from './logic';

export const handler = lambdaHandler(freezeDeploymentsStep);
