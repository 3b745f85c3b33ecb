/**
 * The Kafka (kafkajs) and Redis (ioredis) adapters against real servers of a fresh
 * sandbox, taken through a failover in the order the workflow runs it. Tests within each
 * describe depend on each other's effects and run in order; the Kafka part stops
 * MirrorMaker 2 half-way, as losing the source region does.
 */
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { Redis } from 'ioredis';
import { KafkajsAdapter } from '../../lambdas/shared/adapters/kafka/kafkajs-adapter';
import type { GroupTranslation } from '../../lambdas/shared/adapters/kafka/offset-translation';
import { scanFeatureRecords } from '../../lambdas/shared/adapters/redis/feature-records';
import { IoredisAdapter } from '../../lambdas/shared/adapters/redis/ioredis-adapter';
import { S3SnapshotSource } from '../../lambdas/shared/adapters/redis/s3-snapshot-source';
import {
  snapshotObjectKey,
  writeFeatureSnapshot,
  FEATURE_SNAPSHOT_PREFIX,
  type FeatureRecord,
} from '../../lambdas/shared/feature-snapshot';
import { TransientError } from '../../lambdas/shared/errors';
import { ManifestMismatchError } from '../../lambdas/shared/manifest';
import { SANDBOX_HOST } from '../../sandbox/config';
import { awsClientConfig } from '../../sandbox/moto';
import { redisClient } from '../../sandbox/redis';
import { REPO_ROOT } from '../../sandbox/sandbox';
import { ProcessSupervisor } from '../../sandbox/supervisor';
import { useFreshSandbox } from './fresh-sandbox';
import { testSandboxConfig } from './sandbox-fixture';

const SANDBOX_NAME = 'kafka-redis';
const endpoints = useFreshSandbox(SANDBOX_NAME, 26100);
/** MirrorMaker 2's `offset.lag.max` in this sandbox: the bound on re-delivered messages. */
const OFFSET_LAG_MAX = testSandboxConfig().kafka.offsetLagMax;
/** sandbox/kafka.ts names the target cluster `b` in MirrorMaker 2's configuration. */
const TARGET_ALIAS = 'b';

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(300);
  }
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, SANDBOX_HOST);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Stops this test's own sandbox's MirrorMaker 2 by the pid its supervisor registered (the fresh-sandbox layout). */
async function stopMirrorMaker(): Promise<void> {
  const rootDir = path.join(REPO_ROOT, '.sandbox', `fresh-${SANDBOX_NAME}`);
  const supervisor = new ProcessSupervisor(
    path.join(rootDir, 'processes.json'),
    path.join(REPO_ROOT, '.sandbox', 'logs', `fresh-${SANDBOX_NAME}`),
  );
  if (!supervisor.list().some((p) => p.name === 'mirror-maker'))
    throw new Error('mirror-maker is not registered with the fresh sandbox');
  await supervisor.stop('mirror-maker');
}

