/** The backup manifest schema: a good manifest of each kind parses; malformed ones are refused naming the field. */
import {
  BackupManifestSchema,
  backupKeys,
  newBackupId,
  parseBackupManifest,
  parseManifestKey,
  type BackupManifest,
} from '../../../lambdas/shared/backup/contracts';
import { BackupManifestInvalidError } from '../../../lambdas/shared/backup/errors';

const sha = (c: string) => c.repeat(64);
const ID = 'postgres-20261127T043000123Z-1a2b3c4d';
const encryption = {
  algorithm: 'AES-256-GCM',
  frameBytes: 65536,
  kmsKeyId: 'arn:aws:kms:us-west-2:123456789012:key/k',
  encryptedDataKey: 'AAAA',
  encryptionContext: { purpose: 'tradepulse-dr-backup', backupId: ID },
};
const aggregates = {
  capturedAt: '2026-11-27T04:30:00.123456Z',
  lsn: '0/3000060',
  tables: { orders: { rows: 2, quantitySum: '10', notionalSum: '1500.25' } },
  balancesByAccount: { 'ACC-0001:USD': '100.00' },
  positionsByAccountInstrument: { 'ACC-0001:AAPL': '10' },
  maxSeq: { orders: 2 },
};

function postgresManifest(): BackupManifest {
  return {
    schemaVersion: 1,
    backupId: ID,
    kind: 'postgres',
    application: 'tradepulse',
    sourceRegion: 'us-east-1',
    takenAt: '2026-11-27T04:30:00.123Z',
    completedAt: '2026-11-27T04:30:05.000Z',
    timingsMs: { totalMs: 5000 },
    objects: [
      {
        name: 'base.tar',
        key: backupKeys('tradepulse', 'postgres', ID).object('base.tar'),
        contentType: 'application/x-tar',
        bytes: 100,
        sha256: sha('a'),
        ciphertextBytes: 200,
        ciphertextSha256: sha('b'),
        encryption: encryption as BackupManifest['objects'][number]['encryption'],
      },
    ],
    postgres: {
      method: 'pg_basebackup-paused-standby',
      source: '127.0.0.1:5433',
      startLsn: '0/2000028',
      endLsn: '0/3000060',
      timeline: 1,
      systemIdentifier: '7312345678901234567',
      serverVersion: 150010,
      restore: {
        recoveryTargetLsn: '0/3000060',
        recoveryTargetInclusive: false,
        recoveryTargetAction: 'promote',
      },
      files: [{ path: 'PG_VERSION', bytes: 3, sha256: sha('c') }],
      aggregates,
      aggregatesConsistency: 'same-snapshot',
    },
  };
}

const fieldsOf = (input: unknown): string[] => {
  try {
    parseBackupManifest(input, 'm.json');
  } catch (err) {
    expect(err).toBeInstanceOf(BackupManifestInvalidError);
    expect((err as BackupManifestInvalidError).details.reason).toBe('malformed');
    return (err as BackupManifestInvalidError).details.fields as string[];
  }
  throw new Error('expected the manifest to be refused');
};

test('a complete postgres manifest parses unchanged', () => {
  const m = postgresManifest();
  expect(parseBackupManifest(JSON.parse(JSON.stringify(m)))).toEqual(m);
});

