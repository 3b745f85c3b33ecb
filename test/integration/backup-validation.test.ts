import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { Redis } from 'ioredis';
import { runBackupValidation, type BackupValidationRun } from '../../backup/validate';
import { sampleActivity } from '../../backup/sample-activity';
import { sandboxBackups, type SandboxBackups } from '../../backup/sandbox-backups';
import { restoreTargetPrefix } from '../../lambdas/shared/adapters/restore/target-names';
import { backupKeys, type TakenBackup } from '../../lambdas/shared/backup/contracts';
import { ensurePostgres } from '../../sandbox/install';
import { awsClientConfig } from '../../sandbox/moto';
import { silentProgress } from '../../sandbox/progress';
import { sandboxProcesses } from '../../sandbox/sandbox';
import { useFreshSandbox } from './fresh-sandbox';

const endpoints = useFreshSandbox('backup-validation', 26730);

let backups: SandboxBackups;
let taken: { postgres: TakenBackup; redis: TakenBackup; kafka: TakenBackup };
let s3: S3Client;
let bucket: string;
const reportsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-backup-validation-'));

/** Nothing of the run is left: no supervised or stray process, no data directory. */
function leftovers(runId: string) {
  const { supervisor, dataRoot } = sandboxProcesses(endpoints.config);
  const prefix = restoreTargetPrefix(runId);
  return {
    processes: supervisor
      .list()
      .filter((p) => p.name.startsWith(prefix))
      .map((p) => p.name),
    dataDirectories: fs.readdirSync(dataRoot).filter((d) => d.startsWith(prefix)),
  };
}

const validate = (
  input: Record<string, unknown>,
  afterStep?: (step: string, result: unknown) => Promise<void>,
) =>
  runBackupValidation({
    endpoints: endpoints(),
    config: endpoints.config,
    input: { trigger: 'cli', requestedBy: 'jest', ...input },
    reportsDir,
    ...(afterStep ? { afterStep } : {}),
  });

const check = (run: BackupValidationRun, name: string) =>
  (run.report!.checks as { check: string; passed: boolean; reason: string }[]).find((c) => c.check === name);

function expectTornDown(run: BackupValidationRun) {
  expect(leftovers(run.runId)).toEqual({ processes: [], dataDirectories: [] });
  const teardown = check(run, 'teardown');
  expect(teardown).toMatchObject({ passed: true });
}

async function getObject(key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}
const putObject = (key: string, body: Buffer) =>
  s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

beforeAll(async () => {
  const e = endpoints();
  await sampleActivity(e, { name: 'backup-validation', journalDir: reportsDir, redisKeys: 50 });
  const install = await ensurePostgres(silentProgress);
  backups = sandboxBackups(e, { pgBinDir: install.bindir });
  taken = {
    postgres: await backups.taker.takePostgresBackup(),
    redis: await backups.taker.takeRedisBackup(),
    kafka: await backups.taker.recordKafkaOffsets(),
  };
  bucket = backups.service.env.bucket;
  s3 = new S3Client(awsClientConfig(e.aws.endpoint, e.secondary.region));
});

afterAll(() => {
  backups?.close();
  s3?.destroy();
});

