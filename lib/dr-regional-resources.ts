import { Duration, FeatureFlags, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key, type IKey } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectLockRetention,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Access logs delivered through a bucket policy (ACLs stay disabled on every bucket). */
export const SERVER_ACCESS_LOGS_BUCKET_POLICY_FLAG = '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy';

export interface DrRegionalResourcesProps {
  /** The lock and run-record table's name (topology `regions.<region>.aws.lockTable`). */
  readonly tableName: string;
  /** The notification topic's name (the last part of topology `regions.<region>.aws.snsTopicArn`). */
  readonly topicName: string;
  /** The evidence bucket's name (topology `regions.<region>.aws.evidenceBucket`). */
  readonly evidenceBucketName: string;
  /** Object Lock COMPLIANCE default retention of the evidence, in days. @default 2555 (about seven years) */
  readonly evidenceRetentionDays?: number;
  /** How long the evidence bucket's server access logs are kept, in days. @default 365 */
  readonly accessLogRetentionDays?: number;
  /** An existing key of this region for the topic and the evidence bucket. @default a key created here, with rotation */
  readonly key?: IKey;
  /**
   * What happens to the table, the buckets and the created key when the stack is deleted.
   * The evidence stays locked by Object Lock whatever this says. @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The control-plane state a failover into this region uses, all homed in the region
 * (static stability): the lock and run-record table, the notification topic, the
 * immutable evidence bucket (and its access-log bucket), and the key that encrypts them.
 */
export class DrRegionalResources extends Construct {
  readonly key: IKey;
  readonly table: Table;
  readonly topic: Topic;
  readonly evidenceBucket: Bucket;
  readonly accessLogsBucket: Bucket;

  constructor(scope: Construct, id: string, props: DrRegionalResourcesProps) {
    super(scope, id);
    const evidenceRetentionDays = props.evidenceRetentionDays ?? 2555;
    const accessLogRetentionDays = props.accessLogRetentionDays ?? 365;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    for (const [name, days] of [
      ['evidenceRetentionDays', evidenceRetentionDays],
      ['accessLogRetentionDays', accessLogRetentionDays],
    ] as const) {
      if (!Number.isInteger(days) || days < 1)
        throw new Error(`DrRegionalResources ${id}: ${name} must be a whole number of days ≥ 1, not ${days}`);
    }
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(props.topicName))
      throw new Error(`DrRegionalResources ${id}: invalid topicName '${props.topicName}'`);
    if (!FeatureFlags.of(this).isEnabled(SERVER_ACCESS_LOGS_BUCKET_POLICY_FLAG)) {
      throw new Error(
        `DrRegionalResources ${id}: needs the feature flag ${SERVER_ACCESS_LOGS_BUCKET_POLICY_FLAG} (cdk.json) so access logs are delivered by bucket policy, not ACLs`,
      );
    }

    if (props.key) {
      this.key = props.key;
    } else {
      const key = new Key(this, 'Key', {
        description: 'tradepulse-dr: notifications topic and evidence bucket of this region',
        enableKeyRotation: true,
        removalPolicy,
      });
      // CloudWatch alarms publish to the encrypted topic: the service needs the data key.
      key.addToResourcePolicy(
        new PolicyStatement({
          sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
          effect: Effect.ALLOW,
          principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
        }),
      );
      this.key = key;
    }

    this.table = new Table(this, 'RunTable', {
      tableName: props.tableName,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // AWS-managed KMS key: callers need no key permissions, so step roles stay DynamoDB-only.
      encryption: TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy,
    });

    this.topic = new Topic(this, 'Notifications', {
      topicName: props.topicName,
      displayName: 'TradePulse DR',
      masterKey: this.key,
      enforceSSL: true,
    });
    // Subscriptions are managed by the on-call tooling; the topic itself holds no state.
    this.topic.applyRemovalPolicy(RemovalPolicy.DESTROY);

    this.accessLogsBucket = new Bucket(this, 'AccessLogs', {
      // Server access logs can only be delivered to SSE-S3 buckets.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        { expiration: Duration.days(accessLogRetentionDays), noncurrentVersionExpiration: Duration.days(30) },
      ],
      removalPolicy,
    });

    this.evidenceBucket = new Bucket(this, 'Evidence', {
      bucketName: props.evidenceBucketName,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(Duration.days(evidenceRetentionDays)),
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'evidence/',
      removalPolicy,
    });
  }
}
