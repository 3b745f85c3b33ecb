/**
 * The AWS adapters against the shared sandbox's moto server, for everything moto supports
 * (ARC routing controls it does not: see test/unit/adapters/aws-arc-router.test.ts).
 * Every test works on resources of its own (hosted zone, parameter path, lock application,
 * topic, bus, bucket) so the seeded ones the workflows use are left as they were.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
} from '@aws-sdk/client-route-53';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { awsClientConfig, createAwsClients } from '../../lambdas/shared/adapters/aws/clients';
import { DynamoDbLockStore } from '../../lambdas/shared/adapters/aws/dynamodb-lock';
import { DynamoDbSentNotificationLedger } from '../../lambdas/shared/adapters/aws/dynamodb-notification-ledger';
import { DynamoDbRunRecordStore } from '../../lambdas/shared/adapters/aws/dynamodb-run-records';
import { EventBridgePublisher } from '../../lambdas/shared/adapters/aws/eventbridge-publisher';
import { Route53WeightedRouter } from '../../lambdas/shared/adapters/aws/route53-router';
import { S3EvidenceStore } from '../../lambdas/shared/adapters/aws/s3-evidence-store';
import { SnsNotifier } from '../../lambdas/shared/adapters/aws/sns-notifier';
import { SsmTradingFlags } from '../../lambdas/shared/adapters/aws/ssm-flags';
import { LockHeldError } from '../../lambdas/shared/errors';
import { TRADING_ENDPOINTS, type TradingEndpoint } from '../../lambdas/shared/topology';
import { testEndpoints } from './sandbox-fixture';

const endpoints = testEndpoints();
const primary = endpoints.primary.region;
const secondary = endpoints.secondary.region;
/** The failover runs in the secondary region and uses that region's resources. */
const sandboxClient = (region: string) => ({
  region,
  endpoint: endpoints.aws.endpoint,
  credentials: endpoints.aws.credentials,
});
const aws = createAwsClients(sandboxClient(secondary));
const awsPrimary = createAwsClients(sandboxClient(primary));
const sqs = new SQSClient(awsClientConfig(sandboxClient(secondary)));
const regional = endpoints.aws.resources.regional[secondary]!;
const suffix = randomUUID().slice(0, 8);

afterAll(() => {
  aws.destroy();
  awsPrimary.destroy();
  sqs.destroy();
});

async function queueSubscribedTo(name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

async function receiveAll(url: string, waitSeconds: number) {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }),
  );
  return Messages;
}

describe('Route53WeightedRouter on moto', () => {
  const zoneName = `adapters-${suffix}.tradepulse.internal`;
  const records = Object.fromEntries(
    TRADING_ENDPOINTS.map((e) => [e, `${e.toLowerCase()}.${zoneName}`]),
  ) as Record<TradingEndpoint, string>;
  const targetsOf = (region: string) =>
    Object.fromEntries(
      TRADING_ENDPOINTS.map((e) => [e, `${e.toLowerCase()}.${region}.sandbox.internal`]),
    ) as Record<TradingEndpoint, string>;
  const targets = { [primary]: targetsOf(primary), [secondary]: targetsOf(secondary) };
  let hostedZoneId: string;
  let router: Route53WeightedRouter;

  /** Reads the zone back: endpoint → region → weight. */
  async function weights(): Promise<Record<string, Record<string, number | undefined>>> {
    const { ResourceRecordSets = [] } = await aws.route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId }),
    );
    return Object.fromEntries(
      TRADING_ENDPOINTS.map((e) => [
        e,
        Object.fromEntries(
          ResourceRecordSets.filter((r) => r.Name === `${records[e]}.`).map((r) => [
            r.SetIdentifier!,
            r.Weight,
          ]),
        ),
      ]),
    );
  }

  beforeAll(async () => {
    const zone = await aws.route53.send(
      new CreateHostedZoneCommand({ Name: zoneName, CallerReference: `adapters-${suffix}` }),
    );
    hostedZoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
    await aws.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: hostedZoneId,
        ChangeBatch: {
          Changes: TRADING_ENDPOINTS.flatMap((e) =>
            [primary, secondary].map((region) => ({
              Action: 'UPSERT' as const,
              ResourceRecordSet: {
                Name: records[e],
                Type: 'CNAME' as const,
                SetIdentifier: region,
                Weight: region === primary ? 100 : 0,
                TTL: 5,
                ResourceRecords: [{ Value: targets[region]![e] }],
              },
            })),
          ),
        },
      }),
    );
    router = new Route53WeightedRouter({
      route53: aws.route53,
      dns: { hostedZoneId, records, targets },
      runId: `adapters-${suffix}`,
    });
  });

  test('activeRegions reads the primary region off the weighted records', async () => {
    expect(await router.activeRegions()).toEqual({
      api: primary,
      postgresWriter: primary,
      kafkaBootstrap: primary,
      redis: primary,
    });
  });

  test('a dry run reports the cutover and leaves the records as they were', async () => {
    const before = await weights();
    const result = await router.routeTo(secondary, { dryRun: true });
    expect(result.alreadyDone).toBe(false);
    expect(result.changeId).toBeUndefined();
    expect(result.records).toHaveLength(8);
    expect(await weights()).toEqual(before);
  });

  test('routeTo moves every endpoint to the secondary, GetChange reports INSYNC, the records read back', async () => {
    const result = await router.routeTo(secondary, { dryRun: false });
    expect(result.alreadyDone).toBe(false);
    // moto returns /change/C2682N5HXP0BZ4 for every change; the router hands back the bare id.
    expect(result.changeId).toMatch(/^[A-Z0-9]+$/);
    expect(await router.isChangeComplete(result.changeId!)).toBe(true);
    for (const e of TRADING_ENDPOINTS)
      expect((await weights())[e]).toEqual({ [primary]: 0, [secondary]: 100 });
    expect(await router.activeRegions()).toEqual({
      api: secondary,
      postgresWriter: secondary,
      kafkaBootstrap: secondary,
      redis: secondary,
    });
  });

  test('a second routeTo finds the goal holding and changes nothing', async () => {
    const result = await router.routeTo(secondary, { dryRun: false });
    expect(result.alreadyDone).toBe(true);
    expect(result.changeId).toBeUndefined();
  });
});

