import { lambdaHandler } from '../shared/lambda-handler';
import { writeEvidenceBundleStep } from './logic';

export const handler = lambdaHandler(writeEvidenceBundleStep);
