import {
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { InvalidInputError, classifyError } from '../../errors';
import type { RunRecordStore } from '../contracts';
import { awsCall, awsErrorName } from './aws-call';

export interface DynamoDbRunRecordStoreOptions {
  /** A client for the region running the workflow. */
  readonly dynamodb: DynamoDBClient;
  /** The regional table with string keys `pk` and `sk` (shared with the lock). */
  readonly tableName: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

type Item = Record<string, AttributeValue>;
type RunRecord = NonNullable<Awaited<ReturnType<RunRecordStore['read']>>>;

export const RUN_HEADER_SK = 'record';
export const RUN_ENTRY_SK_PREFIX = 'entry#';

/**
 * The run record, one partition per run (`pk = run#<runId>`): the header (`sk = record`:
 * application, mode, the validated run, outcome) and one item per fact appended
 * (`sk = entry#<at>#<n>`, n from a counter on the header, so entries read back in time
 * order and never overwrite each other). Payloads are stored as JSON text, exactly as
 * given. Other items in the partition (e.g. sent-notification markers) are ignored here.
 */
export class DynamoDbRunRecordStore implements RunRecordStore {
  private readonly dynamodb: DynamoDBClient;
  private readonly tableName: string;
  private readonly now: () => Date;

  constructor(opts: DynamoDbRunRecordStoreOptions) {
    this.dynamodb = opts.dynamodb;
    this.tableName = opts.tableName;
    this.now = opts.now ?? (() => new Date());
  }

  /** Creates the header once; a second open of the same run is alreadyDone and changes nothing. */
  async open(record: {
    runId: string;
    application: string;
    mode: string;
    run: unknown;
  }): Promise<{ alreadyDone: boolean }> {
    try {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: runPk(record.runId) },
            sk: { S: RUN_HEADER_SK },
            runId: { S: record.runId },
            application: { S: record.application },
            mode: { S: record.mode },
            runJson: { S: JSON.stringify(record.run ?? null) },
            openedAt: { S: this.now().toISOString() },
            entryCount: { N: '0' },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { alreadyDone: false };
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') return { alreadyDone: true };
      throw classifyError(err);
    }
  }

  async append(runId: string, entry: { kind: string; at: string; data: unknown }): Promise<void> {
    const at = new Date(entry.at);
    if (Number.isNaN(at.getTime()))
      throw new InvalidInputError(`run record entry 'at' is not a timestamp: '${entry.at}'`, { field: 'at' });
    const n = await this.nextEntryNumber(runId);
    await awsCall(() =>
      this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: runPk(runId) },
            sk: { S: `${RUN_ENTRY_SK_PREFIX}${at.toISOString()}#${String(n).padStart(6, '0')}` },
            kind: { S: entry.kind },
            at: { S: entry.at },
            dataJson: { S: JSON.stringify(entry.data ?? null) },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  /** Sets the outcome; every close is also kept in `outcomes`, so a re-driven run shows both endings. */
  async close(runId: string, outcome: string): Promise<void> {
    const closedAt = this.now().toISOString();
    await this.updateHeader(runId, {
      UpdateExpression:
        'SET #outcome = :outcome, #closedAt = :closedAt, #outcomes = list_append(if_not_exists(#outcomes, :none), :closing)',
      ExpressionAttributeNames: { '#outcome': 'outcome', '#closedAt': 'closedAt', '#outcomes': 'outcomes' },
      ExpressionAttributeValues: {
        ':outcome': { S: outcome },
        ':closedAt': { S: closedAt },
        ':none': { L: [] },
        ':closing': { L: [{ M: { outcome: { S: outcome }, closedAt: { S: closedAt } } }] },
      },
    });
  }

  async read(runId: string): Promise<RunRecord | null> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await awsCall(() =>
        this.dynamodb.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: runPk(runId) } },
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);

    const header = items.find((i) => i.sk?.S === RUN_HEADER_SK);
    if (!header) return null;
    const entries = items
      .filter((i) => i.sk?.S?.startsWith(RUN_ENTRY_SK_PREFIX))
      .map((i) => ({
        kind: i.kind?.S ?? '',
        at: i.at?.S ?? '',
        data: JSON.parse(i.dataJson?.S ?? 'null') as unknown,
      }));
    return { runId, entries, ...(header.outcome?.S !== undefined ? { outcome: header.outcome.S } : {}) };
  }

  private async nextEntryNumber(runId: string): Promise<number> {
    const response = await this.updateHeader(runId, {
      UpdateExpression: 'ADD #entryCount :one',
      ExpressionAttributeNames: { '#entryCount': 'entryCount' },
      ExpressionAttributeValues: { ':one': { N: '1' } },
      ReturnValues: 'UPDATED_NEW',
    });
    return Number(response.Attributes?.entryCount?.N ?? '0');
  }

  /** Updates an opened run's header; a run that was never opened is an error, not a silent new item. */
  private async updateHeader(
    runId: string,
    update: Omit<
      ConstructorParameters<typeof UpdateItemCommand>[0],
      'TableName' | 'Key' | 'ConditionExpression'
    >,
  ) {
    try {
      return await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: runPk(runId) }, sk: { S: RUN_HEADER_SK } },
          ConditionExpression: 'attribute_exists(pk)',
          ...update,
        }),
      );
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') {
        throw new InvalidInputError(`run record ${runId} was never opened`, { field: 'runId', runId });
      }
      throw classifyError(err);
    }
  }
}

export function runPk(runId: string): string {
  return `run#${runId}`;
}
