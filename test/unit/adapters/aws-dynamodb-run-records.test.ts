import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDbRunRecordStore } from '../../../lambdas/shared/adapters/aws/dynamodb-run-records';
import { InvalidInputError } from '../../../lambdas/shared/errors';

const dynamoMock = mockClient(DynamoDBClient);
const NOW = new Date('2025-03-01T12:00:00.000Z');
const store = () =>
  new DynamoDbRunRecordStore({
    dynamodb: new DynamoDBClient({ region: 'us-west-2' }),
    tableName: 'tradepulse-dr-runs',
    now: () => NOW,
  });
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => {
  dynamoMock.reset();
});

describe('DynamoDbRunRecordStore', () => {
  test('open writes the header once, conditionally', async () => {
    dynamoMock.on(PutItemCommand).resolves({});
    const run = { runId: 'run-1', mode: 'drill', targetRegion: 'us-west-2' };
    expect(await store().open({ runId: 'run-1', application: 'tradepulse', mode: 'drill', run })).toEqual({
      alreadyDone: false,
    });
    expect(dynamoMock).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: 'tradepulse-dr-runs',
      Item: {
        pk: { S: 'run#run-1' },
        sk: { S: 'record' },
        runId: { S: 'run-1' },
        application: { S: 'tradepulse' },
        mode: { S: 'drill' },
        runJson: { S: JSON.stringify(run) },
        openedAt: { S: NOW.toISOString() },
        entryCount: { N: '0' },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  test('opening an opened run is alreadyDone', async () => {
    dynamoMock.on(PutItemCommand).rejects(conditionFailed());
    expect(await store().open({ runId: 'run-1', application: 'tradepulse', mode: 'drill', run: {} })).toEqual(
      { alreadyDone: true },
    );
  });

  test('append numbers the entry from the header counter and stores the data as JSON', async () => {
    dynamoMock.on(UpdateItemCommand).resolves({ Attributes: { entryCount: { N: '7' } } });
    dynamoMock.on(PutItemCommand).resolves({});
    await store().append('run-1', {
      kind: 'step',
      at: '2025-03-01T12:00:05.123Z',
      data: { step: 'AcquireLock', action: 'changed' },
    });
    expect(dynamoMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      Key: { pk: { S: 'run#run-1' }, sk: { S: 'record' } },
      UpdateExpression: 'ADD #entryCount :one',
      ConditionExpression: 'attribute_exists(pk)',
      ReturnValues: 'UPDATED_NEW',
    });
    expect(dynamoMock).toHaveReceivedCommandWith(PutItemCommand, {
      Item: {
        pk: { S: 'run#run-1' },
        sk: { S: 'entry#2025-03-01T12:00:05.123Z#000007' },
        kind: { S: 'step' },
        at: { S: '2025-03-01T12:00:05.123Z' },
        dataJson: { S: '{"step":"AcquireLock","action":"changed"}' },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  test('appending to a run that was never opened is refused, and nothing is written', async () => {
    dynamoMock.on(UpdateItemCommand).rejects(conditionFailed());
    await expect(store().append('run-x', { kind: 'step', at: NOW.toISOString(), data: {} })).rejects.toThrow(
      new InvalidInputError('run record run-x was never opened'),
    );
    expect(dynamoMock).not.toHaveReceivedCommand(PutItemCommand);
  });

  test('an entry time that is not a timestamp is refused before any call', async () => {
    await expect(store().append('run-1', { kind: 'step', at: 'soon', data: {} })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    expect(dynamoMock.calls()).toHaveLength(0);
  });

  test('close sets the outcome and keeps every close in outcomes', async () => {
    dynamoMock.on(UpdateItemCommand).resolves({});
    await store().close('run-1', 'succeeded');
    expect(dynamoMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      Key: { pk: { S: 'run#run-1' }, sk: { S: 'record' } },
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: {
        ':outcome': { S: 'succeeded' },
        ':closedAt': { S: NOW.toISOString() },
        ':none': { L: [] },
        ':closing': { L: [{ M: { outcome: { S: 'succeeded' }, closedAt: { S: NOW.toISOString() } } }] },
      },
    });
  });

  test('read pages through the partition, returns entries in key order and ignores other items', async () => {
    dynamoMock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [
          {
            pk: { S: 'run#run-1' },
            sk: { S: 'entry#2025-03-01T12:00:01.000Z#000001' },
            kind: { S: 'lock' },
            at: { S: '2025-03-01T12:00:01.000Z' },
            dataJson: { S: '{"a":1}' },
          },
        ],
        LastEvaluatedKey: { pk: { S: 'run#run-1' }, sk: { S: 'entry#2025-03-01T12:00:01.000Z#000001' } },
      })
      .resolvesOnce({
        Items: [
          {
            pk: { S: 'run#run-1' },
            sk: { S: 'entry#2025-03-01T12:00:02.000Z#000002' },
            kind: { S: 'notify' },
            at: { S: '2025-03-01T12:00:02.000Z' },
            dataJson: { S: '[1,2]' },
          },
          { pk: { S: 'run#run-1' }, sk: { S: 'notification#declared' }, messageId: { S: 'm-1' } },
          { pk: { S: 'run#run-1' }, sk: { S: 'record' }, runId: { S: 'run-1' }, outcome: { S: 'succeeded' } },
        ],
      });
    expect(await store().read('run-1')).toEqual({
      runId: 'run-1',
      outcome: 'succeeded',
      entries: [
        { kind: 'lock', at: '2025-03-01T12:00:01.000Z', data: { a: 1 } },
        { kind: 'notify', at: '2025-03-01T12:00:02.000Z', data: [1, 2] },
      ],
    });
    expect(dynamoMock).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(dynamoMock).toHaveReceivedNthCommandWith(2, QueryCommand, {
      ExclusiveStartKey: { pk: { S: 'run#run-1' }, sk: { S: 'entry#2025-03-01T12:00:01.000Z#000001' } },
      ConsistentRead: true,
    });
  });

  test('read of an unknown run is null', async () => {
    dynamoMock.on(QueryCommand).resolves({ Items: [] });
    expect(await store().read('nope')).toBeNull();
  });
});