describe('SsmTradingFlags on moto', () => {
  const path = `/tradepulse-adapters-test/${suffix}`;
  const parameters = {
    acceptNewOrders: `${path}/ACCEPT_NEW_ORDERS`,
    strategyActivation: `${path}/STRATEGY_ACTIVATION`,
    activeRegion: `${path}/ACTIVE_REGION`,
    deploymentFreeze: `${path}/DEPLOYMENT_FREEZE`,
  };
  const flags = () => new SsmTradingFlags({ ssm: aws.ssm, parameters });
  const version = async (name: string) =>
    (await aws.ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Version;

  beforeAll(async () => {
    const initial = {
      acceptNewOrders: 'true',
      strategyActivation: 'enabled',
      activeRegion: primary,
      deploymentFreeze: 'false',
    };
    for (const [flag, Value] of Object.entries(initial)) {
      await aws.ssm.send(
        new PutParameterCommand({
          Name: parameters[flag as keyof typeof parameters],
          Value,
          Type: 'String',
          Overwrite: true,
        }),
      );
    }
  });

  test('read parses the region’s flags', async () => {
    expect(await flags().read()).toEqual({
      acceptNewOrders: true,
      strategyActivation: 'enabled',
      activeRegion: primary,
      deploymentFreeze: false,
    });
  });

  test('set writes only what differs: unchanged parameters keep their version', async () => {
    const versionsBefore = await Promise.all(Object.values(parameters).map(version));
    const result = await flags().set({
      acceptNewOrders: false,
      strategyActivation: 'disabled',
      activeRegion: primary,
    });
    expect(result.changed).toEqual(['acceptNewOrders', 'strategyActivation']);
    const versionsAfter = await Promise.all(Object.values(parameters).map(version));
    expect(versionsAfter).toEqual([
      versionsBefore[0]! + 1,
      versionsBefore[1]! + 1,
      versionsBefore[2],
      versionsBefore[3],
    ]);
    expect(
      (await aws.ssm.send(new GetParameterCommand({ Name: parameters.acceptNewOrders }))).Parameter?.Value,
    ).toBe('false');
    expect(await flags().set({ acceptNewOrders: false })).toEqual({ changed: [] });
  });

  test('the flags are the region’s own: the primary region has no copy of this path', async () => {
    await expect(
      awsPrimary.ssm.send(new GetParameterCommand({ Name: parameters.acceptNewOrders })),
    ).rejects.toMatchObject({
      name: 'ParameterNotFound',
    });
  });
});

describe('DynamoDbLockStore on moto', () => {
  const application = `adapters-${suffix}`;
  const store = new DynamoDbLockStore({ dynamodb: aws.dynamodb, tableName: regional.lockTable });
  const lease = (owner: string, expiresInMs: number) => ({
    application,
    owner,
    runId: `run-of-${owner}`,
    acquiredAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
  });

  test('acquire, re-acquire by the same owner, refuse a second owner, release', async () => {
    const first = lease('exec-1', 3_600_000);
    expect(await store.acquire(first)).toEqual({ alreadyDone: false, holder: first });
    expect((await store.acquire(first)).alreadyDone).toBe(true);

    const refused = await store.acquire(lease('exec-2', 3_600_000)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LockHeldError);
    expect((refused as LockHeldError).message).toBe(
      `lock for ${application} is held by run run-of-exec-1 (owner exec-1) until ${first.expiresAt}`,
    );
    expect(await store.current(application)).toEqual(first);

    await expect(store.release(application, 'exec-2')).rejects.toBeInstanceOf(LockHeldError);
    expect(await store.current(application)).toEqual(first);
    expect(await store.release(application, 'exec-1')).toEqual({ alreadyDone: false });
    expect(await store.release(application, 'exec-1')).toEqual({ alreadyDone: true });
    expect(await store.current(application)).toBeNull();
  });

  test('an expired lease is taken over by another owner', async () => {
    await store.acquire(lease('crashed-exec', -60_000));
    const takeover = lease('exec-3', 3_600_000);
    expect(await store.acquire(takeover)).toEqual({ alreadyDone: false, holder: takeover });
    expect((await store.current(application))?.owner).toBe('exec-3');
    await store.release(application, 'exec-3');
  });
});

describe('DynamoDbRunRecordStore on moto', () => {
  const runId = `adapters-${suffix}`;
  const store = new DynamoDbRunRecordStore({ dynamodb: aws.dynamodb, tableName: regional.lockTable });

  test('open once, append in time order, close, read back', async () => {
    const run = { runId, mode: 'drill', sourceRegion: primary, targetRegion: secondary };
    expect(await store.open({ runId, application: 'tradepulse', mode: 'drill', run })).toEqual({
      alreadyDone: false,
    });
    expect(await store.open({ runId, application: 'tradepulse', mode: 'drill', run })).toEqual({
      alreadyDone: true,
    });

    const at = '2025-03-01T12:00:00.000Z';
    await store.append(runId, { kind: 'step', at: '2025-03-01T12:00:01.000Z', data: { step: 'B' } });
    await store.append(runId, { kind: 'step', at, data: { step: 'A1' } });
    await store.append(runId, {
      kind: 'decision',
      at,
      data: { allowDataLoss: null, note: 'same instant, second' },
    });
    await store.close(runId, 'failed');
    await store.close(runId, 'succeeded');

    expect(await store.read(runId)).toEqual({
      runId,
      outcome: 'succeeded',
      entries: [
        { kind: 'step', at, data: { step: 'A1' } },
        { kind: 'decision', at, data: { allowDataLoss: null, note: 'same instant, second' } },
        { kind: 'step', at: '2025-03-01T12:00:01.000Z', data: { step: 'B' } },
      ],
    });
    const header = await aws.dynamodb.send(
      new GetItemCommand({
        TableName: regional.lockTable,
        Key: { pk: { S: `run#${runId}` }, sk: { S: 'record' } },
      }),
    );
    expect(header.Item?.outcomes?.L?.map((o) => o.M?.outcome?.S)).toEqual(['failed', 'succeeded']);
    expect(JSON.parse(header.Item!.runJson!.S!)).toEqual(run);
  });

  test('appending to a run never opened is refused', async () => {
    await expect(
      store.append(`never-${suffix}`, { kind: 'step', at: new Date().toISOString(), data: {} }),
    ).rejects.toThrow(/never opened/);
    expect(await store.read(`never-${suffix}`)).toBeNull();
  });
});

describe('SnsNotifier on moto, read back through an SQS subscription', () => {
  const runId = `adapters-${suffix}`;

  test('publishes subject, body and attributes once; the re-drive publishes nothing', async () => {
    const { TopicArn } = await aws.sns.send(new CreateTopicCommand({ Name: `adapters-${suffix}` }));
    const queue = await queueSubscribedTo(`adapters-sns-${suffix}`);
    await aws.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: queue.arn }));
    const notifier = new SnsNotifier({
      sns: aws.sns,
      topicArn: TopicArn!,
      runId,
      ledger: new DynamoDbSentNotificationLedger({
        dynamodb: aws.dynamodb,
        tableName: regional.lockTable,
        runId,
      }),
    });
    const message = {
      template: 'incident-declared',
      subject: `SEV-1 declared — failover ${primary} → ${secondary}`,
      body: 'Trading is frozen while the DR workflow runs.',
      severity: 'sev1' as const,
      dedupeKey: 'declared',
    };

    const sent = await notifier.notify(message);
    expect(sent.alreadyDone).toBe(false);
    const [delivered, ...more] = await receiveAll(queue.url, 2);
    expect(more).toHaveLength(0);
    const envelope = JSON.parse(delivered!.Body!) as {
      MessageId: string;
      Subject: string;
      Message: string;
      MessageAttributes: Record<string, { Type: string; Value: string }>;
    };
    expect(envelope.MessageId).toBe(sent.messageId);
    expect(envelope.Subject).toBe(`SEV-1 declared - failover ${primary} -> ${secondary}`);
    expect(envelope.Message).toBe(message.body);
    expect(envelope.MessageAttributes).toMatchObject({
      severity: { Type: 'String', Value: 'sev1' },
      template: { Type: 'String', Value: 'incident-declared' },
      runId: { Type: 'String', Value: runId },
      dedupeKey: { Type: 'String', Value: 'declared' },
    });

    expect(await notifier.notify(message)).toEqual({ messageId: sent.messageId, alreadyDone: true });
    expect(await receiveAll(queue.url, 1)).toHaveLength(0);
  });
});

