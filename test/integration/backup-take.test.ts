/**
 * Taking backups on a fresh sandbox UNDER LOAD (issue 5, part 1): the load generator writes
 * orders, fills and risk events to PostgreSQL and Kafka, a consumer group commits on
 * `orders`, and a Redis writer changes feature keys, all while the three backups are taken.
 * Then: the objects and manifests are in moto's S3, every signature verifies with moto's
 * KMS, the decrypted archive extracts (GNU tar) into files whose SHA-256 match the manifest,
 * the primary kept committing while the standby's replay was paused, and — the point of the
 * paused standby — the archive restored to its recovery target holds exactly the ledger
 * aggregates in the manifest, and the restored RDB exactly the key digests in its manifest.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { sandboxBackups, type SandboxBackups } from '../../backup/sandbox-backups';
import { AuditTrailConsumer } from '../../drill/audit-consumer';
import { SandboxRestoreTargets } from '../../lambdas/shared/adapters/restore/sandbox-restore-targets';
import { readLedgerAggregates } from '../../lambdas/shared/adapters/postgres/ledger';
import { backupKeys, type TakenBackup } from '../../lambdas/shared/backup/contracts';
import { BackupIntegrityError, BackupSignatureError } from '../../lambdas/shared/backup/errors';
import { drain } from '../../lambdas/shared/backup/service';
import { ensurePostgres } from '../../sandbox/install';
import { awsClientConfig } from '../../sandbox/moto';
import { silentProgress } from '../../sandbox/progress';
import { sandboxProcesses } from '../../sandbox/sandbox';
import { startLoadGenerator, type LoadGenerator } from '../../workload';
import { useFreshSandbox } from './fresh-sandbox';

const endpoints = useFreshSandbox('backup-take', 26700);
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-backup-take-'));

let backups: SandboxBackups;
let s3: S3Client;
let pgBinDir: string;
let runAs: { uid: number; gid: number } | undefined;
const taken: Partial<Record<'postgres' | 'redis' | 'kafka', TakenBackup>> = {};
/** PostgreSQL acknowledgements of the load generator just before and just after the PostgreSQL backup. */
const acks = { before: 0, after: 0 };
let redisWrites = 0;

beforeAll(async () => {
  const e = endpoints();
  const install = await ensurePostgres(silentProgress);
  pgBinDir = install.bindir;
  runAs = install.runAs;
  backups = sandboxBackups(e, { pgBinDir });
  s3 = new S3Client(awsClientConfig(e.aws.endpoint, e.secondary.region));

  const audit = new AuditTrailConsumer('risk-engine-backup-take');
  await audit.start(e.primary.kafka.brokers, ['orders']);
  const load: LoadGenerator = startLoadGenerator({
    journalPath: path.join(workDir, 'journal.jsonl'),
    ratePerSecond: 150,
    writerId: 'loadgen-backup-take',
    postgres: { ...e.primary.postgres, user: e.postgresUsers.app },
    kafka: { brokers: e.primary.kafka.brokers },
  });
  // A Redis writer that keeps changing feature keys throughout (the pause must hold it still).
  const redis = new Redis({ host: e.primary.redis.host, port: e.primary.redis.port, lazyConnect: true });
  await redis.connect();
  let writing = true;
  const writer = (async () => {
    while (writing) {
      const i = redisWrites % 300;
      await redis.hset(`feature:acct:${i}`, {
        score: String(redisWrites),
        updatedAt: new Date().toISOString(),
      });
      await redis.set(`last-write`, String(redisWrites));
      redisWrites += 1;
    }
  })();
  try {
    await sleep(3000);
    acks.before = load.stats().acknowledged.postgres;
    taken.postgres = await backups.taker.takePostgresBackup();
    acks.after = load.stats().acknowledged.postgres;
    taken.redis = await backups.taker.takeRedisBackup();
    taken.kafka = await backups.taker.recordKafkaOffsets();
  } finally {
    writing = false;
    await writer;
    redis.disconnect();
    await load.stop();
    await audit.stop();
  }
});

afterAll(async () => {
  backups?.close();
  s3?.destroy();
  fs.rmSync(workDir, { recursive: true, force: true });
});

const keysOf = (t: TakenBackup) => backupKeys('tradepulse', t.kind, t.backupId);

