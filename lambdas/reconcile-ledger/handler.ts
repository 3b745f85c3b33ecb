import { lambdaHandler } from '../shared/lambda-handler';
import { reconcileLedgerStep } from './logic';

export const handler = lambdaHandler(reconcileLedgerStep);
