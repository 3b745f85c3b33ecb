import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { InvalidInputError, LockHeldError, TransientError, classifyError } from '../../errors';
import type { LockLease, LockStore } from '../contracts';
import { awsCall, awsErrorName } from './aws-call';

export interface DynamoDbLockStoreOptions {
  /** A client for the region running the failover (the lock lives in that region's table). */
  readonly dynamodb: DynamoDBClient;
  /** The regional table with string keys `pk` and `sk` (topology `regions.<region>.aws.lockTable`). */
  readonly tableName: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

type Item = Record<string, AttributeValue>;

/**
 * The single-flight lock: one item per application (`pk = lock#<application>`, `sk = lock`)
 * holding the current lease. Times are stored as UTC ISO-8601 strings (`toISOString()`),
 * which order lexicographically, so the condition compares them as strings.
 */
export class DynamoDbLockStore implements LockStore {
  private readonly dynamodb: DynamoDBClient;
  private readonly tableName: string;
  private readonly now: () => Date;

  constructor(opts: DynamoDbLockStoreOptions) {
    this.dynamodb = opts.dynamodb;
    this.tableName = opts.tableName;
    this.now = opts.now ?? (() => new Date());
  }

  /** Succeeds when free, expired or already ours (a re-drive of the same execution: alreadyDone). */
  async acquire(lease: LockLease): Promise<{ alreadyDone: boolean; holder: LockLease }> {
    const holder: LockLease = {
      ...lease,
      acquiredAt: isoTimestamp(lease.acquiredAt, 'acquiredAt'),
      expiresAt: isoTimestamp(lease.expiresAt, 'expiresAt'),
    };
    const now = this.now().toISOString();
    try {
      const response = await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...lockKey(lease.application), ...toItem(holder) },
          ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt < :now OR #owner = :owner',
          ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': { S: now }, ':owner': { S: lease.owner } },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const previous = response.Attributes ? fromItem(response.Attributes) : null;
      const alreadyDone = previous !== null && previous.owner === lease.owner && previous.expiresAt >= now;
      return { alreadyDone, holder };
    } catch (err) {
      if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw classifyError(err);
      const current = itemOf(err) ? fromItem(itemOf(err)!) : await this.current(lease.application);
      if (!current) {
        // Released between our write and the read: nothing holds it now, so trying again will succeed.
        throw new TransientError(`lock for ${lease.application} changed hands during acquisition; retry`);
      }
      throw new LockHeldError(
        `lock for ${lease.application} is held by run ${current.runId} (owner ${current.owner}) until ${current.expiresAt}`,
        { holder: current },
      );
    }
  }

  /** Deletes the lease if it is ours; an absent lease is alreadyDone; someone else's is refused (LockHeldError). */
  async release(application: string, owner: string): Promise<{ alreadyDone: boolean }> {
    try {
      const response = await this.dynamodb.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: lockKey(application),
          ConditionExpression: 'attribute_not_exists(pk) OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner } },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { alreadyDone: response.Attributes === undefined };
    } catch (err) {
      if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw classifyError(err);
      const current = itemOf(err) ? fromItem(itemOf(err)!) : await this.current(application);
      throw new LockHeldError(
        `refusing to release the lock for ${application}: it is held by run ${current?.runId ?? '?'} (owner ${current?.owner ?? '?'}), not by ${owner}`,
        { holder: current, requestedBy: owner },
      );
    }
  }

  /** The stored lease, expired or not (compare `expiresAt` with the clock); null when there is none. */
  async current(application: string): Promise<LockLease | null> {
    const response = await awsCall(() =>
      this.dynamodb.send(
        new GetItemCommand({ TableName: this.tableName, Key: lockKey(application), ConsistentRead: true }),
      ),
    );
    return response.Item ? fromItem(response.Item) : null;
  }
}

function lockKey(application: string): Item {
  return { pk: { S: `lock#${application}` }, sk: { S: 'lock' } };
}

function toItem(lease: LockLease): Item {
  return {
    application: { S: lease.application },
    owner: { S: lease.owner },
    runId: { S: lease.runId },
    acquiredAt: { S: lease.acquiredAt },
    expiresAt: { S: lease.expiresAt },
  };
}

function fromItem(item: Item): LockLease {
  return {
    application: item.application?.S ?? '',
    owner: item.owner?.S ?? '',
    runId: item.runId?.S ?? '',
    acquiredAt: item.acquiredAt?.S ?? '',
    expiresAt: item.expiresAt?.S ?? '',
  };
}

/** The current item DynamoDB returns with a ConditionalCheckFailedException (ReturnValuesOnConditionCheckFailure). */
function itemOf(err: unknown): Item | undefined {
  return (err as { Item?: Item }).Item;
}

function isoTimestamp(value: string, field: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new InvalidInputError(`lease ${field} is not a timestamp: '${value}'`, { field });
  return date.toISOString();
}
