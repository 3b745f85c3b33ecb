import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { classifyError } from '../../errors';
import { awsCall, awsErrorName } from './aws-call';
import { runPk } from './dynamodb-run-records';

export interface SentNotification {
  dedupeKey: string;
  messageId: string;
  sentAt: string;
  template: string;
  subject: string;
}

/** Remembers which notifications a run has sent, so a re-drive does not send them again. */
export interface SentNotificationLedger {
  find(dedupeKey: string): Promise<SentNotification | null>;
  record(sent: SentNotification): Promise<void>;
}

export interface DynamoDbSentNotificationLedgerOptions {
  readonly dynamodb: DynamoDBClient;
  /** The regional run table (string keys `pk`, `sk`). */
  readonly tableName: string;
  /** Markers live in the run's own partition: `pk = run#<runId>`, `sk = notification#<dedupeKey>`. */
  readonly runId: string;
}

export class DynamoDbSentNotificationLedger implements SentNotificationLedger {
  private readonly dynamodb: DynamoDBClient;
  private readonly tableName: string;
  private readonly runId: string;

  constructor(opts: DynamoDbSentNotificationLedgerOptions) {
    this.dynamodb = opts.dynamodb;
    this.tableName = opts.tableName;
    this.runId = opts.runId;
  }

  async find(dedupeKey: string): Promise<SentNotification | null> {
    const response = await awsCall(() =>
      this.dynamodb.send(
        new GetItemCommand({ TableName: this.tableName, Key: this.key(dedupeKey), ConsistentRead: true }),
      ),
    );
    const item = response.Item;
    if (!item) return null;
    return {
      dedupeKey,
      messageId: item.messageId?.S ?? '',
      sentAt: item.sentAt?.S ?? '',
      template: item.template?.S ?? '',
      subject: item.subject?.S ?? '',
    };
  }

  /** Keeps the first send on record; recording the same key again changes nothing. */
  async record(sent: SentNotification): Promise<void> {
    try {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(sent.dedupeKey),
            messageId: { S: sent.messageId },
            sentAt: { S: sent.sentAt },
            template: { S: sent.template },
            subject: { S: sent.subject },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw classifyError(err);
    }
  }

  private key(dedupeKey: string) {
    return { pk: { S: runPk(this.runId) }, sk: { S: `notification#${dedupeKey}` } };
  }
}
