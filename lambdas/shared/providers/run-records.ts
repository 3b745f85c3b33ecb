import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbRunRecordStore } from '../adapters/aws/dynamodb-run-records';
import { defineProvider, regionOf } from './provider';
import type { DrDependencies } from '../dependencies';

/** `runRecords`: the run's partition in the orchestrator region's table. */
export const runRecordsProvider = defineProvider<Pick<DrDependencies, 'runRecords'>>('runRecords', (ctx) => {
  const tableName = regionOf(ctx.topology, ctx.region).aws.lockTable;
  return {
    forRun: () => ({
      runRecords: new DynamoDbRunRecordStore({
        dynamodb: ctx.aws(ctx.region, 'dynamodb', (c) => new DynamoDBClient(c)),
        tableName,
      }),
    }),
  };
});