/** A manifest as parsed JSON, to be damaged freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

test.each<[string, (m: Json) => void, string]>([
  ['a bad object SHA-256', (m) => (m.objects[0].sha256 = 'xyz'), 'objects.0.sha256'],
  ['a negative size', (m) => (m.objects[0].bytes = -1), 'objects.0.bytes'],
  ['an object key outside the layout', (m) => (m.objects[0].key = 'elsewhere/base.tar.enc'), 'objects.0.key'],
  [
    'another cipher',
    (m) => (m.objects[0].encryption.algorithm = 'AES-128-CBC'),
    'objects.0.encryption.algorithm',
  ],
  ['a postgres backup without its section', (m) => delete m.postgres, 'postgres'],
  [
    'a redis section in a postgres backup',
    (m) =>
      (m.redis = {
        source: 'h:1',
        redisVersion: '7',
        keyCount: 0,
        keys: [],
        rdbSaveTime: 1,
        consistency: 'client-pause-write',
      }),
    'redis',
  ],
  ['a backup id of another kind', (m) => (m.backupId = 'redis-20261127T043000123Z-1a2b3c4d'), 'backupId'],
  ['a malformed LSN', (m) => (m.postgres.endLsn = '3000060'), 'postgres.endLsn'],
  ['an unknown kind', (m) => (m.kind = 'mongodb'), 'kind'],
  ['an unknown field', (m) => (m.extra = 1), '(root)'],
  ['a takenAt that is no timestamp', (m) => (m.takenAt = 'yesterday'), 'takenAt'],
  [
    'aggregates naming an unknown table',
    (m) => (m.postgres.aggregates.tables.trades = { rows: 1 }),
    'postgres.aggregates.tables.trades',
  ],
  [
    'an inclusive recovery target',
    (m) => (m.postgres.restore.recoveryTargetInclusive = true),
    'postgres.restore.recoveryTargetInclusive',
  ],
  ['schema version 2', (m) => (m.schemaVersion = 2), 'schemaVersion'],
])('%s is refused naming the field', (_what, mutate, field) => {
  const m = JSON.parse(JSON.stringify(postgresManifest())) as Json;
  mutate(m);
  expect(fieldsOf(m)).toContain(field);
});

test('a redis manifest whose key count disagrees with its digests is refused', () => {
  const id = 'redis-20261127T043000123Z-1a2b3c4d';
  const m = {
    ...postgresManifest(),
    backupId: id,
    kind: 'redis',
    objects: [],
    postgres: undefined,
    redis: {
      source: 'h:1',
      redisVersion: '7.0.15',
      keyCount: 2,
      keys: [{ key: 'k', type: 'string', digest: sha('d') }],
      rdbSaveTime: 1,
      consistency: 'client-pause-write',
    },
  };
  delete (m as Record<string, unknown>).postgres;
  expect(fieldsOf(m)).toContain('redis.keyCount');
});

test('a kafka-offsets manifest parses; offsets must be decimal strings', () => {
  const id = 'kafka-offsets-20261127T043000123Z-1a2b3c4d';
  const kafka = {
    primaryRegion: 'us-east-1',
    secondaryRegion: 'us-west-2',
    sourceAlias: 'a',
    criticalTopics: ['orders'],
    criticalGroups: ['risk'],
    clusters: {
      'us-east-1': {
        brokers: ['h:1'],
        groups: { risk: { orders: { '0': '42' } } },
        endOffsets: { orders: { '0': '50' } },
      },
      'us-west-2': { brokers: ['h:2'], groups: {}, endOffsets: { 'a.orders': { '0': '50' } } },
    },
    translated: { risk: { 'a.orders': { '0': { offset: '40', upstreamOffset: '42' } } } },
    offsetLagMax: 100,
  };
  const m = { ...postgresManifest(), backupId: id, kind: 'kafka-offsets', objects: [], kafka } as Record<
    string,
    unknown
  >;
  delete m.postgres;
  expect(BackupManifestSchema.safeParse(m).success).toBe(true);
  (kafka.clusters['us-east-1'].groups.risk.orders as Record<string, unknown>)['0'] = 42;
  expect(fieldsOf(m)).toContain('kafka.clusters.us-east-1.groups.risk.orders.0');
});

test('key layout: ids sort by time and parse back from their manifest keys', () => {
  const a = newBackupId('redis', new Date('2026-11-27T04:30:00.123Z'), '1a2b3c4d');
  const b = newBackupId('redis', new Date('2026-11-27T10:00:00.000Z'), '00000000');
  expect(a).toBe('redis-20261127T043000123Z-1a2b3c4d');
  expect([b, a].sort()).toEqual([a, b]);
  const keys = backupKeys('tradepulse', 'redis', a);
  expect(keys.manifest).toBe(`backups/tradepulse/redis/${a}/manifest.json`);
  expect(parseManifestKey(keys.manifest)).toEqual({ application: 'tradepulse', kind: 'redis', backupId: a });
  expect(parseManifestKey(keys.signature)).toBeNull();
  expect(parseManifestKey(`backups/tradepulse/redis/not-an-id/manifest.json`)).toBeNull();
});
