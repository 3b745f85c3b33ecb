import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { kafkaProvider } from '../shared/providers/kafka';
import { postgresProvider } from '../shared/providers/postgres';
import { redisProvider } from '../shared/providers/redis';
import { runRecordsProvider } from '../shared/providers/run-records';
import { captureDataAtRiskStep } from './logic';
import { dataAtRiskFigures } from './metrics';

/** Deployed with only the adapters its logic declares: postgres, kafka, redis, runRecords; emits the replication lag. */
export const handler = lambdaHandler(
  captureDataAtRiskStep,
  fromEnvironment(postgresProvider, kafkaProvider, redisProvider, runRecordsProvider),
  { figures: dataAtRiskFigures },
);