describe('KafkajsAdapter on a fresh sandbox', () => {
  let adapter: KafkajsAdapter;
  let kafkaA: Kafka;
  let kafkaB: Kafka;
  let adminB: Admin;
  const group = 'settlement-service';
  const alias = () => endpoints().mirrorSourceAlias;

  beforeAll(async () => {
    const e = endpoints();
    adapter = new KafkajsAdapter({
      sourceBrokers: e.primary.kafka.brokers,
      targetBrokers: e.secondary.kafka.brokers,
      sourceAlias: e.mirrorSourceAlias,
      targetAlias: TARGET_ALIAS,
      criticalTopics: e.criticalTopics,
      readTimeoutMs: 30_000,
    });
    kafkaA = new Kafka({ clientId: 'test-a', brokers: e.primary.kafka.brokers, logLevel: logLevel.NOTHING });
    kafkaB = new Kafka({
      clientId: 'test-b',
      brokers: e.secondary.kafka.brokers,
      logLevel: logLevel.NOTHING,
    });
    adminB = kafkaB.admin();
    await adminB.connect();
  });
  afterAll(async () => {
    await adapter?.close();
    await adminB?.disconnect();
  });

  async function produce(topic: string, values: string[]): Promise<void> {
    const producer = kafkaA.producer();
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((value, i) => ({ partition: i % 3, key: value, value })),
    });
    await producer.disconnect();
  }

  test('target health, and every mirrored partition has its ISR at min.insync.replicas', async () => {
    expect(await adapter.health()).toMatchObject({ reachable: true, brokers: 1 });
    const isr = await adapter.checkIsr();
    expect(isr.map((r) => `${r.topic}-${r.partition}`).sort()).toEqual(
      endpoints()
        .criticalTopics.flatMap((t) => [0, 1, 2].map((p) => `${alias()}.${t}-${p}`))
        .sort(),
    );
    expect(isr.every((r) => r.ok && r.isr === 1 && r.minInsyncReplicas === 1)).toBe(true);
  });

  test('while MirrorMaker 2 keeps up, the measured lag drains to zero messages and zero seconds', async () => {
    await produce(
      'orders',
      Array.from({ length: 60 }, (_, i) => `warm-${i}`),
    );
    await produce(
      'fills',
      Array.from({ length: 30 }, (_, i) => `warm-fill-${i}`),
    );
    const lag = await eventually('MirrorMaker 2 to mirror everything', async () => {
      const topics = await adapter.replicationLag();
      return topics.every((t) => t.messagesBehind === 0) ? topics : undefined;
    });
    expect(lag.map((t) => t.topic)).toEqual(endpoints().criticalTopics);
    expect(lag.every((t) => t.lagSeconds === 0)).toBe(true);
    const orders = lag.find((t) => t.topic === 'orders')!;
    expect(orders.partitions.map((p) => [p.sourceEndOffset, p.method])).toEqual([
      ['20', 'offset-sync'],
      ['20', 'offset-sync'],
      ['20', 'offset-sync'],
    ]);
    // The throw-away reader groups leave no trace on the source.
    const adminA = kafkaA.admin();
    await adminA.connect();
    const { groups } = await adminA.listGroups();
    await adminA.disconnect();
    expect(groups.filter((g) => g.groupId.startsWith('tradepulse-dr-reader'))).toEqual([]);
  });

  test('an unreachable cluster: health says so, and measuring lag fails as a retryable TransientError', async () => {
    const port = await closedPort();
    const unreachable = new KafkajsAdapter({
      sourceBrokers: [`${SANDBOX_HOST}:${port}`],
      targetBrokers: [`${SANDBOX_HOST}:${port}`],
      sourceAlias: alias(),
      targetAlias: TARGET_ALIAS,
      criticalTopics: ['orders'],
      clientConfig: { retry: { retries: 1, initialRetryTime: 50 } },
    });
    try {
      expect(await unreachable.health()).toMatchObject({ reachable: false, brokers: 0 });
      await expect(unreachable.replicationLag()).rejects.toThrow(TransientError);
    } finally {
      await unreachable.close();
    }
  });

  const consumedOnA = new Map<number, bigint>(); // partition → next offset to consume (committed)
  const consumedValues = new Set<string>();
  const unconsumedValues = Array.from({ length: 30 }, (_, i) => `after-${i}`);
  let translation: GroupTranslation;

  test('a group’s offsets committed on A are snapshotted and, once MM2 has checkpointed them, translated and committed on B', async () => {
    // The group consumes everything there is on A and commits; then more arrives that nobody consumed.
    await produce(
      'orders',
      Array.from({ length: 15 }, (_, i) => `before-${i}`),
    );
    const expected = 75;
    const consumer = kafkaA.consumer({ groupId: group });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        consumedValues.add(message.value!.toString());
        consumedOnA.set(partition, BigInt(message.offset) + 1n);
      },
    });
    await eventually('the group to read everything on A', async () =>
      consumedValues.size === expected ? true : undefined,
    );
    await consumer.commitOffsets(
      [...consumedOnA].map(([partition, offset]) => ({
        topic: 'orders',
        partition,
        offset: offset.toString(),
      })),
    );
    await consumer.disconnect();
    await produce('orders', unconsumedValues);

    const snapshot = await adapter.snapshotSourceOffsets();
    expect(snapshot[group]).toEqual({
      orders: Object.fromEntries([...consumedOnA].map(([p, o]) => [p, o.toString()])),
    });

    // MM2 checkpoints the group's committed offsets (the dry run reads them, changing nothing) and mirrors the rest.
    await eventually('checkpoints of the committed offsets', async () => {
      const planned = (await adapter.translateAndCommitOffsets({ dryRun: true })).find(
        (g) => g.group === group,
      );
      const upstream = new Map(planned?.offsets.map((o) => [o.partition, BigInt(o.upstreamOffset)]));
      return [...consumedOnA].every(([p, o]) => upstream.get(p) === o) ? true : undefined;
    });
    await eventually('the unconsumed messages to be mirrored', async () =>
      (await adapter.replicationLag()).every((t) => t.messagesBehind === 0) ? true : undefined,
    );

    // Region A is lost: replication stops, and B holds no offsets for the group (as when sync.group.offsets had not run).
    await stopMirrorMaker();
    await adminB.deleteGroups([group]).catch(() => {});
    const before = await adminB.fetchOffsets({ groupId: group, topics: [`${alias()}.orders`] });
    expect(before[0]!.partitions.every((p) => p.offset === '-1')).toBe(true);

    const dryRun = (await adapter.translateAndCommitOffsets({ dryRun: true, sourceOffsets: snapshot })).find(
      (g) => g.group === group,
    )!;
    expect(dryRun).toMatchObject({ committed: false, dryRun: true });
    expect(dryRun.skippedReason).toBeUndefined();
    expect(dryRun.partitionsWithoutCheckpoint).toBeUndefined();
    expect(
      (await adminB.fetchOffsets({ groupId: group, topics: [`${alias()}.orders`] }))[0]!.partitions.every(
        (p) => p.offset === '-1',
      ),
    ).toBe(true);

    translation = (await adapter.translateAndCommitOffsets({ dryRun: false })).find(
      (g) => g.group === group,
    )!;
    expect(translation).toMatchObject({ committed: true, verified: true });
    expect(translation.offsets.map((o) => [o.topic, o.partition, o.upstreamOffset, o.decision])).toEqual(
      [0, 1, 2].map((p) => [`${alias()}.orders`, p, consumedOnA.get(p)!.toString(), 'commit']),
    );
    const after = await adminB.fetchOffsets({ groupId: group, topics: [`${alias()}.orders`] });
    expect(after[0]!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual(
      translation.offsets.map((o) => [o.partition, o.offset]).sort(),
    );

    const again = (await adapter.translateAndCommitOffsets({ dryRun: false })).find(
      (g) => g.group === group,
    )!;
    expect(again).toMatchObject({ committed: false, skippedReason: 'already-at-or-beyond' });
  });

  test('a consumer of the mirrored topic in that group resumes on B after its last message on A: nothing skipped, duplicates within offset.lag.max', async () => {
    const received: { partition: number; offset: bigint; value: string }[] = [];
    const consumer = kafkaB.consumer({ groupId: group });
    await consumer.connect();
    await consumer.subscribe({ topic: `${alias()}.orders` });
    await consumer.run({
      eachMessage: async ({ partition, message }) =>
        void received.push({ partition, offset: BigInt(message.offset), value: message.value!.toString() }),
    });
    await eventually('every unconsumed message on B', async () =>
      unconsumedValues.every((v) => received.some((r) => r.value === v)) ? true : undefined,
    );

    // While it consumes, the group is active on B: the adapter leaves it alone.
    const whileActive = (await adapter.translateAndCommitOffsets({ dryRun: true })).find(
      (g) => g.group === group,
    )!;
    expect(whileActive.skippedReason).toBe('group-active-on-target');
    await consumer.disconnect();

    const skipped = unconsumedValues.filter((v) => !received.some((r) => r.value === v));
    expect(skipped).toEqual([]);
    for (const partition of [0, 1, 2]) {
      const onPartition = received.filter((r) => r.partition === partition);
      const translated = BigInt(translation.offsets.find((o) => o.partition === partition)!.offset);
      expect(onPartition[0]!.offset).toBe(translated); // resumed exactly at the committed translation
      const duplicates = onPartition.filter((r) => consumedValues.has(r.value)).length;
      expect(duplicates).toBeLessThanOrEqual(OFFSET_LAG_MAX);
      expect(
        onPartition.every((r) => consumedValues.has(r.value) || unconsumedValues.includes(r.value)),
      ).toBe(true);
    }

    const lag = await adapter.consumerLagOnTarget();
    expect(lag.find((l) => l.group === group)).toEqual({
      group,
      topic: `${alias()}.orders`,
      lag: 0,
      partitionsWithoutOffset: 0,
    });
  });

  test('with replication stopped, the lag is exactly the unmirrored messages and as old as the oldest of them', async () => {
    const producedAt = Date.now();
    await produce(
      'fills',
      Array.from({ length: 7 }, (_, i) => `stranded-${i}`),
    );
    await sleep(1500);
    const lag = await adapter.replicationLag();
    const fills = lag.find((t) => t.topic === 'fills')!;
    expect(fills.messagesBehind).toBe(7);
    expect(fills.lagSeconds).toBeGreaterThanOrEqual(1.4);
    expect(fills.lagSeconds).toBeLessThan((Date.now() - producedAt) / 1000 + 1);
    expect(fills.partitions.map((p) => p.messagesBehind)).toEqual([3, 2, 2]);
    expect(lag.find((t) => t.topic === 'orders')!.messagesBehind).toBe(0);
  });
});

