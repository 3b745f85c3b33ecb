import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDbLockStore } from '../../../lambdas/shared/adapters/aws/dynamodb-lock';
import type { LockLease } from '../../../lambdas/shared/adapters/contracts';
import { InvalidInputError, LockHeldError, TransientError } from '../../../lambdas/shared/errors';

const dynamoMock = mockClient(DynamoDBClient);
const NOW = new Date('2025-03-01T12:00:00.000Z');
const store = () =>
  new DynamoDbLockStore({
    dynamodb: new DynamoDBClient({ region: 'us-west-2' }),
    tableName: 'tradepulse-dr-runs',
    now: () => NOW,
  });

const lease: LockLease = {
  application: 'tradepulse',
  owner: 'exec-1',
  runId: 'run-1',
  acquiredAt: '2025-03-01T12:00:00.000Z',
  expiresAt: '2025-03-01T14:00:00.000Z',
};
const item = (l: LockLease) => ({
  pk: { S: `lock#${l.application}` },
  sk: { S: 'lock' },
  application: { S: l.application },
  owner: { S: l.owner },
  runId: { S: l.runId },
  acquiredAt: { S: l.acquiredAt },
  expiresAt: { S: l.expiresAt },
});
const other: LockLease = { ...lease, owner: 'exec-2', runId: 'run-2', expiresAt: '2025-03-01T13:30:00.000Z' };
const conditionFailed = (current?: LockLease) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    ...(current ? { Item: item(current) } : {}),
  });

beforeEach(() => {
  dynamoMock.reset();
});

describe('DynamoDbLockStore.acquire', () => {
  test('a conditional put that succeeds when free, expired or already ours', async () => {
    dynamoMock.on(PutItemCommand).resolves({});
    expect(await store().acquire(lease)).toEqual({ alreadyDone: false, holder: lease });
    expect(dynamoMock).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: 'tradepulse-dr-runs',
      Item: item(lease),
      ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt < :now OR #owner = :owner',
      ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#owner': 'owner' },
      ExpressionAttributeValues: { ':now': { S: NOW.toISOString() }, ':owner': { S: 'exec-1' } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  test('re-acquiring our own live lease (a re-drive) is alreadyDone', async () => {
    dynamoMock.on(PutItemCommand).resolves({ Attributes: item(lease) });
    expect(await store().acquire(lease)).toEqual({ alreadyDone: true, holder: lease });
  });

  test("taking over someone else's expired lease is not alreadyDone", async () => {
    dynamoMock
      .on(PutItemCommand)
      .resolves({ Attributes: item({ ...other, expiresAt: '2025-03-01T11:00:00.000Z' }) });
    expect((await store().acquire(lease)).alreadyDone).toBe(false);
  });

  test('a live lease of another owner: LockHeldError naming the holder run and its expiry', async () => {
    dynamoMock.on(PutItemCommand).rejects(conditionFailed(other));
    const error = await store()
      .acquire(lease)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).message).toBe(
      'lock for tradepulse is held by run run-2 (owner exec-2) until 2025-03-01T13:30:00.000Z',
    );
    expect((error as LockHeldError).details).toEqual({ holder: other });
    expect(dynamoMock).not.toHaveReceivedCommand(GetItemCommand);
  });

  test('when the failure carries no item, the holder is read (consistently)', async () => {
    dynamoMock.on(PutItemCommand).rejects(conditionFailed());
    dynamoMock.on(GetItemCommand).resolves({ Item: item(other) });
    await expect(store().acquire(lease)).rejects.toThrow(/held by run run-2/);
    expect(dynamoMock).toHaveReceivedCommandWith(GetItemCommand, {
      Key: { pk: { S: 'lock#tradepulse' }, sk: { S: 'lock' } },
      ConsistentRead: true,
    });
  });

  test('a holder gone by the time it is read is a TransientError (retry will acquire)', async () => {
    dynamoMock.on(PutItemCommand).rejects(conditionFailed());
    dynamoMock.on(GetItemCommand).resolves({});
    await expect(store().acquire(lease)).rejects.toBeInstanceOf(TransientError);
  });

  test('lease times are normalised to UTC ISO strings so they compare as strings; garbage is refused', async () => {
    dynamoMock.on(PutItemCommand).resolves({});
    const { holder } = await store().acquire({ ...lease, expiresAt: '2025-03-01T15:00:00+01:00' });
    expect(holder.expiresAt).toBe('2025-03-01T14:00:00.000Z');
    await expect(store().acquire({ ...lease, expiresAt: 'tomorrow' })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
  });

  test('throttling is a TransientError', async () => {
    dynamoMock
      .on(PutItemCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(store().acquire(lease)).rejects.toBeInstanceOf(TransientError);
  });
});

describe('DynamoDbLockStore.release', () => {
  test('deletes the lease conditional on the owner', async () => {
    dynamoMock.on(DeleteItemCommand).resolves({ Attributes: item(lease) });
    expect(await store().release('tradepulse', 'exec-1')).toEqual({ alreadyDone: false });
    expect(dynamoMock).toHaveReceivedCommandWith(DeleteItemCommand, {
      Key: { pk: { S: 'lock#tradepulse' }, sk: { S: 'lock' } },
      ConditionExpression: 'attribute_not_exists(pk) OR #owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':owner': { S: 'exec-1' } },
    });
  });

  test('an already released lock is alreadyDone', async () => {
    dynamoMock.on(DeleteItemCommand).resolves({});
    expect(await store().release('tradepulse', 'exec-1')).toEqual({ alreadyDone: true });
  });

  test("releasing someone else's lock is refused", async () => {
    dynamoMock.on(DeleteItemCommand).rejects(conditionFailed(other));
    await expect(store().release('tradepulse', 'exec-1')).rejects.toThrow(
      new LockHeldError(
        'refusing to release the lock for tradepulse: it is held by run run-2 (owner exec-2), not by exec-1',
      ),
    );
  });
});

describe('DynamoDbLockStore.current', () => {
  test('returns the stored lease or null', async () => {
    dynamoMock
      .on(GetItemCommand)
      .resolvesOnce({ Item: item(other) })
      .resolvesOnce({});
    expect(await store().current('tradepulse')).toEqual(other);
    expect(await store().current('tradepulse')).toBeNull();
  });
});
