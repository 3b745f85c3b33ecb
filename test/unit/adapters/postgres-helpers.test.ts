import { RDSClient } from '@aws-sdk/client-rds';
import {
  AuroraGlobalPostgresAdapter,
  RdsPostgresAdapter,
  SelfManagedPostgresAdapter,
  createPostgresAdapter,
} from '../../../lambdas/shared/adapters/postgres';
import {
  compareLsn,
  isReplayComplete,
  lsnDiffBytes,
  parseLsn,
  timelineOfWalFile,
} from '../../../lambdas/shared/adapters/postgres/lsn';
import {
  STABLE_MS,
  replayCaughtUp,
  type ReplayObservation,
} from '../../../lambdas/shared/adapters/postgres/replay';
import { mapErrors } from '../../../lambdas/shared/adapters/postgres/session';
import { FencingFailedError, InvalidInputError, TransientError } from '../../../lambdas/shared/errors';
import type { PostgresTopology } from '../../../lambdas/shared/topology';

describe('LSN arithmetic', () => {
  test('parses both hex halves into one 64-bit position', () => {
    expect(parseLsn('0/0')).toBe(0n);
    expect(parseLsn('0/3000148')).toBe(0x3000148n);
    expect(parseLsn('1/0')).toBe(1n << 32n);
    expect(parseLsn('FFFFFFFF/FFFFFFFF')).toBe((1n << 64n) - 1n);
    expect(parseLsn('a/b')).toBe((10n << 32n) | 11n);
  });

  test('rejects anything that is not an LSN', () => {
    for (const bad of ['', '0', '0/', '/1', '0/G', '0/123456789', '1.5', ' 0/1'])
      expect(() => parseLsn(bad)).toThrow(/not a PostgreSQL LSN/);
  });

  test('compares numerically where string order would be wrong', () => {
    // As strings '0/A0000000' > '1/0' and '0/9' > '0/10'.
    expect(compareLsn('0/A0000000', '1/0')).toBe(-1);
    expect(compareLsn('0/9', '0/10')).toBe(-1);
    expect(compareLsn('1/0', '0/FFFFFFFF')).toBe(1);
    expect(compareLsn('0/3000148', '0/3000148')).toBe(0);
    expect(compareLsn('0/03000148', '0/3000148')).toBe(0);
  });

  test('differences are byte counts across the 4 GiB boundary', () => {
    expect(lsnDiffBytes('1/10', '0/FFFFFFF0')).toBe(0x20);
    expect(lsnDiffBytes('0/3000000', '0/3000148')).toBe(-0x148);
  });

  test('replay is complete when it reached what was received, or nothing was received', () => {
    expect(isReplayComplete('0/3000148', '0/3000148')).toBe(true);
    expect(isReplayComplete('0/3000148', '0/3000200')).toBe(true);
    expect(isReplayComplete('1/0', '0/A0000000')).toBe(false);
    // String comparison would get both of these wrong.
    expect(isReplayComplete('0/10000000', '0/9000000')).toBe(false);
    expect(isReplayComplete('0/9000000', '0/10000000')).toBe(true);
    expect(isReplayComplete(null, '0/3000148')).toBe(true);
    expect(isReplayComplete('0/3000148', null)).toBe(false);
  });

  test('the timeline is the first eight hex digits of a WAL file name', () => {
    expect(timelineOfWalFile('000000010000000000000003')).toBe(1);
    expect(timelineOfWalFile('0000000A00000001000000FF')).toBe(10);
    expect(() => timelineOfWalFile('00000001000000000000003')).toThrow(/not a WAL segment file name/);
  });
});

