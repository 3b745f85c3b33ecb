import { lambdaHandler } from '../shared/lambda-handler';
import { promotePostgresStep } from './logic';

export const handler = lambdaHandler(promotePostgresStep);
