import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  CreateBucketCommand,
  PutBucketVersioningCommand,
  S3Client,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SANDBOX_HOST } from './config';
import {
  TRADING_ENDPOINTS,
  type RegionalAwsResources,
  type SeededAwsResources,
  type TradingEndpoint,
} from './endpoints';
import { waitUntil, type ProcessSupervisor } from './supervisor';

export const SANDBOX_AWS_CREDENTIALS = { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };
export const HOSTED_ZONE_NAME = 'trading.tradepulse.internal';
const RECORD_LABELS: Record<TradingEndpoint, string> = {
  api: 'api',
  postgresWriter: 'postgres-writer',
  kafkaBootstrap: 'kafka-bootstrap',
  redis: 'redis',
};

/** SSM parameter names, the same in every region; each region holds its own copy. */
export const FLAG_PARAMETERS: RegionalAwsResources['parameters'] = {
  acceptNewOrders: '/tradepulse/trading/ACCEPT_NEW_ORDERS',
  strategyActivation: '/tradepulse/trading/STRATEGY_ACTIVATION',
  activeRegion: '/tradepulse/dr/ACTIVE_REGION',
  deploymentFreeze: '/tradepulse/dr/DEPLOYMENT_FREEZE',
};

/** Alias of each region's symmetric key for envelope-encrypting evidence (audit exports). */
export const EVIDENCE_KMS_ALIAS = 'alias/tradepulse-dr-evidence';
/** Alias of each region's asymmetric key (RSA_2048, SIGN_VERIFY) that signs backup manifests. */
export const BACKUP_SIGNING_KMS_ALIAS = 'alias/tradepulse-dr-backup-signing';

export function awsClientConfig(endpoint: string, region: string) {
  return { endpoint, region, credentials: SANDBOX_AWS_CREDENTIALS, forcePathStyle: true, maxAttempts: 3 };
}

export interface MotoOptions {
  python: string;
  supervisor: ProcessSupervisor;
  port: number;
  timeoutMs: number;
}

export async function startMoto(opts: MotoOptions): Promise<string> {
  const endpoint = `http://${SANDBOX_HOST}:${opts.port}`;
  opts.supervisor.start('moto', opts.python, [
    '-m',
    'moto.server',
    '-H',
    SANDBOX_HOST,
    '-p',
    String(opts.port),
  ]);
  await waitUntil(`moto to answer on ${endpoint}`, async () => (await fetch(`${endpoint}/moto-api/`)).ok, {
    timeoutMs: opts.timeoutMs,
    alive: () => opts.supervisor.assertRunning('moto'),
  });
  return endpoint;
}

export function recordTarget(endpoint: TradingEndpoint, region: string): string {
  return `${RECORD_LABELS[endpoint]}.${region}.sandbox.tradepulse.internal`;
}

/**
 * Seeds what the workflows need: the hosted zone with one weighted CNAME per trading
 * endpoint and region (primary weight 100, secondary 0), and in each region the trading
 * flags, an SNS topic, an Object-Lock evidence bucket, a symmetric KMS key for evidence
 * encryption (alias/tradepulse-dr-evidence), an asymmetric KMS key that signs backup
 * manifests (alias/tradepulse-dr-backup-signing) and the lock/run-record table.
 */
export async function seedAwsResources(
  endpoint: string,
  primary: string,
  secondary: string,
): Promise<SeededAwsResources> {
  const route53 = new Route53Client(awsClientConfig(endpoint, primary));
  const zone = await route53.send(
    new CreateHostedZoneCommand({ Name: HOSTED_ZONE_NAME, CallerReference: `sandbox-${Date.now()}` }),
  );
  const hostedZoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
  const records = Object.fromEntries(
    TRADING_ENDPOINTS.map((e) => [e, `${RECORD_LABELS[e]}.${HOSTED_ZONE_NAME}`]),
  ) as Record<TradingEndpoint, string>;
  const targets: SeededAwsResources['targets'] = {};
  for (const region of [primary, secondary]) {
    targets[region] = Object.fromEntries(
      TRADING_ENDPOINTS.map((e) => [e, recordTarget(e, region)]),
    ) as Record<TradingEndpoint, string>;
  }
  await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: hostedZoneId,
      ChangeBatch: {
        Comment: 'sandbox seed: trading endpoints on the primary region',
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
  route53.destroy();

  const regional: SeededAwsResources['regional'] = {};
  for (const region of [primary, secondary]) {
    regional[region] = await seedRegion(endpoint, region, primary);
  }
  return { hostedZoneId, hostedZoneName: HOSTED_ZONE_NAME, records, targets, regional };
}

async function seedRegion(
  endpoint: string,
  region: string,
  activeRegion: string,
): Promise<RegionalAwsResources> {
  const config = awsClientConfig(endpoint, region);
  const ssm = new SSMClient(config);
  const flags: Record<string, string> = {
    [FLAG_PARAMETERS.acceptNewOrders]: 'true',
    [FLAG_PARAMETERS.strategyActivation]: 'enabled',
    [FLAG_PARAMETERS.activeRegion]: activeRegion,
    [FLAG_PARAMETERS.deploymentFreeze]: 'false',
  };
  for (const [Name, Value] of Object.entries(flags)) {
    await ssm.send(new PutParameterCommand({ Name, Value, Type: 'String', Overwrite: true }));
  }
  ssm.destroy();

  const sns = new SNSClient(config);
  const topic = await sns.send(new CreateTopicCommand({ Name: 'tradepulse-dr-notifications' }));
  sns.destroy();

  const s3 = new S3Client(config);
  const evidenceBucket = `tradepulse-dr-evidence-${region}`;
  await s3.send(
    new CreateBucketCommand({
      Bucket: evidenceBucket,
      ObjectLockEnabledForBucket: true,
      ...(region === 'us-east-1'
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
    }),
  );
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: evidenceBucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  s3.destroy();

  const dynamo = new DynamoDBClient(config);
  const lockTable = 'tradepulse-dr-runs';
  await dynamo.send(
    new CreateTableCommand({
      TableName: lockTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  dynamo.destroy();

  const kms = new KMSClient(config);
  const key = await kms.send(
    new CreateKeyCommand({
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Description: `tradepulse-dr evidence encryption (${region})`,
    }),
  );
  const kmsKeyArn = key.KeyMetadata!.Arn!;
  await kms.send(new CreateAliasCommand({ AliasName: EVIDENCE_KMS_ALIAS, TargetKeyId: kmsKeyArn }));
  const signing = await kms.send(
    new CreateKeyCommand({
      KeySpec: 'RSA_2048',
      KeyUsage: 'SIGN_VERIFY',
      Description: `tradepulse-dr backup manifest signing (${region})`,
    }),
  );
  const backupSigningKeyArn = signing.KeyMetadata!.Arn!;
  await kms.send(
    new CreateAliasCommand({ AliasName: BACKUP_SIGNING_KMS_ALIAS, TargetKeyId: backupSigningKeyArn }),
  );
  kms.destroy();
  return {
    parameters: FLAG_PARAMETERS,
    snsTopicArn: topic.TopicArn!,
    evidenceBucket,
    lockTable,
    kmsKeyArn,
    backupSigningKeyArn,
  };
}
