/**
 * Feature parity against real Redis and S3 (a fresh sandbox): the drill's hot features
 * are snapshotted into the recovery region's bucket, the replica there is promoted and
 * hydrated from the snapshot as the failover does it, and the FeatureParityCoordinator
 * (and `npm run feature-parity`) compares and decides per view. Tests run in order and
 * build on each other's effects.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { hotFeatures } from '../../drill/feature-seed';
import { IoredisAdapter } from '../../lambdas/shared/adapters/redis/ioredis-adapter';
import { S3SnapshotSource } from '../../lambdas/shared/adapters/redis/s3-snapshot-source';
import { dataFileName, writeFeatureSnapshot } from '../../lambdas/shared/feature-snapshot';
import type { FeatureViewSpec } from '../../lambdas/shared/features/compare';
import {
  DEFAULT_FEATURE_VIEWS,
  FeatureParityCoordinator,
  quarantineKey,
  rebuiltKey,
  type FeatureParityReport,
  type QuarantineMarker,
} from '../../lambdas/shared/features/parity';
import { ManifestMismatchError } from '../../lambdas/shared/manifest';
import { SANDBOX_HOST } from '../../sandbox/config';
import { awsClientConfig } from '../../sandbox/moto';
import { redisClient } from '../../sandbox/redis';
import { REPO_ROOT } from '../../sandbox/sandbox';
import { useFreshSandbox } from './fresh-sandbox';

const run = promisify(execFile);
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const SANDBOX = 'feature-parity';

const INSTRUMENT = 'feature:instrument';
const EXPOSURE = 'feature:exposure';

describe('feature parity on a fresh sandbox', () => {
  const endpoints = useFreshSandbox(SANDBOX, 26310);
  let s3: S3Client;
  let bucket: string;
  let snapshots: S3SnapshotSource;
  let online: Redis;
  let snapshotId: string;
  const asOf = new Date();
  const records = hotFeatures(asOf);

  const coordinator = (
    options: { apply?: boolean; liftQuarantine?: boolean; views?: FeatureViewSpec[] } = {},
  ) => new FeatureParityCoordinator({ redis: online, snapshots, apply: true, ...options });
  const view = (report: FeatureParityReport, name: string) => report.views.find((v) => v.view === name)!;
  const marker = async (name: string) => {
    const raw = await online.get(quarantineKey(name));
    return raw === null ? null : (JSON.parse(raw) as QuarantineMarker);
  };

  async function featureParityCli(args: string[]) {
    try {
      const { stdout, stderr } = await run(
        TSX,
        [path.join(REPO_ROOT, 'integrity', 'feature-parity-cli.ts'), ...args],
        { cwd: REPO_ROOT },
      );
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  beforeAll(async () => {
    const e = endpoints();
    s3 = new S3Client(awsClientConfig(e.aws.endpoint, e.secondary.region));
    bucket = e.aws.resources.regional[e.secondary.region]!.evidenceBucket;
    snapshots = new S3SnapshotSource({ s3, bucket });
    // What the drill does: features in the primary's Redis, their snapshot in the recovery region.
    const primary = redisClient(e.primary.redis.port);
    await primary.connect();
    const pipeline = primary.multi();
    for (const r of records) {
      if ('fields' in r) pipeline.hset(r.key, r.fields);
      else pipeline.set(r.key, r.value, 'EX', r.ttl!);
    }
    await pipeline.exec();
    primary.disconnect();
    snapshotId = (await writeFeatureSnapshot({ s3, bucket, records })).id;
    // What the failover does: promote the recovery region's replica and hydrate it from the snapshot.
    const target = new IoredisAdapter({ host: SANDBOX_HOST, port: e.secondary.redis.port, snapshots });
    try {
      await target.promote();
      expect(await target.hydrateFromSnapshot({ dryRun: false })).toMatchObject({
        snapshot: snapshotId,
        verified: true,
      });
    } finally {
      await target.close();
    }
    online = redisClient(e.secondary.redis.port);
    await online.connect();
  });
  afterAll(async () => {
    online?.disconnect();
    s3?.destroy();
  });

  test('right after hydration every view is consistent and usable, with its figures', async () => {
    const report = await coordinator().run();
    expect(report).toMatchObject({
      snapshot: { id: snapshotId, records: records.length, verified: true },
      allUsable: true,
      unassignedOfflineRecords: 0,
    });
    expect(view(report, INSTRUMENT)).toMatchObject({
      decision: 'consistent',
      action: 'none',
      usable: true,
      figures: {
        keysOffline: 6,
        keysOnline: 6,
        keysCompared: 6,
        missingKeys: 0,
        extraKeys: 0,
        mismatches: 0,
      },
    });
    expect(view(report, EXPOSURE).figures).toMatchObject({ keysCompared: 30, numericFieldsCompared: 30 });
    expect(await online.keys('feature-view:*')).toEqual([]);
  });

  test('a value and a timestamp within the view’s tolerances: consistent, the deviations reported', async () => {
    await online.hset(`${INSTRUMENT}:MSFT`, {
      referencePrice: '414.2002', // relative deviation 4.8e-7 ≤ 1e-6
      asOf: new Date(asOf.getTime() + 3_000).toISOString(), // 3 s ≤ 5 s
    });
    const report = await coordinator().run();
    const instrument = view(report, INSTRUMENT);
    expect(instrument).toMatchObject({ decision: 'consistent', usable: true });
    expect(instrument.figures.maxRelDeviation).toBeGreaterThan(4e-7);
    expect(instrument.figures.maxRelDeviation).toBeLessThan(1e-6);
    expect(instrument.figures.maxSkewSeconds).toBe(3);
    expect(await marker(INSTRUMENT)).toBeNull();
  });

  test('report only (no apply): a value beyond tolerance would quarantine the view, nothing is written', async () => {
    await online.hset(`${INSTRUMENT}:MSFT`, 'referencePrice', '420');
    const report = await coordinator({ apply: false }).run();
    expect(view(report, INSTRUMENT)).toMatchObject({
      decision: 'quarantine',
      action: 'would-quarantine',
      usable: false,
    });
    expect(report.allUsable).toBe(false);
    expect(await marker(INSTRUMENT)).toBeNull();
  });

  test('a value beyond tolerance quarantines its view (marker with reason and figures); the other view stays consistent', async () => {
    const report = await coordinator().run();
    const instrument = view(report, INSTRUMENT);
    expect(instrument).toMatchObject({
      decision: 'quarantine',
      action: 'quarantined',
      usable: false,
      figures: { mismatches: 1, mismatchesByKind: { numeric: 1 } },
    });
    expect(instrument.figures.maxAbsDeviation).toBeCloseTo(5.8);
    expect(instrument.reason).toContain(
      'feature:instrument:MSFT referencePrice: snapshot 414.20, online 420',
    );
    expect(view(report, EXPOSURE)).toMatchObject({ decision: 'consistent', usable: true });
    const m = await marker(INSTRUMENT);
    expect(m).toMatchObject({ view: INSTRUMENT, snapshot: snapshotId, figures: { mismatches: 1 } });
    expect(m!.reason).toMatch(/1 value\(s\) beyond tolerance: 1 numeric/);
    expect(await marker(EXPOSURE)).toBeNull();
  });

  test('clock skew beyond the tolerance counts as well, and the quarantine keeps its start time', async () => {
    const since = (await marker(INSTRUMENT))!.since;
    await online.hset(`${INSTRUMENT}:AAPL`, 'asOf', new Date(asOf.getTime() - 60_000).toISOString());
    const report = await coordinator().run();
    const instrument = view(report, INSTRUMENT);
    expect(instrument.figures.mismatchesByKind).toMatchObject({ numeric: 1, timestamp: 1 });
    expect(instrument.figures.maxSkewSeconds).toBe(60);
    expect((await marker(INSTRUMENT))!.since).toBe(since);
  });

  test('missing and extra keys rebuild the view from the snapshot: re-hydrated with their TTLs, extras deleted, consistent again', async () => {
    await online.del(`${EXPOSURE}:ACC-0001:AAPL`, `${EXPOSURE}:ACC-0002:MSFT`);
    await online.set(`${EXPOSURE}:ACC-0009:AAPL`, '5');
    const report = await coordinator().run();
    const exposure = view(report, EXPOSURE);
    expect(exposure).toMatchObject({
      decision: 'rebuild',
      action: 'rebuilt',
      usable: true,
      figures: { missingKeys: 2, extraKeys: 1, mismatches: 0 },
      rebuild: {
        keysWritten: 30,
        keysDeleted: 1,
        consistent: true,
        figures: { missingKeys: 0, extraKeys: 0 },
      },
    });
    expect(await online.get(`${EXPOSURE}:ACC-0001:AAPL`)).toBe('0');
    expect(await online.ttl(`${EXPOSURE}:ACC-0001:AAPL`)).toBeGreaterThan(86_000);
    expect(await online.exists(`${EXPOSURE}:ACC-0009:AAPL`)).toBe(0);
    expect(JSON.parse((await online.get(rebuiltKey(EXPOSURE)))!)).toMatchObject({
      snapshot: snapshotId,
      keysWritten: 30,
    });
    // The instrument view was not touched by the exposure rebuild: still drifted, still quarantined.
    expect(await online.hget(`${INSTRUMENT}:MSFT`, 'referencePrice')).toBe('420');
    expect(view(report, INSTRUMENT)).toMatchObject({ decision: 'quarantine', usable: false });
  });

  test('a view set to rebuild on value drift is re-hydrated; the quarantine is lifted only when asked', async () => {
    const views = DEFAULT_FEATURE_VIEWS.map((v) =>
      v.view === INSTRUMENT ? { ...v, onValueDrift: 'rebuild' as const } : v,
    );
    const rebuilt = await coordinator({ views }).run();
    expect(view(rebuilt, INSTRUMENT)).toMatchObject({
      decision: 'rebuild',
      action: 'rebuilt',
      rebuild: { consistent: true },
      usable: false, // still quarantined: nobody asked to lift it
      quarantine: { key: quarantineKey(INSTRUMENT), setNow: false },
    });
    expect(await online.hget(`${INSTRUMENT}:MSFT`, 'referencePrice')).toBe('414.20');
    expect(await online.hget(`${INSTRUMENT}:AAPL`, 'asOf')).toBe(asOf.toISOString());

    const lifted = await coordinator({ liftQuarantine: true }).run();
    expect(view(lifted, INSTRUMENT)).toMatchObject({
      decision: 'consistent',
      usable: true,
      quarantineLifted: true,
    });
    expect(lifted.allUsable).toBe(true);
    expect(await marker(INSTRUMENT)).toBeNull();
  });

  test('the operators’ CLI: report and exit 1 on a quarantine, exit 0 once consistent', async () => {
    await online.hset(`${INSTRUMENT}:NVDA`, 'volatility20d', '0.35');
    const base = [
      '--redis-port',
      String(endpoints().secondary.redis.port),
      '--bucket',
      bucket,
      '--sandbox',
      `fresh-${SANDBOX}`,
    ];
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tp-parity-')), 'report.json');
    const quarantined = await featureParityCli([...base, '--apply', '--out', out]);
    expect(quarantined.code).toBe(1);
    expect(quarantined.stdout).toContain(
      'feature:instrument: QUARANTINE → quarantined (NOT USABLE by strategies)',
    );
    expect(quarantined.stdout).toContain(
      'numeric feature:instrument:NVDA volatility20d: snapshot 0.21, online 0.35',
    );
    expect(quarantined.stdout).toContain('feature:exposure: CONSISTENT → none');
    expect((JSON.parse(fs.readFileSync(out, 'utf8')) as FeatureParityReport).allUsable).toBe(false);

    await online.hset(`${INSTRUMENT}:NVDA`, 'volatility20d', '0.21');
    const fine = await featureParityCli([...base, '--apply', '--lift-quarantine']);
    expect(fine.code).toBe(0);
    expect(fine.stdout).toContain('RESULT: every feature view is usable');
  });

  test('bad input: wrong Redis port, missing bucket, bad view spec — clear errors, exit 2', async () => {
    const port = String(endpoints().secondary.redis.port);
    const sandbox = ['--sandbox', `fresh-${SANDBOX}`];
    const noRedis = await featureParityCli(['--redis-port', '26319', '--bucket', bucket, ...sandbox]);
    expect(noRedis.code).toBe(2);
    expect(noRedis.stderr).toMatch(/cannot reach Redis at 127\.0\.0\.1:26319: .*ECONNREFUSED/);

    const noBucket = await featureParityCli(['--redis-port', port, '--bucket', 'no-such-bucket', ...sandbox]);
    expect(noBucket.code).toBe(2);
    expect(noBucket.stderr).toContain('bucket no-such-bucket does not exist');

    const badView = await featureParityCli([
      '--redis-port',
      port,
      '--bucket',
      bucket,
      ...sandbox,
      '--view',
      'feature:x,rel=lots',
    ]);
    expect(badView.code).toBe(2);
    expect(badView.stderr).toContain("--view feature:x,rel=lots: rel must be a number ≥ 0, got 'lots'");
  });

  test('a snapshot file that does not match its manifest: nothing is compared or written', async () => {
    await online.hset(`${INSTRUMENT}:MSFT`, 'referencePrice', '999');
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `feature-snapshots/${snapshotId}/${dataFileName(0)}`,
        Body: '{"key":"feature:instrument:MSFT","fields":{"referencePrice":"999"}}\n',
      }),
    );
    await expect(coordinator().run()).rejects.toThrow(ManifestMismatchError);
    expect(await online.keys('feature-view:*:quarantined')).toEqual([]);
    expect(await online.hget(`${INSTRUMENT}:MSFT`, 'referencePrice')).toBe('999');
  });
});
