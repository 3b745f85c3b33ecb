import type { RedisAdapter } from '../adapters/contracts';
import { IoredisAdapter } from '../adapters/redis/ioredis-adapter';
import { S3SnapshotSource } from '../adapters/redis/s3-snapshot-source';
import { defineProvider, regionOf } from './provider';
import { s3Client } from './s3-client';
import type { DrDependencies } from '../dependencies';

/** `redis`: one adapter (connections, the region's feature snapshots) per region for the life of the process. */
export const redisProvider = defineProvider<Pick<DrDependencies, 'redis'>>('redis', (ctx) => {
  const adapters = new Map<string, RedisAdapter>();
  const redis = (region: string): RedisAdapter => {
    let adapter = adapters.get(region);
    if (!adapter) {
      const { redis: endpoint, aws } = regionOf(ctx.topology, region);
      adapter = new IoredisAdapter({
        host: endpoint.host,
        port: endpoint.port,
        snapshots: new S3SnapshotSource({ s3: ctx.aws(region, 's3', s3Client), bucket: aws.evidenceBucket }),
      });
      adapters.set(region, adapter);
    }
    return adapter;
  };
  return {
    forRun: () => ({ redis }),
    async close() {
      await Promise.allSettled([...adapters.values()].map((a) => a.close()));
      adapters.clear();
    },
  };
});
