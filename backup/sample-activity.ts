import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditTrailConsumer } from '../drill/audit-consumer';
import type { SandboxEndpoints } from '../sandbox/endpoints';
import { redisClient } from '../sandbox/redis';
import { startLoadGenerator } from '../workload';

/**
 * Activity worth backing up and validating on a sandbox (tests, bench:backup): `redisKeys`
 * feature hashes in the primary Redis, and a few seconds of the load generator writing
 * orders, fills and risk events to PostgreSQL and Kafka while an audit consumer group
 * commits on `orders` — a critical group MirrorMaker 2 checkpoints. Returns once the load
 * stopped, the group committed and MirrorMaker 2 had time to mirror and checkpoint the tail.
 */
export async function sampleActivity(
  endpoints: SandboxEndpoints,
  opts: { name: string; journalDir: string; redisKeys: number; seconds?: number; ratePerSecond?: number },
): Promise<{ kafkaMessages: number; postgresWrites: number }> {
  const redis = redisClient(endpoints.primary.redis.port);
  await redis.connect();
  try {
    for (let i = 0; i < opts.redisKeys; i += 1000) {
      const pipe = redis.pipeline();
      for (let k = i; k < Math.min(i + 1000, opts.redisKeys); k += 1)
        pipe.hset(`feature:acct:${k}`, { score: String(k * 0.5), window: '5m' });
      await pipe.exec();
    }
  } finally {
    redis.disconnect();
  }
  const audit = new AuditTrailConsumer(`audit-trail-${opts.name}`);
  await audit.start(endpoints.primary.kafka.brokers, ['orders']);
  const load = startLoadGenerator({
    journalPath: path.join(opts.journalDir, `${opts.name}.jsonl`),
    ratePerSecond: opts.ratePerSecond ?? 60,
    writerId: `loadgen-${opts.name}`,
    postgres: { ...endpoints.primary.postgres, user: endpoints.postgresUsers.app },
    kafka: { brokers: endpoints.primary.kafka.brokers },
  });
  await sleep((opts.seconds ?? 3) * 1000);
  await load.stop();
  await sleep(1500); // the consumer catches up and commits
  await audit.stop();
  await sleep(4000); // MirrorMaker 2 mirrors the tail and checkpoints the group
  const stats = load.stats();
  return { kafkaMessages: stats.acknowledged.kafka, postgresWrites: stats.acknowledged.postgres };
}
