import type { KafkaOffsetsBackup } from '../../../lambdas/shared/backup/contracts';
import type { LedgerAggregates } from '../../../lambdas/shared/adapters/contracts';
import {
  checkAggregates,
  checkBackupAge,
  checkIndexes,
  checkOffsetParity,
  checkRedisDigests,
  checkRedisKeyCount,
  checkRestoreTime,
  checkSequenceGaps,
  maxBackupAgeSeconds,
  sequenceGaps,
} from '../../../lambdas/shared/backup-validation/checks';
import { sequenceOf } from '../../../lambdas/shared/adapters/kafka/mirror-replay';

const aggregates = (orders: number, balance = '100.50'): LedgerAggregates => ({
  capturedAt: '2026-11-27T00:00:00.000000Z',
  lsn: '0/3000000',
  tables: { orders: { rows: orders, quantitySum: '10.0', notionalSum: '1500.25' }, accounts: { rows: 3 } },
  balancesByAccount: { 'ACC-0001:USD': balance },
  positionsByAccountInstrument: { 'ACC-0001:AAPL': '5' },
  maxSeq: { orders: orders },
});

describe('backup age against the RPO objective', () => {
  const now = new Date('2026-11-27T02:00:00Z');
  test('the limit is the runbook cadence plus the RPO objective', () => {
    expect(maxBackupAgeSeconds('postgres', 60)).toBe(3660);
    expect(maxBackupAgeSeconds('kafka', 30)).toBe(86_430);
  });
  test('a fresh backup passes, a stale one fails saying how old it is and what is allowed', () => {
    const base = {
      store: 'postgres' as const,
      backupId: 'postgres-x',
      now,
      maxAgeSeconds: 3660,
      rpoSeconds: 60,
    };
    expect(checkBackupAge({ ...base, takenAt: '2026-11-27T01:30:00Z' }).passed).toBe(true);
    const stale = checkBackupAge({ ...base, takenAt: '2026-11-27T00:00:00Z' });
    expect(stale).toMatchObject({ passed: false, check: 'postgres.backup-age' });
    expect(stale.reason).toBe(
      'backup postgres-x was taken 7200 s ago; the RPO objective allows at most 3660 s',
    );
  });
  test('a backup dated in the future is refused', () => {
    expect(
      checkBackupAge({
        store: 'redis',
        backupId: 'r',
        now,
        maxAgeSeconds: 10,
        rpoSeconds: 1,
        takenAt: '2026-11-28T00:00:00Z',
      }).passed,
    ).toBe(false);
  });
});

test('restore time is measured against the RTO objective', () => {
  expect(checkRestoreTime('postgres', 12_000, 600).passed).toBe(true);
  expect(checkRestoreTime('redis', 301_000, 300)).toMatchObject({
    passed: false,
    figures: { rtoObjectiveSeconds: 300 },
  });
});

describe('PostgreSQL checks', () => {
  test('amcheck: every index sound passes; a broken one is named; none found fails', () => {
    expect(checkIndexes([{ table: 'orders', index: 'orders_pkey', ok: true }], ['orders']).passed).toBe(true);
    const broken = checkIndexes(
      [{ table: 'orders', index: 'orders_pkey', ok: false, error: 'item order invariant violated' }],
      ['orders'],
    );
    expect(broken.reason).toContain('orders_pkey (item order invariant violated)');
    expect(checkIndexes([], ['orders']).passed).toBe(false);
  });
  test('aggregates equal the manifest exactly (decimal forms compared as numbers)', () => {
    const found = aggregates(10);
    found.tables.orders!.quantitySum = '10';
    expect(checkAggregates(aggregates(10), found).passed).toBe(true);
  });
  test('a deleted row and a changed balance are both reported', () => {
    const result = checkAggregates(aggregates(10), aggregates(9, '99.50'));
    expect(result.passed).toBe(false);
    expect(result.reason).toContain('orders: 9 rows, the manifest says 10');
    expect((result.figures.differences as { items: string[] }).items).toContain(
      'balance ACC-0001:USD: 99.50, the manifest says 100.50',
    );
  });
});

