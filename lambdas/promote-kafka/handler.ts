import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { kafkaProvider } from '../shared/providers/kafka';
import { promoteKafkaStep } from './logic';

/** Deployed with only the adapters its logic declares: kafka. */
export const handler = lambdaHandler(promoteKafkaStep, fromEnvironment(kafkaProvider));
