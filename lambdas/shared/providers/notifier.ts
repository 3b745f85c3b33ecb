import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDbSentNotificationLedger } from '../adapters/aws/dynamodb-notification-ledger';
import { SnsNotifier } from '../adapters/aws/sns-notifier';
import { defineProvider, regionOf } from './provider';
import type { DrDependencies } from '../dependencies';

/** `notifier`: SNS in the orchestrator region, each message sent once per run (ledger in the run's partition). */
export const notifierProvider = defineProvider<Pick<DrDependencies, 'notifier'>>('notifier', (ctx) => {
  const { aws } = regionOf(ctx.topology, ctx.region);
  return {
    forRun: (runId) => ({
      notifier: new SnsNotifier({
        sns: ctx.aws(ctx.region, 'sns', (c) => new SNSClient(c)),
        topicArn: aws.snsTopicArn,
        runId,
        ledger: new DynamoDbSentNotificationLedger({
          dynamodb: ctx.aws(ctx.region, 'dynamodb', (c) => new DynamoDBClient(c)),
          tableName: aws.lockTable,
          runId,
        }),
      }),
    }),
  };
});