describe('IoredisAdapter on a fresh sandbox', () => {
  let s3: S3Client;
  let bucket: string;
  let snapshots: S3SnapshotSource;
  let oldPrimary: IoredisAdapter;
  let target: IoredisAdapter;
  let primaryClient: Redis;
  let targetClient: Redis;
  let firstSnapshot: string;
  const hashes = 250;
  const withTtl = 20;

  beforeAll(async () => {
    const e = endpoints();
    s3 = new S3Client(awsClientConfig(e.aws.endpoint, e.secondary.region));
    bucket = e.aws.resources.regional[e.secondary.region]!.evidenceBucket;
    snapshots = new S3SnapshotSource({ s3, bucket });
    oldPrimary = new IoredisAdapter({ host: SANDBOX_HOST, port: e.primary.redis.port });
    target = new IoredisAdapter({
      host: SANDBOX_HOST,
      port: e.secondary.redis.port,
      snapshots,
      hydrationBatchSize: 64,
    });
    primaryClient = redisClient(e.primary.redis.port);
    targetClient = redisClient(e.secondary.redis.port);
    await primaryClient.connect();
    await targetClient.connect();
  });
  afterAll(async () => {
    await oldPrimary?.close();
    await target?.close();
    primaryClient?.disconnect();
    targetClient?.disconnect();
    s3?.destroy();
  });

  const featureKey = (i: number) => `feature:SYM${String(i).padStart(4, '0')}`;

  test('an unreachable node: status says so (no throw), fencing fails as a retryable TransientError', async () => {
    const unreachable = new IoredisAdapter({ host: SANDBOX_HOST, port: await closedPort() });
    try {
      expect(await unreachable.status()).toMatchObject({ reachable: false, role: 'unknown' });
      await expect(unreachable.fence()).rejects.toThrow(TransientError);
    } finally {
      await unreachable.close();
    }
  });

  test('status: the primary is master, the replica follows it with the link up', async () => {
    expect(await oldPrimary.status()).toMatchObject({
      reachable: true,
      role: 'master',
      linkUp: null,
      fenced: false,
    });
    expect(await target.status()).toMatchObject({ reachable: true, role: 'replica', linkUp: true });
  });

  test('features written to the primary are snapshotted to the target region’s bucket with a manifest', async () => {
    const write = primaryClient.pipeline();
    for (let i = 0; i < hashes; i++)
      write.hset(featureKey(i), { vwap: (100 + i / 100).toFixed(2), spread: '0.01', model: 'v7' });
    for (let i = 0; i < withTtl; i++) write.set(`feature:session:${i}`, `token-${i}`, 'EX', 600);
    write.set('unrelated:key', 'not a feature');
    await write.exec();

    const written = await writeFeatureSnapshot({
      s3,
      bucket,
      records: scanFeatureRecords(primaryClient, { match: 'feature:*' }),
      recordsPerFile: 100,
    });
    firstSnapshot = written.id;
    expect(written.manifest.files.map((f) => f.path)).toEqual([
      'features-00000.jsonl',
      'features-00001.jsonl',
      'features-00002.jsonl',
    ]);
    expect(written.manifest.metadata.recordCount).toBe(hashes + withTtl);
    expect(await snapshots.listSnapshots()).toEqual([written.id]);
  });

  test('a dry-run hydration verifies the snapshot and writes nothing', async () => {
    const result = await target.hydrateFromSnapshot({ dryRun: true });
    expect(result).toMatchObject({
      snapshot: firstSnapshot,
      verified: true,
      alreadyDone: false,
      keysWritten: 0,
      records: hashes + withTtl,
      keysExpired: 0,
      files: 3,
    });
    expect(await targetClient.exists('dr:hydrated-snapshot')).toBe(0);
  });

  test('fencing the old primary makes it refuse every write, and fencing again is a no-op', async () => {
    const fenced = await oldPrimary.fence();
    expect(fenced).toMatchObject({
      alreadyDone: false,
      mechanism: 'min-replicas-to-write',
      verifiedWriteRefused: true,
      previous: { minReplicasToWrite: 0 },
    });
    await expect(primaryClient.set('feature:late-write', 'x')).rejects.toThrow(/NOREPLICAS/);
    await expect(
      primaryClient.eval("return redis.call('SET', KEYS[1], 'x')", 1, 'feature:late-write'),
    ).rejects.toThrow(/NOREPLICAS/);
    expect(await primaryClient.hget(featureKey(0), 'model')).toBe('v7'); // reads still work
    expect(await oldPrimary.fence()).toMatchObject({ alreadyDone: true });
    expect(await oldPrimary.status()).toMatchObject({ role: 'master', fenced: true });
  });

  test('promoting the replica makes it a writable master; promoting again is a no-op', async () => {
    const promoted = await target.promote();
    expect(promoted).toMatchObject({
      alreadyDone: false,
      verifiedWritable: true,
      previousMaster: `${SANDBOX_HOST}:${endpoints().primary.redis.port}`,
    });
    expect(await target.status()).toMatchObject({ role: 'master', linkUp: null });
    await expect(targetClient.set('after:promotion', 'ok')).resolves.toBe('OK');
    expect(await target.promote()).toMatchObject({ alreadyDone: true });
  });

  test('hydration replays the verified snapshot: every hot key present as snapshotted, stale fields gone', async () => {
    // The promoted cache lost some keys and has a field the snapshot does not know.
    await targetClient.del(...Array.from({ length: 100 }, (_, i) => featureKey(i)), 'feature:session:3');
    await targetClient.hset(featureKey(200), 'stale', '1');

    const result = await target.hydrateFromSnapshot({ dryRun: false });
    expect(result).toMatchObject({
      snapshot: firstSnapshot,
      verified: true,
      alreadyDone: false,
      keysWritten: hashes + withTtl,
      keysExpired: 0,
    });
    expect(await targetClient.hgetall(featureKey(0))).toEqual({
      vwap: '100.00',
      spread: '0.01',
      model: 'v7',
    });
    expect(await targetClient.hgetall(featureKey(200))).toEqual({
      vwap: '102.00',
      spread: '0.01',
      model: 'v7',
    });
    expect(await targetClient.get('feature:session:3')).toBe('token-3');
    const ttl = await targetClient.pttl('feature:session:3');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600_000);
    expect(await targetClient.exists('unrelated:key')).toBe(1); // replicated, and not touched by hydration
    expect(JSON.parse((await targetClient.get('dr:hydrated-snapshot'))!)).toMatchObject({
      snapshot: firstSnapshot,
      keysWritten: hashes + withTtl,
    });
  });

  test('hydrating the same snapshot again is a recorded no-op', async () => {
    expect(await target.hydrateFromSnapshot({ dryRun: false })).toMatchObject({
      snapshot: firstSnapshot,
      alreadyDone: true,
      keysWritten: 0,
      verified: true,
    });
  });

  test('a newer snapshot with a tampered file is refused before anything is written', async () => {
    const records: FeatureRecord[] = [
      { key: featureKey(0), fields: { vwap: '999.99', spread: '0.02', model: 'v8' } },
      { key: 'feature:only-in-second', value: 'new' },
      { key: featureKey(1), fields: { vwap: '555.55', spread: '0.02', model: 'v8' } },
    ];
    const second = await writeFeatureSnapshot({ s3, bucket, records, recordsPerFile: 2 });
    const tamperedKey = snapshotObjectKey(FEATURE_SNAPSHOT_PREFIX, second.id, 'features-00001.jsonl');
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: tamperedKey,
        Body: `${JSON.stringify({ key: featureKey(1), fields: { vwap: '0.01', spread: '0.02', model: 'v8' } })}\n`,
      }),
    );
    const keysBefore = await targetClient.dbsize();

    for (const dryRun of [true, false]) {
      const failure = target.hydrateFromSnapshot({ dryRun });
      await expect(failure).rejects.toThrow(ManifestMismatchError);
      const error = (await failure.catch((e: unknown) => e)) as ManifestMismatchError;
      expect(error.mismatches.map((m) => [m.path, m.problem])).toEqual([
        ['features-00001.jsonl', 'size'],
        ['features-00001.jsonl', 'sha256'],
      ]);
    }
    // Nothing of the second snapshot was written, not even the untouched first file.
    expect(await targetClient.exists('feature:only-in-second')).toBe(0);
    expect(await targetClient.hget(featureKey(0), 'vwap')).toBe('100.00');
    expect(await targetClient.dbsize()).toBe(keysBefore);
    expect(JSON.parse((await targetClient.get('dr:hydrated-snapshot'))!).snapshot).toBe(firstSnapshot);
  });

  test('unfencing the old primary restores writes', async () => {
    expect(await oldPrimary.unfence()).toMatchObject({ alreadyDone: false });
    await expect(primaryClient.set('after:unfence', 'ok')).resolves.toBe('OK');
    expect(await oldPrimary.unfence()).toMatchObject({ alreadyDone: true });
  });
});