describe('replay caught up', () => {
  const observation = (over: Partial<ReplayObservation> = {}): ReplayObservation => ({
    inRecovery: true,
    receiveLsn: '0/3002000',
    replayLsn: '0/3001F88',
    walReceiverStatus: null,
    startupWaitEvent: 'RecoveryWalStream',
    pauseState: 'not paused',
    observedAtMs: 10_000,
    ...over,
  });

  test('a primary, or a standby that replayed everything received, is caught up at once', () => {
    expect(replayCaughtUp(observation({ inRecovery: false }), undefined)).toBe(true);
    expect(replayCaughtUp(observation({ replayLsn: '0/3002000' }), undefined)).toBe(true);
  });

  test('a fragment of a record that no more WAL completes counts as replayed once the idle startup process has not moved for a while', () => {
    const first = observation({ observedAtMs: 10_000 });
    expect(replayCaughtUp(first, first)).toBe(false);
    expect(replayCaughtUp(observation({ observedAtMs: 10_000 + STABLE_MS - 1 }), first)).toBe(false);
    expect(replayCaughtUp(observation({ observedAtMs: 10_000 + STABLE_MS }), first)).toBe(true);
    expect(
      replayCaughtUp(
        observation({ observedAtMs: 10_000 + STABLE_MS, startupWaitEvent: 'RecoveryRetrieveRetryInterval' }),
        first,
      ),
    ).toBe(true);
  });

  test('never while replay is paused, held by a query conflict, delayed, or its state is unknown', () => {
    const first = observation({ observedAtMs: 0 });
    const later = (over: Partial<ReplayObservation>) => observation({ observedAtMs: 60_000, ...over });
    expect(replayCaughtUp(later({ pauseState: 'paused', startupWaitEvent: 'RecoveryPause' }), first)).toBe(
      false,
    );
    expect(replayCaughtUp(later({ pauseState: 'pause requested' }), first)).toBe(false);
    expect(replayCaughtUp(later({ startupWaitEvent: 'RecoveryConflictSnapshot' }), first)).toBe(false);
    expect(replayCaughtUp(later({ startupWaitEvent: 'RecoveryApplyDelay' }), first)).toBe(false);
    expect(replayCaughtUp(later({ startupWaitEvent: null }), first)).toBe(false);
  });
});

describe('createPostgresAdapter', () => {
  const common = {
    host: 'db.internal',
    port: 5432,
    database: 'tradepulse',
    operatorUser: 'dr_operator',
    applicationUser: 'tradepulse_app',
  };
  const selfManaged: PostgresTopology = { kind: 'self-managed', ...common };
  const rds: PostgresTopology = { kind: 'rds', ...common, dbInstanceIdentifier: 'tradepulse-usw2' };
  const aurora: PostgresTopology = {
    kind: 'aurora-global',
    ...common,
    globalClusterIdentifier: 'tradepulse-global',
    dbClusterArn: 'arn:aws:rds:us-west-2:123456789012:cluster:tradepulse-usw2',
  };
  const client = new RDSClient({ region: 'us-west-2' });

  test('chooses the backend by kind', () => {
    expect(createPostgresAdapter(selfManaged)).toBeInstanceOf(SelfManagedPostgresAdapter);
    expect(createPostgresAdapter(rds, { rds: client })).toBeInstanceOf(RdsPostgresAdapter);
    expect(
      createPostgresAdapter(aurora, { rds: client, aurora: { mode: 'switchover', allowDataLoss: false } }),
    ).toBeInstanceOf(AuroraGlobalPostgresAdapter);
  });

  test('refuses a managed backend without its RDS client, and Aurora without an explicit promotion mode', () => {
    expect(() => createPostgresAdapter(rds)).toThrow(InvalidInputError);
    expect(() => createPostgresAdapter(rds)).toThrow(/options\.rds is required/);
    expect(() => createPostgresAdapter(aurora, { rds: client })).toThrow(/options\.aurora is required/);
  });
});

describe('mapErrors', () => {
  const failWith = (err: unknown) => mapErrors(() => Promise.reject(err));
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

  test('lost or refused connections become TransientError, so the ASL retries them', async () => {
    await expect(
      failWith(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')),
    ).rejects.toBeInstanceOf(TransientError);
    await expect(
      failWith(withCode('terminating connection due to administrator command', '57P01')),
    ).rejects.toBeInstanceOf(TransientError);
    await expect(failWith(new Error('Connection terminated unexpectedly'))).rejects.toBeInstanceOf(
      TransientError,
    );
    await expect(failWith(new Error('timeout expired'))).rejects.toBeInstanceOf(TransientError);
    await expect(failWith(new Error('Query read timeout'))).rejects.toBeInstanceOf(TransientError);
  });

  test("server refusals and the adapters' own errors pass through unchanged", async () => {
    const readOnly = withCode('cannot execute INSERT in a read-only transaction', '25006');
    await expect(failWith(readOnly)).rejects.toBe(readOnly);
    const fencing = new FencingFailedError('still writable');
    await expect(failWith(fencing)).rejects.toBe(fencing);
    const bug = new TypeError('x is undefined');
    await expect(failWith(bug)).rejects.toBe(bug);
  });
});
