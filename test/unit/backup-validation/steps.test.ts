import fs from 'node:fs';
import path from 'node:path';
import type {
  BackupManifest,
  BackupReader,
  VerifiedManifest,
} from '../../../lambdas/shared/backup/contracts';
import {
  BackupManifestInvalidError,
  BackupNotFoundError,
  BackupSignatureError,
} from '../../../lambdas/shared/backup/errors';
import type { EvidenceStore } from '../../../lambdas/shared/adapters/contracts';
import { executeStep } from '../../../lambdas/shared/step';
import { recordBackupValidationStep } from '../../../lambdas/record-backup-validation/logic';
import { selectBackupsStep } from '../../../lambdas/select-backups/logic';
import { startBackupValidationStep } from '../../../lambdas/start-backup-validation/logic';
import type { BackupValidationRun } from '../../../lambdas/shared/backup-validation/run';
import { RUNBOOK_OBJECTIVES, type Topology } from '../../../lambdas/shared/topology';

const NOW = new Date('2026-11-27T02:00:00.000Z');
const clock = { now: () => NOW };
const execution = {
  id: 'arn:aws:states:us-west-2:000000000000:execution:tradepulse-dr-backup-validation:bv-1',
  name: 'bv-1',
  startTime: NOW.toISOString(),
};
const topology = { application: 'tradepulse', objectives: RUNBOOK_OBJECTIVES } as unknown as Topology;

async function startRun(input: unknown): Promise<BackupValidationRun> {
  const out = await executeStep(
    startBackupValidationStep,
    { input, execution },
    { topology, region: 'us-west-2' },
  );
  return out.result.run;
}

describe('start-backup-validation', () => {
  test('the schedule’s input (events/backup-validation-schedule.json) starts a validation of every store', async () => {
    const event = JSON.parse(
      fs.readFileSync(path.join(process.cwd(), 'events', 'backup-validation-schedule.json'), 'utf8'),
    ) as Record<string, unknown>;
    const run = await startRun(event);
    expect(run).toMatchObject({
      runId: 'bv-1',
      trigger: 'schedule',
      stores: ['postgres', 'redis', 'kafka'],
      maxAgeSeconds: { postgres: 3660, redis: 3900, kafka: 86_430 },
      restoreJobId: null,
    });
  });

  test.each([
    [{ stores: ['mongodb'] }, 'stores.0: must be one of postgres, redis, kafka'],
    [
      { backups: { postgres: 'redis-20261127T000000000Z-00000001' } },
      'backups.postgres: must be a postgres backup id',
    ],
    [
      { stores: ['redis'], backups: { postgres: 'postgres-20261127T000000000Z-00000001' } },
      'backups.postgres: names a postgres backup but postgres is not in stores',
    ],
    [{ surprise: true }, 'Unrecognized key'],
  ])('bad input %j is refused, naming the field', async (input, message) => {
    await expect(startRun(input)).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringContaining(message),
    });
  });

  test('an AWS Backup restore-testing job is carried to the report step', async () => {
    const run = await startRun({ trigger: 'restore-testing', restoreTesting: { restoreJobId: 'job-9' } });
    expect(run.restoreJobId).toBe('job-9');
  });
});

function manifest(kind: 'postgres' | 'redis', takenAt: string): BackupManifest {
  return {
    backupId: `${kind}-20261127T000000000Z-00000001`,
    kind,
    takenAt,
    objects: [
      {
        name: kind === 'postgres' ? 'base.tar' : 'dump.rdb',
        key: `k/${kind}`,
        ciphertextBytes: 10,
        ciphertextSha256: 'a'.repeat(64),
      },
    ],
  } as unknown as BackupManifest;
}

function reader(overrides: Partial<Record<'postgres' | 'redis', Error | BackupManifest>>): BackupReader {
  return {
    listBackups: async () => [],
    latestBackup: async (kind) => ({
      kind,
      backupId: `${kind}-20261127T000000000Z-00000001`,
      manifestKey: 'm',
      lastModified: '',
    }),
    loadVerifiedManifest: async (ref) => {
      const kind = (ref as { kind: 'postgres' | 'redis' }).kind;
      const found = overrides[kind] ?? manifest(kind, '2026-11-27T01:30:00.000Z');
      if (found instanceof Error) throw found;
      return {
        manifest: found,
        manifestKey: 'm',
        manifestSha256: 'b'.repeat(64),
        signature: { algorithm: 'RSASSA_PSS_SHA_256', keyId: 'arn:key' },
      } as unknown as VerifiedManifest;
    },
    openVerifiedArchiveStream: () => Promise.reject(new Error('unused')),
  };
}

