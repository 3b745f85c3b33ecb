import type { S3Client } from '@aws-sdk/client-s3';
import { createAwsClients } from '../lambdas/shared/adapters/aws/clients';
import { writeFeatureSnapshot, type FeatureRecord } from '../lambdas/shared/feature-snapshot';
import { ensureSnapshotInRegion } from '../integrity/sync/feature-snapshot-sync';
import { redisClient } from '../sandbox/redis';
import type { SandboxEndpoints } from '../sandbox/endpoints';
import { INSTRUMENTS, TRADABLE_ACCOUNTS } from '../workload';

/**
 * The online features the strategies read: per instrument and per account, deterministic
 * apart from `asOf`, when the instrument features were computed (the feature-parity
 * check's clock-skew field).
 */
export function hotFeatures(asOf: Date = new Date()): FeatureRecord[] {
  const records: FeatureRecord[] = [];
  for (const instrument of INSTRUMENTS) {
    records.push({
      key: `feature:instrument:${instrument.symbol}`,
      fields: {
        referencePrice: instrument.referencePrice,
        volatility20d: '0.21',
        spreadBps: '1.8',
        asOf: asOf.toISOString(),
      },
    });
  }
  for (const account of TRADABLE_ACCOUNTS) {
    for (const instrument of INSTRUMENTS) {
      records.push({
        key: `feature:exposure:${account.accountId}:${instrument.symbol}`,
        value: '0',
        ttl: 86_400,
      });
    }
  }
  return records;
}

/**
 * Seeds the primary region's Redis with the hot features, writes their snapshot, with its
 * checksum manifest, to the primary region's bucket (where it is taken), and syncs it into
 * the secondary region's bucket with the resilient data sync (multipart, verified against
 * the manifest there, manifest last): what the failover hydrates the promoted replica from.
 */
export async function seedHotFeatures(
  endpoints: SandboxEndpoints,
  targetS3: S3Client,
): Promise<{ keys: number; snapshotId: string }> {
  const records = hotFeatures();
  const redis = redisClient(endpoints.primary.redis.port);
  await redis.connect();
  try {
    const pipeline = redis.multi();
    for (const record of records) {
      if ('fields' in record) pipeline.hset(record.key, record.fields);
      else if (record.ttl) pipeline.set(record.key, record.value, 'EX', record.ttl);
      else pipeline.set(record.key, record.value);
    }
    await pipeline.exec();
  } finally {
    redis.disconnect();
  }
  const sourceBucket = endpoints.aws.resources.regional[endpoints.primary.region]!.evidenceBucket;
  const targetBucket = endpoints.aws.resources.regional[endpoints.secondary.region]!.evidenceBucket;
  const primaryAws = createAwsClients({
    region: endpoints.primary.region,
    endpoint: endpoints.aws.endpoint,
    credentials: endpoints.aws.credentials,
  });
  try {
    const snapshot = await writeFeatureSnapshot({
      s3: primaryAws.s3,
      bucket: sourceBucket,
      records,
      metadata: { source: endpoints.primary.region, purpose: 'hot-key hydration' },
    });
    await ensureSnapshotInRegion({
      source: { s3: primaryAws.s3, bucket: sourceBucket, region: endpoints.primary.region },
      target: { s3: targetS3, bucket: targetBucket, region: endpoints.secondary.region },
      snapshotId: snapshot.id,
    });
    return { keys: records.length, snapshotId: snapshot.id };
  } finally {
    primaryAws.destroy();
  }
}
