import { lambdaHandler } from '../shared/lambda-handler';
import { openRunRecordStep } from './logic';

export const handler = lambdaHandler(openRunRecordStep);
