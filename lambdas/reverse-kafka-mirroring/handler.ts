import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { kafkaProvider } from '../shared/providers/kafka';
import { mirrorControlProvider } from '../shared/providers/mirror-control';
import { reverseKafkaMirroringStep } from './logic';

/** Deployed with only the adapters its logic declares: Kafka replication control and the Kafka adapter (lag). */
export const handler = lambdaHandler(
  reverseKafkaMirroringStep,
  fromEnvironment(mirrorControlProvider, kafkaProvider),
);
