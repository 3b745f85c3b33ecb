import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbLockStore } from '../adapters/aws/dynamodb-lock';
import { defineProvider, regionOf } from './provider';
import type { DrDependencies } from '../dependencies';

/** `lock`: the single-flight lock item in the orchestrator region's table. */
export const lockProvider = defineProvider<Pick<DrDependencies, 'lock'>>('lock', (ctx) => {
  const tableName = regionOf(ctx.topology, ctx.region).aws.lockTable;
  return {
    forRun: () => ({
      lock: new DynamoDbLockStore({
        dynamodb: ctx.aws(ctx.region, 'dynamodb', (c) => new DynamoDBClient(c)),
        tableName,
      }),
    }),
  };
});
