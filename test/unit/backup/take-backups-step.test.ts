/** The TakeBackups step over a fake writer: ids per set, evidence, idempotent re-runs, failures, bad input. */
import type {
  BackupKind,
  BackupManifest,
  BackupWriter,
  TakenBackup,
} from '../../../lambdas/shared/backup/contracts';
import { BackupFailedError } from '../../../lambdas/shared/backup/errors';
import { InvalidInputError } from '../../../lambdas/shared/errors';
import { executeStep } from '../../../lambdas/shared/step';
import { takeBackupsStep } from '../../../lambdas/take-backups/logic';

const SET = '20261127T043000123Z-1a2b3c4d';
const clock = { now: () => new Date('2026-11-27T04:30:00.123Z') };

class FakeWriter implements BackupWriter {
  readonly done = new Set<string>();
  readonly calls: string[] = [];
  failing?: BackupKind;
  private take(kind: BackupKind, backupId: string): TakenBackup {
    this.calls.push(backupId);
    if (this.failing === kind) throw new BackupFailedError(`${kind} source refused`);
    const created = !this.done.has(backupId);
    this.done.add(backupId);
    const manifest = {
      backupId,
      kind,
      takenAt: '2026-11-27T04:30:00.123Z',
      timingsMs: { totalMs: 5 },
      objects:
        kind === 'kafka-offsets'
          ? []
          : [{ name: 'x', bytes: 10, ciphertextBytes: 90, sha256: 'a'.repeat(64) }],
      ...(kind === 'postgres'
        ? {
            postgres: {
              method: 'pg_basebackup-paused-standby',
              files: [{}, {}],
              startLsn: '0/1',
              endLsn: '0/2',
              timeline: 1,
              restore: { recoveryTargetLsn: '0/3' },
              aggregates: { tables: { orders: { rows: 7 } } },
            },
          }
        : {}),
      ...(kind === 'redis' ? { redis: { keyCount: 3, redisVersion: '7.0.15' } } : {}),
      ...(kind === 'kafka-offsets' ? { kafka: { criticalGroups: ['g'], translated: { g: {} } } } : {}),
    } as unknown as BackupManifest;
    return {
      kind,
      backupId,
      manifestKey: `backups/tradepulse/${kind}/${backupId}/manifest.json`,
      created,
      manifest,
      timingsMs: {},
    };
  }
  async takePostgresBackup(i?: { backupId?: string }) {
    return this.take('postgres', i!.backupId!);
  }
  async takeRedisBackup(i?: { backupId?: string }) {
    return this.take('redis', i!.backupId!);
  }
  async recordKafkaOffsets(i?: { backupId?: string }) {
    return this.take('kafka-offsets', i!.backupId!);
  }
}

test('takes the three kinds under one set id, with evidence; a re-run is a no-op', async () => {
  const writer = new FakeWriter();
  const first = await executeStep(takeBackupsStep, { backupSetId: SET }, { backupWriter: writer }, clock);
  expect(writer.calls).toEqual([`postgres-${SET}`, `redis-${SET}`, `kafka-offsets-${SET}`]);
  expect(first.evidence.action).toBe('changed');
  expect(first.evidence.changes).toHaveLength(3);
  expect(first.evidence.observed.postgres).toMatchObject({
    backupId: `postgres-${SET}`,
    files: 2,
    startLsn: '0/1',
    endLsn: '0/2',
    recoveryTargetLsn: '0/3',
    rows: { orders: 7 },
    objects: [{ bytes: 10, ciphertextBytes: 90 }],
  });
  expect(first.evidence.observed.redis).toMatchObject({ keyCount: 3 });
  expect(first.result.backups.redis).toEqual({
    backupId: `redis-${SET}`,
    manifestKey: `backups/tradepulse/redis/redis-${SET}/manifest.json`,
    created: true,
  });
  const again = await executeStep(takeBackupsStep, { backupSetId: SET }, { backupWriter: writer }, clock);
  expect(again.evidence.action).toBe('no-op');
  expect(again.evidence.changes).toEqual([]);
});

test('without a set id one is made from the clock; kinds can be chosen', async () => {
  const writer = new FakeWriter();
  const out = await executeStep(takeBackupsStep, { kinds: ['redis'] }, { backupWriter: writer }, clock);
  expect(out.result.backupSetId).toMatch(/^20261127T043000123Z-[0-9a-f]{8}$/);
  expect(writer.calls).toEqual([`redis-${out.result.backupSetId}`]);
});

test('a failed kind does not stop the others; the step then fails naming it', async () => {
  const writer = new FakeWriter();
  writer.failing = 'redis';
  const run = executeStep(takeBackupsStep, { backupSetId: SET }, { backupWriter: writer }, clock);
  await expect(run).rejects.toThrow(/1 of 3 backups failed: redis: redis source refused/);
  expect(writer.calls).toHaveLength(3);
});

test('dry run takes nothing', async () => {
  const writer = new FakeWriter();
  const out = await executeStep(
    takeBackupsStep,
    { dryRun: true, backupSetId: SET },
    { backupWriter: writer },
    clock,
  );
  expect(out.evidence.action).toBe('dry-run');
  expect(writer.calls).toEqual([]);
});

test.each([
  [{ backupSetId: 'yesterday' }, 'backupSetId'],
  [{ kinds: ['mongodb'] }, 'kinds.0'],
  [{ kinds: ['redis', 'redis'] }, 'kinds'],
  [{ kinds: [] }, 'kinds'],
  [{ extra: true }, '(root)'],
])('bad input %j is refused naming %s, nothing taken', async (input, field) => {
  const writer = new FakeWriter();
  const run = executeStep(takeBackupsStep, input, { backupWriter: writer }, clock);
  await expect(run).rejects.toThrow(InvalidInputError);
  await expect(run).rejects.toThrow(new RegExp(`${field.replace(/[().]/g, '\\$&')}:`));
  expect(writer.calls).toEqual([]);
});
