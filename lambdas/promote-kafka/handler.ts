import { lambdaHandler } from '../shared/lambda-handler';
import { promoteKafkaStep } from './logic';

export const handler = lambdaHandler(promoteKafkaStep);