describe('EventBridgePublisher on moto, read back through a rule with an SQS target', () => {
  test('the event arrives with source tradepulse.dr, its detail type and detail', async () => {
    const eventBusName = `adapters-${suffix}`;
    await aws.eventBridge.send(new CreateEventBusCommand({ Name: eventBusName }));
    const queue = await queueSubscribedTo(`adapters-events-${suffix}`);
    await aws.eventBridge.send(
      new PutRuleCommand({
        Name: `adapters-${suffix}`,
        EventBusName: eventBusName,
        EventPattern: JSON.stringify({ source: ['tradepulse.dr'] }),
      }),
    );
    await aws.eventBridge.send(
      new PutTargetsCommand({
        Rule: `adapters-${suffix}`,
        EventBusName: eventBusName,
        Targets: [{ Id: 'queue', Arn: queue.arn }],
      }),
    );

    const publisher = new EventBridgePublisher({ eventBridge: aws.eventBridge, eventBusName });
    const { eventId } = await publisher.publish({
      detailType: 'RegionPromoted',
      detail: { runId: suffix, region: secondary },
    });

    const [delivered] = await receiveAll(queue.url, 2);
    const event = JSON.parse(delivered!.Body!) as Record<string, unknown>;
    expect(event).toMatchObject({
      id: eventId,
      source: 'tradepulse.dr',
      'detail-type': 'RegionPromoted',
      detail: { runId: suffix, region: secondary },
    });
  });
});