describe('select-backups', () => {
  const select = async (store: 'postgres' | 'redis', r: BackupReader, hash = 'a'.repeat(64)) => {
    const run = await startRun({ stores: [store], postgres: { verifyCiphertextBeforeRestore: true } });
    return (
      await executeStep(
        selectBackupsStep,
        { run },
        { backupReader: r, backupObjects: { ciphertextSha256: async () => ({ sha256: hash, bytes: 10 }) } },
        clock,
      )
    ).result;
  };

  test('a verified, fresh backup whose stored objects match is accepted', async () => {
    const result = await select('postgres', reader({}));
    expect(result.accepted).toBe(true);
    expect(result.selected.postgres).toMatchObject({
      backupId: 'postgres-20261127T000000000Z-00000001',
      ageSeconds: 1800,
    });
  });

  test.each([
    [
      'a bad signature',
      {
        postgres: new BackupSignatureError('the manifest was changed after signing', { reason: 'signature' }),
      },
      'a'.repeat(64),
      'postgres.manifest-signature',
      'refused (signature): the manifest was changed after signing',
    ],
    [
      'a missing backup',
      { postgres: new BackupNotFoundError('no manifest', { reason: 'missing' }) },
      'a'.repeat(64),
      'postgres.manifest-signature',
      'refused (missing): no manifest',
    ],
    [
      'a malformed manifest',
      {
        postgres: new BackupManifestInvalidError(
          'manifest is malformed:\n  - takenAt: must be an ISO-8601 timestamp',
          {
            reason: 'malformed',
          },
        ),
      },
      'a'.repeat(64),
      'postgres.manifest-signature',
      'refused (malformed): manifest is malformed:\n  - takenAt: must be an ISO-8601 timestamp',
    ],
    [
      'a stale backup',
      { postgres: manifest('postgres', '2026-11-26T20:00:00.000Z') },
      'a'.repeat(64),
      'postgres.backup-age',
      'taken 21600 s ago; the RPO objective allows at most 3660 s',
    ],
    [
      'a stored object that does not match',
      {},
      'c'.repeat(64),
      'postgres.checksums',
      'checksum mismatch, base.tar',
    ],
  ])(
    '%s is refused with its reason and nothing is selected',
    async (_what, overrides, hash, check, reason) => {
      const result = await select('postgres', reader(overrides), hash);
      expect(result.accepted).toBe(false);
      expect(result.selected).toEqual({});
      const failed = result.checks.find((c) => !c.passed)!;
      expect(failed.check).toBe(check);
      expect(failed.reason).toContain(reason);
    },
  );

  test('no backup of a kind at all is a failed check, not a silent pass', async () => {
    const r = { ...reader({}), latestBackup: async () => null };
    const result = await select('redis', r);
    expect(result.accepted).toBe(false);
    expect(result.checks[0]).toMatchObject({
      check: 'redis.backup-selected',
      passed: false,
      reason: 'no redis backup exists in the bucket',
    });
  });
});

describe('record-backup-validation', () => {
  const stored: { key: string; body: string }[] = [];
  const evidence: EvidenceStore = {
    put: async (key, body) => {
      stored.push({ key, body: String(body) });
      return { key, sha256: 'd'.repeat(64) };
    },
  };
  const record = async (
    run: BackupValidationRun | null,
    steps: Record<string, unknown>,
    failure: unknown = null,
  ) =>
    (await executeStep(recordBackupValidationStep, { run, execution, steps, failure }, { evidence })).result;
  const teardown = {
    result: { check: { check: 'teardown', store: 'all', passed: true, reason: 'clean', figures: {} } },
  };
  const ok = (store: string) => ({
    result: { checks: [{ check: `${store}.x`, store, passed: true, reason: 'ok', figures: {} }] },
  });

  test('passes only when every requested store has a passed check and the teardown is proven', async () => {
    const run = await startRun({ stores: ['postgres', 'redis'] });
    const passed = await record(run, {
      validate: { postgres: ok('postgres'), redis: ok('redis') },
      teardown,
    });
    expect(passed).toMatchObject({ outcome: 'passed', evidenceKey: 'backup-validation/bv-1/report.json' });
    const report = JSON.parse(stored.at(-1)!.body) as { checks: unknown[]; outcome: string };
    expect(report.outcome).toBe('passed');
    const missingStore = await record(run, { validate: { postgres: ok('postgres') }, teardown });
    expect(missingStore.reasons).toEqual(['redis: no check ran, the store was not validated']);
    const noTeardown = await record(run, { validate: { postgres: ok('postgres'), redis: ok('redis') } });
    expect(noTeardown.reasons).toEqual(['teardown: no teardown was recorded']);
  });

  test('a failure is recorded with the Lambda’s error message; refused input is "rejected"', async () => {
    const run = await startRun({ stores: ['postgres'] });
    const failed = await record(
      run,
      { teardown },
      { Error: 'BackupIntegrityError', Cause: JSON.stringify({ errorMessage: 'frame 3 failed' }) },
    );
    expect(failed.reasons).toEqual(['BackupIntegrityError: frame 3 failed']);
    const rejected = await record(null, {}, { Error: 'InvalidInputError', Cause: 'stores.0: bad' });
    expect(rejected).toMatchObject({ outcome: 'rejected', reasons: ['InvalidInputError: stores.0: bad'] });
  });
});
