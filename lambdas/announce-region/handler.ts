import { lambdaHandler } from '../shared/lambda-handler';
import { announceRegionStep } from './logic';

export const handler = lambdaHandler(announceRegionStep);