describe('backup validation on the sandbox', () => {
  test('a good backup validates: every check passes, the report is archived with its checksum, nothing is left', async () => {
    const run = await validate({});
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.record).toMatchObject({ outcome: 'passed' });
    const checks = (run.report!.checks as { check: string; passed: boolean }[]).map((c) => [
      c.check,
      c.passed,
    ]);
    expect(checks).toEqual(
      expect.arrayContaining([
        ['postgres.manifest-signature', true],
        ['postgres.archive-checksums', true],
        ['redis.checksums', true],
        ['redis.archive-checksums', true],
        ['postgres.backup-age', true],
        ['postgres.restore-time', true],
        ['postgres.amcheck', true],
        ['postgres.aggregates', true],
        ['postgres.ledger-parity', true],
        ['redis.key-count', true],
        ['redis.key-digests', true],
        ['kafka.offset-parity', true],
        ['kafka.sequence-gaps', true],
        ['teardown', true],
      ]),
    );
    expect(fs.existsSync(run.reportFile!)).toBe(true);
    expect(run.report!.restoreTimes).toMatchObject({ postgres: { rtoObjectiveSeconds: 600 } });
    expectTornDown(run);
  });

  test('a flipped byte in the archive is refused before anything is restored, with the checksum that differs', async () => {
    const key = taken.postgres.manifest.objects[0]!.key;
    const original = await getObject(key);
    const flipped = Buffer.from(original);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
    await putObject(key, flipped);
    try {
      const refused = await validate({
        stores: ['postgres'],
        postgres: { verifyCiphertextBeforeRestore: true },
      });
      expect(refused.record).toMatchObject({ outcome: 'failed' });
      expect(check(refused, 'postgres.checksums')!.reason).toMatch(
        /^checksum mismatch, base\.tar: stored \d+ bytes with SHA-256/,
      );
      expect(refused.invocations.map((i) => i.step)).not.toContain('RestorePostgresBackup');
      expectTornDown(refused);
      // Without the pre-check, the decrypting stream refuses the damaged frame mid-restore: torn down all the same.
      const midway = await validate({
        stores: ['postgres'],
        postgres: { verifyCiphertextBeforeRestore: false },
      });
      expect(midway.record).toMatchObject({ outcome: 'failed' });
      expect(midway.report!.failure).toMatchObject({
        error: 'BackupIntegrityError',
        message: expect.stringMatching(/base\.tar\.enc: frame \d+ .*failed AES-GCM authentication/),
      });
      expect(midway.invocations.map((i) => i.step)).toContain('RestorePostgresBackup');
      expectTornDown(midway);
    } finally {
      await putObject(key, original);
    }
  });

  test('a manifest whose signature does not verify is refused, naming the backup and why', async () => {
    const key = backupKeys('tradepulse', 'postgres', taken.postgres.backupId).manifest;
    const original = await getObject(key);
    // One byte more (still valid JSON): the signature covers the exact bytes.
    await putObject(key, Buffer.concat([original, Buffer.from(' ')]));
    try {
      const run = await validate({ stores: ['postgres'] });
      expect(run.record).toMatchObject({ outcome: 'failed' });
      expect(check(run, 'postgres.manifest-signature')!.reason).toContain(
        `backup ${taken.postgres.backupId} refused (signature)`,
      );
      expect(run.invocations.map((i) => i.step)).not.toContain('RestorePostgresBackup');
      expectTornDown(run);
    } finally {
      await putObject(key, original);
    }
  });

  test('a row deleted from the restored database fails the aggregates and the ledger parity', async () => {
    let deleted: { seq: number } | undefined;
    const run = await validate({ stores: ['postgres'] }, async (step, result) => {
      if (step !== 'RestorePostgresBackup') return;
      const target = (
        result as { result: { host: string; port: number; database: string; operatorUser: string } }
      ).result;
      const client = new pg.Client({
        host: target.host,
        port: target.port,
        database: target.database,
        user: target.operatorUser,
      });
      await client.connect();
      try {
        const { rows } = await client.query<{ seq: number }>(
          `delete from orders where order_id = (
             select o.order_id from orders o
              where not exists (select 1 from fills f where f.order_id = o.order_id)
                and not exists (select 1 from risk_events r where r.order_id = o.order_id)
              order by o.seq limit 1)
           returning seq`,
        );
        deleted = rows[0];
      } finally {
        await client.end();
      }
    });
    expect(deleted).toBeDefined();
    expect(run.record).toMatchObject({ outcome: 'failed' });
    const expectedRows = taken.postgres.manifest.postgres!.aggregates.tables.orders!.rows;
    expect(check(run, 'postgres.aggregates')!.reason).toContain(
      `orders: ${expectedRows - 1} rows, the manifest says ${expectedRows}`,
    );
    expect(check(run, 'postgres.ledger-parity')).toMatchObject({ passed: false });
    expect(check(run, 'postgres.amcheck')).toMatchObject({ passed: true });
    expectTornDown(run);
  });

  test('a Redis key changed in the canary fails the per-key digests, naming the key', async () => {
    const run = await validate({ stores: ['redis'] }, async (step, result) => {
      if (step !== 'RestoreRedisBackup') return;
      const { host, port } = (result as { result: { host: string; port: number } }).result;
      const canary = new Redis({ host, port, lazyConnect: true });
      await canary.connect();
      await canary.hset('feature:acct:7', 'score', '999');
      canary.disconnect();
    });
    expect(run.record).toMatchObject({ outcome: 'failed' });
    expect(check(run, 'redis.key-digests')!.reason).toBe('per-key digests: 1 key(s) differ (feature:acct:7)');
    expect(check(run, 'redis.key-count')).toMatchObject({ passed: true });
    expectTornDown(run);
  });

  test('bad input restores nothing: an unknown store, a backup that does not exist', async () => {
    const unknown = await validate({ stores: ['mongodb'] });
    expect(unknown.record).toMatchObject({ outcome: 'rejected' });
    expect(unknown.record!.reasons[0]).toMatch(
      /^InvalidInputError: .*stores\.0: must be one of postgres, redis, kafka/s,
    );
    const missing = await validate({
      stores: ['redis'],
      backups: { redis: 'redis-20200101T000000000Z-deadbeef' },
    });
    expect(missing.record).toMatchObject({ outcome: 'failed' });
    expect(check(missing, 'redis.manifest-signature')!.reason).toMatch(
      /^backup redis-20200101T000000000Z-deadbeef refused \(missing\)/,
    );
    for (const run of [unknown, missing]) {
      expect(run.invocations.map((i) => i.step)).not.toContain('RestoreRedisBackup');
      expect(leftovers(run.runId)).toEqual({ processes: [], dataDirectories: [] });
    }
  });

  test('a gap in a mirrored topic fails the replay check, naming the writer and the missing seq', async () => {
    const e = endpoints();
    const kafka = new Kafka({
      clientId: 'gap-maker',
      brokers: e.secondary.kafka.brokers,
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: `${e.mirrorSourceAlias}.orders`,
      messages: [1, 2, 3, 5, 6].map((seq) => ({
        key: 'ACC-0001',
        value: JSON.stringify({ schema: 'tradepulse.order.v1', kind: 'order', writerId: 'gap-writer', seq }),
      })),
    });
    await producer.disconnect();
    const run = await validate({ stores: ['kafka'] });
    expect(run.record).toMatchObject({ outcome: 'failed' });
    expect(check(run, 'kafka.sequence-gaps')!.reason).toBe(
      'writer gap-writer is missing seq 4 (between 1 and 6)',
    );
    expect(check(run, 'kafka.offset-parity')).toMatchObject({ passed: true });
    expectTornDown(run);
  });
});