describe('S3EvidenceStore on moto', () => {
  const bucket = `adapters-evidence-${suffix}`;
  let store: S3EvidenceStore;

  beforeAll(async () => {
    await aws.s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ObjectLockEnabledForBucket: true,
        CreateBucketConfiguration: { LocationConstraint: secondary as BucketLocationConstraint },
      }),
    );
    store = new S3EvidenceStore({
      s3: aws.s3,
      bucket,
      keyPrefix: `reports/disaster-recovery/${suffix}/`,
      retentionDays: 1,
    });
  });

  test('the evidence is stored with COMPLIANCE retention, encryption and its SHA-256; deleting that version is refused', async () => {
    const body = JSON.stringify({ outcome: 'succeeded', runId: suffix });
    const put = await store.put('report.json', body, 'application/json');
    expect(put.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(put.versionId).toBeTruthy();

    const head = await aws.s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: put.key, VersionId: put.versionId }),
    );
    expect(head.ObjectLockMode).toBe('COMPLIANCE');
    expect(head.ObjectLockRetainUntilDate?.toISOString().slice(0, 19)).toBe(put.retainUntil!.slice(0, 19));
    expect(head.ServerSideEncryption).toBe('AES256');
    expect(head.Metadata?.sha256).toBe(put.sha256);
    const stored = await aws.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: put.key, VersionId: put.versionId }),
    );
    expect(await stored.Body!.transformToString()).toBe(body);

    await expect(
      aws.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: put.key, VersionId: put.versionId })),
    ).rejects.toMatchObject({
      name: 'AccessDenied',
    });
  });

  test('writing the same evidence again (a re-drive) adds no version', async () => {
    const body = 'timeline,step\n1,AcquireLock\n';
    const first = await store.put('timeline.csv', body, 'text/csv');
    const again = await store.put('timeline.csv', body, 'text/csv');
    expect(again.versionId).toBe(first.versionId);
    const { Versions = [] } = await aws.s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: first.key }),
    );
    expect(Versions).toHaveLength(1);
  });
});
