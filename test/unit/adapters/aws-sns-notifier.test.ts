import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDbSentNotificationLedger } from '../../../lambdas/shared/adapters/aws/dynamodb-notification-ledger';
import { SnsNotifier, snsSubject } from '../../../lambdas/shared/adapters/aws/sns-notifier';
import { TransientError } from '../../../lambdas/shared/errors';

const snsMock = mockClient(SNSClient);
const dynamoMock = mockClient(DynamoDBClient);
const NOW = new Date('2025-03-01T12:00:00.000Z');
const topicArn = 'arn:aws:sns:us-west-2:123456789012:tradepulse-dr-notifications';

function notifier() {
  const ledger = new DynamoDbSentNotificationLedger({
    dynamodb: new DynamoDBClient({ region: 'us-west-2' }),
    tableName: 'tradepulse-dr-runs',
    runId: 'run-1',
  });
  return new SnsNotifier({
    sns: new SNSClient({ region: 'us-west-2' }),
    topicArn,
    runId: 'run-1',
    ledger,
    now: () => NOW,
  });
}
const message = {
  template: 'incident-declared',
  subject: 'SEV-1: TradePulse failover us-east-1 → us-west-2 declared',
  body: 'Trading is frozen while the DR workflow runs.',
  severity: 'sev1' as const,
  dedupeKey: 'declared',
};
const markerKey = { pk: { S: 'run#run-1' }, sk: { S: 'notification#declared' } };

beforeEach(() => {
  snsMock.reset();
  dynamoMock.reset();
});

describe('SnsNotifier', () => {
  test('publishes with an SNS-safe subject and severity, template, runId and dedupe key attributes, then records the key', async () => {
    dynamoMock.on(GetItemCommand).resolves({});
    dynamoMock.on(PutItemCommand).resolves({});
    snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });

    expect(await notifier().notify({ ...message, attributes: { targetRegion: 'us-west-2' } })).toEqual({
      messageId: 'msg-1',
      alreadyDone: false,
    });

    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: topicArn,
      Subject: 'SEV-1: TradePulse failover us-east-1 -> us-west-2 declared',
      Message: message.body,
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'sev1' },
        template: { DataType: 'String', StringValue: 'incident-declared' },
        runId: { DataType: 'String', StringValue: 'run-1' },
        dedupeKey: { DataType: 'String', StringValue: 'declared' },
        targetRegion: { DataType: 'String', StringValue: 'us-west-2' },
      },
    });
    expect(dynamoMock).toHaveReceivedCommandWith(GetItemCommand, { Key: markerKey, ConsistentRead: true });
    expect(dynamoMock).toHaveReceivedCommandWith(PutItemCommand, {
      Item: {
        ...markerKey,
        messageId: { S: 'msg-1' },
        sentAt: { S: NOW.toISOString() },
        template: { S: 'incident-declared' },
        subject: { S: 'SEV-1: TradePulse failover us-east-1 -> us-west-2 declared' },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  test('a dedupe key already sent (a re-drive) publishes nothing and returns the first message id', async () => {
    dynamoMock
      .on(GetItemCommand)
      .resolves({ Item: { ...markerKey, messageId: { S: 'msg-1' }, sentAt: { S: NOW.toISOString() } } });
    expect(await notifier().notify(message)).toEqual({ messageId: 'msg-1', alreadyDone: true });
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
  });

  test('a failed publish records nothing, so the retry sends it', async () => {
    dynamoMock.on(GetItemCommand).resolves({});
    snsMock.on(PublishCommand).rejects(Object.assign(new Error('throttled'), { name: 'Throttling' }));
    await expect(notifier().notify(message)).rejects.toBeInstanceOf(TransientError);
    expect(dynamoMock).not.toHaveReceivedCommand(PutItemCommand);
  });

  test('recording a key someone already recorded keeps the first record and does not fail', async () => {
    dynamoMock.on(GetItemCommand).resolves({});
    dynamoMock
      .on(PutItemCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    snsMock.on(PublishCommand).resolves({ MessageId: 'msg-2' });
    expect(await notifier().notify(message)).toEqual({ messageId: 'msg-2', alreadyDone: false });
  });

  test('more than 10 message attributes are refused before publishing', async () => {
    dynamoMock.on(GetItemCommand).resolves({});
    const attributes = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`extra${i}`, 'x']));
    await expect(notifier().notify({ ...message, attributes })).rejects.toThrow(
      /SNS allows 10 message attributes; this notification has 11/,
    );
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
  });
});

describe('snsSubject', () => {
  test('keeps printable ASCII on one line, at most 100 characters', () => {
    expect(snsSubject('Drill — résumé\nline two')).toBe('Drill - resume line two');
    const long = snsSubject('x'.repeat(150));
    expect(long).toHaveLength(100);
    expect(long.endsWith('...')).toBe(true);
    expect(snsSubject('ok 😀')).toBe('ok ??');
  });
});
