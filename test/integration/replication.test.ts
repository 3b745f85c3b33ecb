import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { decodeMirrorCheckpoint, type MirrorCheckpoint } from '../../lambdas/shared/kafka/mirror-checkpoint';
import { postgresClient, queryOnce } from '../../sandbox/postgres';
import { redisClient } from '../../sandbox/redis';
import { testEndpoints } from './sandbox-fixture';

const endpoints = testEndpoints();

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(250);
  }
}

describe('sandbox replication between the two regions', () => {
  test('a row committed on the PostgreSQL primary becomes visible on the streaming standby', async () => {
    const marker = `replication-probe-${randomUUID()}`;
    const primary = postgresClient(endpoints.primary.postgres.port);
    await primary.connect();
    await primary.query('create table if not exists sandbox_probe (marker text primary key)');
    await primary.query('insert into sandbox_probe (marker) values ($1)', [marker]);
    await primary.end();

    const rows = await eventually(async () => {
      const found = await queryOnce<{ marker: string }>(
        endpoints.secondary.postgres.port,
        'select marker from sandbox_probe where marker = $1',
        [marker],
      );
      return found.length === 1 ? found : undefined;
    });
    expect(rows[0]!.marker).toBe(marker);
    const [standby] = await queryOnce<{ in_recovery: boolean }>(
      endpoints.secondary.postgres.port,
      'select pg_is_in_recovery() as in_recovery',
    );
    expect(standby!.in_recovery).toBe(true);
  });

  test('the standby refuses writes while it is a standby', async () => {
    await expect(
      queryOnce(endpoints.secondary.postgres.port, 'create table should_fail (id int)'),
    ).rejects.toThrow(/read-only transaction/);
  });

  test('the Redis replica follows its primary', async () => {
    const key = `probe:${randomUUID()}`;
    const primary = redisClient(endpoints.primary.redis.port);
    await primary.connect();
    await primary.set(key, 'from-primary');
    primary.disconnect();
    const replica = redisClient(endpoints.secondary.redis.port);
    await replica.connect();
    try {
      expect(await eventually(async () => (await replica.get(key)) ?? undefined)).toBe('from-primary');
      await expect(replica.set(key, 'x')).rejects.toThrow(/READONLY/);
    } finally {
      replica.disconnect();
    }
  });

  test('a message produced in region A arrives in B’s mirrored topic and its consumer-group checkpoint appears', async () => {
    const kafkaA = new Kafka({
      clientId: 'probe-a',
      brokers: endpoints.primary.kafka.brokers,
      logLevel: logLevel.NOTHING,
    });
    const kafkaB = new Kafka({
      clientId: 'probe-b',
      brokers: endpoints.secondary.kafka.brokers,
      logLevel: logLevel.NOTHING,
    });
    const marker = randomUUID();
    const group = `probe-group-${marker.slice(0, 8)}`;

    const producer = kafkaA.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', acks: -1, messages: [{ key: 'probe', value: marker }] });
    await producer.disconnect();

    // A consumer group on A reads and commits past the message: MirrorMaker 2 checkpoints it.
    const consumerA = kafkaA.consumer({ groupId: group });
    await consumerA.connect();
    await consumerA.subscribe({ topic: 'orders', fromBeginning: true });
    let seenOnA = false;
    await consumerA.run({
      eachMessage: async ({ message }) => void (seenOnA ||= message.value?.toString() === marker),
    });
    await eventually(async () => (seenOnA ? true : undefined));
    await consumerA.disconnect();

    const consumerB = kafkaB.consumer({ groupId: `${group}-reader-b` });
    await consumerB.connect();
    await consumerB.subscribe({ topic: `${endpoints.mirrorSourceAlias}.orders`, fromBeginning: true });
    let seenOnB = false;
    await consumerB.run({
      eachMessage: async ({ message }) => void (seenOnB ||= message.value?.toString() === marker),
    });
    await eventually(async () => (seenOnB ? true : undefined), 45_000);
    await consumerB.disconnect();

    const admin = kafkaB.admin();
    await admin.connect();
    try {
      const synced = await eventually(async () => {
        const [offsets] = await admin.fetchOffsets({
          groupId: group,
          topics: [`${endpoints.mirrorSourceAlias}.orders`],
        });
        const committed = offsets?.partitions.filter((p) => Number(p.offset) > 0) ?? [];
        return committed.length > 0 ? committed : undefined;
      }, 45_000);
      expect(synced.length).toBeGreaterThan(0);
    } finally {
      await admin.disconnect();
    }

    const checkpoints: MirrorCheckpoint[] = [];
    const checkpointReader = kafkaB.consumer({ groupId: `${group}-checkpoint-reader` });
    await checkpointReader.connect();
    await checkpointReader.subscribe({
      topic: `${endpoints.mirrorSourceAlias}.checkpoints.internal`,
      fromBeginning: true,
    });
    await checkpointReader.run({
      eachMessage: async ({ message }) =>
        void checkpoints.push(decodeMirrorCheckpoint(message.key, message.value)),
    });
    const checkpoint = await eventually(
      async () => checkpoints.find((c) => c.consumerGroup === group),
      45_000,
    );
    await checkpointReader.disconnect();
    expect(checkpoint.topic).toBe(`${endpoints.mirrorSourceAlias}.orders`);
    expect(checkpoint.upstreamOffset).toBeGreaterThan(0n);
    expect(checkpoint.downstreamOffset).toBeGreaterThan(0n);
  });
});