describe('backups taken under load', () => {
  test('objects, signature and manifest are in the DR region’s bucket; every signature verifies with KMS', async () => {
    for (const t of Object.values(taken)) {
      const k = keysOf(t);
      const listed = await s3.send(
        new ListObjectsV2Command({ Bucket: backups.service.env.bucket, Prefix: k.prefix }),
      );
      const names = (listed.Contents ?? []).map((o) => o.Key!).sort();
      expect(names).toEqual([k.manifest, k.signature, ...t.manifest.objects.map((o) => o.key)].sort());
      const verified = await backups.service.loadVerifiedManifest(k.manifest);
      expect(verified.manifest).toEqual(t.manifest);
      expect(verified.signature.keyId).toBe(
        endpoints().aws.resources.regional[endpoints().secondary.region]!.backupSigningKeyArn,
      );
    }
    expect((await backups.service.latestBackup('postgres'))!.backupId).toBe(taken.postgres!.backupId);
  });

  test('the primary kept committing while the standby’s replay was paused for the backup', () => {
    const pg = taken.postgres!.manifest;
    expect(acks.after - acks.before).toBeGreaterThan(20);
    expect(pg.postgres!.aggregates.tables.orders!.rows).toBeGreaterThan(50);
    expect(pg.postgres!.restore!.recoveryTargetLsn).toBe(pg.postgres!.aggregates.lsn);
    expect(pg.postgres!.aggregatesConsistency).toBe('same-snapshot');
  });

  test('the decrypted archive extracts into files whose SHA-256 and sizes match the manifest', async () => {
    const manifest = taken.postgres!.manifest;
    const dir = path.join(workDir, 'extracted');
    fs.mkdirSync(dir);
    const tar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => tar.on('close', resolve));
    await pipeline(await backups.service.openVerifiedArchiveStream(manifest, 'base.tar'), tar.stdin);
    expect([await exited, stderr]).toEqual([0, '']);
    const onDisk: { path: string; bytes: number; sha256: string }[] = [];
    const walk = (rel: string) => {
      for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
        const p = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) walk(p);
        else if (entry.isFile()) {
          const bytes = fs.readFileSync(path.join(dir, p));
          onDisk.push({
            path: p,
            bytes: bytes.length,
            sha256: createHash('sha256').update(bytes).digest('hex'),
          });
        }
      }
    };
    walk('');
    const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);
    expect(onDisk.sort(byPath)).toEqual([...manifest.postgres!.files].sort(byPath));
    // WAL up to (and past) the recovery target is in the archive.
    expect(onDisk.some((f) => /^pg_wal\/[0-9A-F]{24}$/.test(f.path))).toBe(true);
  });

  test('restored to its recovery target, the archive holds exactly the aggregates the paused standby reported; the RDB exactly its key digests', async () => {
    const e = endpoints();
    const processes = sandboxProcesses(endpoints.config);
    const targets = new SandboxRestoreTargets({
      supervisor: processes.supervisor,
      dataRoot: processes.dataRoot,
      postgres: { bindir: pgBinDir, ...(runAs ? { runAs } : {}) },
      redisServer: 'redis-server',
      backups: backups.service,
      database: e.primary.postgres.database,
      operatorUser: e.postgresUsers.operator,
      applicationUser: e.postgresUsers.app,
    });
    const runId = 'backup-take-proof';
    try {
      const restored = await targets.restorePostgres({ runId, backupId: taken.postgres!.backupId });
      const found = await readLedgerAggregates({
        host: restored.host,
        port: restored.port,
        database: restored.database,
        operatorUser: restored.operatorUser,
        applicationUser: restored.applicationUser,
      });
      const expected = taken.postgres!.manifest.postgres!.aggregates;
      const { capturedAt: _a, lsn: _b, ...want } = expected;
      const { capturedAt: _c, lsn: _d, ...got } = found;
      expect(got).toEqual(want);

      const rdb = await targets.restoreRedis({ runId, backupId: taken.redis!.backupId });
      const redis = new Redis({ host: rdb.host, port: rdb.port, lazyConnect: true });
      await redis.connect();
      try {
        const manifest = taken.redis!.manifest.redis!;
        expect(manifest.keyCount).toBeGreaterThan(100);
        expect(await redis.dbsize()).toBe(manifest.keyCount);
        for (const k of manifest.keys) {
          const dump = await redis.dumpBuffer(k.key);
          expect([k.key, createHash('sha256').update(dump!).digest('hex')]).toEqual([k.key, k.digest]);
        }
      } finally {
        redis.disconnect();
      }
    } finally {
      const down = await targets.teardown(runId);
      expect(down.leftBehind).toEqual({ processes: [], dataDirectories: [], objects: [] });
    }
  });

  test('the Kafka record holds the consumer group’s committed offsets on the primary and the end offsets of both clusters', () => {
    const kafka = taken.kafka!.manifest.kafka!;
    const e = endpoints();
    expect(kafka.criticalGroups).toContain('risk-engine-backup-take');
    const committed = kafka.clusters[e.primary.region]!.groups['risk-engine-backup-take']!.orders!;
    expect(Object.values(committed).reduce((n, o) => n + BigInt(o), 0n)).toBeGreaterThan(0n);
    expect(Object.keys(kafka.clusters[e.secondary.region]!.endOffsets).sort()).toEqual([
      'a.fills',
      'a.orders',
      'a.risk_events',
    ]);
  });

  test('a flipped archive byte and a changed manifest byte are refused (moto S3 and KMS)', async () => {
    const bucket = backups.service.env.bucket;
    const t = taken.redis!;
    const k = keysOf(t);
    const get = async (key: string) =>
      Buffer.from(
        await (
          await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        ).Body!.transformToByteArray(),
      );
    const object = await get(t.manifest.objects[0]!.key);
    object[object.length - 40]! ^= 0x01;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: t.manifest.objects[0]!.key, Body: object }));
    await expect(
      drain(await backups.service.openVerifiedArchiveStream(t.manifest, 'dump.rdb')),
    ).rejects.toThrow(BackupIntegrityError);
    const manifest = await get(k.manifest);
    manifest[manifest.indexOf('"keyCount": ') + 12]! ^= 0x01;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k.manifest, Body: manifest }));
    await expect(backups.service.loadVerifiedManifest(k.manifest)).rejects.toThrow(
      /the manifest was changed after signing/,
    );
    // Whoever changes the manifest may rewrite the digest in the signature file too: then moto's
    // KMS Verify (RSA_2048, RSASSA_PSS_SHA_256) is what refuses it.
    const signature = JSON.parse((await get(k.signature)).toString('utf8')) as Record<string, unknown>;
    signature.manifestSha256 = createHash('sha256').update(manifest).digest('hex');
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: k.signature, Body: JSON.stringify(signature) }),
    );
    await expect(backups.service.loadVerifiedManifest(k.manifest)).rejects.toThrow(BackupSignatureError);
    await expect(backups.service.loadVerifiedManifest(k.manifest)).rejects.toThrow(/does not verify under/);
  });
});