describe('Redis checks', () => {
  const d = (key: string, digest = 'a'.repeat(64)) => ({ key, type: 'hash', digest });
  test('key count', () => {
    expect(checkRedisKeyCount(3, 3).passed).toBe(true);
    expect(checkRedisKeyCount(3, 2).reason).toBe('2 keys restored, the manifest lists 3');
  });
  test('per-key digests: a changed, a missing and an extra key are each named', () => {
    const found = new Map([
      ['feature:1', { type: 'hash', digest: 'b'.repeat(64) }],
      ['feature:3', { type: 'hash', digest: 'a'.repeat(64) }],
    ]);
    const result = checkRedisDigests([d('feature:1'), d('feature:2')], found);
    expect(result.passed).toBe(false);
    expect(result.reason).toBe(
      'per-key digests: 1 key(s) differ (feature:1); 1 key(s) missing (feature:2); 1 key(s) not in the manifest (feature:3)',
    );
  });
  test('an empty manifest proves nothing and fails', () => {
    expect(checkRedisDigests([], new Map()).passed).toBe(false);
  });
});

describe('Kafka checks', () => {
  const record = (primaryCommitted: string, upstream: string): KafkaOffsetsBackup => ({
    primaryRegion: 'us-east-1',
    secondaryRegion: 'us-west-2',
    sourceAlias: 'a',
    criticalTopics: ['orders'],
    criticalGroups: ['audit'],
    clusters: {
      'us-east-1': {
        brokers: ['p:1'],
        groups: { audit: { orders: { '0': primaryCommitted } } },
        endOffsets: { orders: { '0': '500' } },
      },
      'us-west-2': { brokers: ['s:1'], groups: {}, endOffsets: { 'a.orders': { '0': '500' } } },
    },
    translated: { audit: { 'a.orders': { '0': { offset: upstream, upstreamOffset: upstream } } } },
    offsetLagMax: 10,
  });
  test('translated offsets within tolerance pass; beyond it fail with the figures', () => {
    expect(checkOffsetParity(record('400', '395'), 10).passed).toBe(true);
    const far = checkOffsetParity(record('400', '300'), 10);
    expect(far.passed).toBe(false);
    expect(far.reason).toContain(
      'translated from upstream offset 300, the primary committed 400 (100 apart, tolerance 10)',
    );
  });
  test('a group without a checkpoint on the secondary fails', () => {
    const r = record('400', '395');
    r.translated = {};
    expect(checkOffsetParity(r, 10).reason).toContain('no translated offset on the secondary');
  });
  test('sequence gaps per writer, duplicates are not gaps', () => {
    expect(sequenceGaps({ w: [3, 1, 2, 2, 6] })).toEqual([
      { writer: 'w', from: 1, to: 6, seen: 4, missing: [4, 5] },
    ]);
  });
  test('a window with a gap fails naming the writer and the seqs; an empty window fails', () => {
    const window = { fromMs: 0, toMs: 1, ranges: {}, records: 5, unsequenced: 0, truncated: false };
    expect(checkSequenceGaps({ ...window, writers: { w: [1, 2, 3] } }, ['a.orders']).passed).toBe(true);
    const gap = checkSequenceGaps({ ...window, writers: { w: [1, 2, 4, 5] } }, ['a.orders']);
    expect(gap.reason).toBe('writer w is missing seq 3 (between 1 and 5)');
    expect(checkSequenceGaps({ ...window, writers: {} }, ['a.orders']).passed).toBe(false);
  });
});

test('a replayed message counts when it is the load generator’s (writerId and seq in its JSON value)', () => {
  expect(sequenceOf(Buffer.from(JSON.stringify({ kind: 'order', writerId: 'w', seq: 7 })))).toEqual({
    writerId: 'w',
    seq: 7,
  });
  expect(sequenceOf(Buffer.from(JSON.stringify({ kind: 'order', seq: 7 })))).toBeNull();
  expect(sequenceOf(Buffer.from('not json'))).toBeNull();
  expect(sequenceOf(null)).toBeNull();
});
