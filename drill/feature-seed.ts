import type { S3Client } from '@aws-sdk/client-s3';
import { writeFeatureSnapshot, type FeatureRecord } from '../lambdas/shared/feature-snapshot';
import { redisClient } from '../sandbox/redis';
import type { SandboxEndpoints } from '../sandbox/endpoints';
import { INSTRUMENTS, TRADABLE_ACCOUNTS } from '../workload';

/** The online features the strategies read: per instrument and per account, deterministic. */
export function hotFeatures(): FeatureRecord[] {
  const records: FeatureRecord[] = [];
  for (const instrument of INSTRUMENTS) {
    records.push({
      key: `feature:instrument:${instrument.symbol}`,
      fields: { referencePrice: instrument.referencePrice, volatility20d: '0.21', spreadBps: '1.8' },
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
 * Seeds the primary region's Redis with the hot features and writes their snapshot, with
 * its checksum manifest, to the secondary region's bucket (where cross-region replication
 * would have put it): what the failover hydrates the promoted replica from.
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
  const bucket = endpoints.aws.resources.regional[endpoints.secondary.region]!.evidenceBucket;
  const snapshot = await writeFeatureSnapshot({
    s3: targetS3,
    bucket,
    records,
    metadata: { source: endpoints.primary.region, purpose: 'hot-key hydration' },
  });
  return { keys: records.length, snapshotId: snapshot.id };
}
