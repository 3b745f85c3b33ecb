/**
 * The resilient data sync against the shared sandbox's moto S3: two buckets of its own, one
 * per region, so the seeded evidence buckets stay as they were (the feature-snapshot test
 * writes under a prefix of its own). Faults are injected between the sync and moto
 * (integrity/sync/fault-injection.ts), so the interruption, the damaged part and the
 * retries happen on the wire to a real server.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  AbortMultipartUploadCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createAwsClients } from '../../lambdas/shared/adapters/aws/clients';
import { IoredisAdapter } from '../../lambdas/shared/adapters/redis/ioredis-adapter';
import { S3SnapshotSource } from '../../lambdas/shared/adapters/redis/s3-snapshot-source';
import { writeFeatureSnapshot } from '../../lambdas/shared/feature-snapshot';
import {
  buildManifest,
  digestStream,
  ManifestMismatchError,
  type Manifest,
} from '../../lambdas/shared/manifest';
import { hotFeatures } from '../../drill/feature-seed';
import { syncManifest, verifyManifestInBucket, type SyncOptions } from '../../integrity/sync/engine';
import { BucketNotFoundError } from '../../integrity/sync/errors';
import { ensureSnapshotInRegion } from '../../integrity/sync/feature-snapshot-sync';
import { FaultInjectingS3, SimulatedInterruptionError } from '../../integrity/sync/fault-injection';
import { FileSyncJournal } from '../../integrity/sync/journal';
import { S3SyncSource } from '../../integrity/sync/object-store';
import { MiB } from '../../integrity/sync/part-plan';
import { SANDBOX_HOST } from '../../sandbox/config';
import { REPO_ROOT } from '../../sandbox/sandbox';
import { testEndpoints, testSandboxConfig } from './sandbox-fixture';

const run = promisify(execFile);
const endpoints = testEndpoints();
const primary = endpoints.primary.region;
const secondary = endpoints.secondary.region;
const clientsOf = (region: string) =>
  createAwsClients({ region, endpoint: endpoints.aws.endpoint, credentials: endpoints.aws.credentials });
const awsPrimary = clientsOf(primary);
const awsSecondary = clientsOf(secondary);
const src: S3Client = awsPrimary.s3;
const dst: S3Client = awsSecondary.s3;
const suffix = randomUUID().slice(0, 8);
const BUCKET_FROM = `data-sync-from-${suffix}`;
const BUCKET_TO = `data-sync-to-${suffix}`;
const PART = 5 * MiB;
const journalDir = fs.mkdtempSync(path.join(os.tmpdir(), 'data-sync-test-'));

// 5 parts of 5 MiB (the last one shorter) and a small file, deterministic per run.
const big = randomBytes(4 * PART + 777_777);
const small = Buffer.from('{"key":"feature:instrument:AAPL","fields":{"referencePrice":"190.10"}}\n');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function createBucket(s3: S3Client, bucket: string, region: string) {
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      ...(region === 'us-east-1'
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
    }),
  );
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );
}

async function emptyBucket(s3: S3Client, bucket: string) {
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  for (const u of uploads.Uploads ?? [])
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! }));
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  for (const v of [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])])
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.Key!, VersionId: v.VersionId! }));
}

/** Everything the target bucket holds under a prefix: object versions and pending uploads. */
async function targetState(prefix: string) {
  const versions = await dst.send(new ListObjectVersionsCommand({ Bucket: BUCKET_TO, Prefix: prefix }));
  const uploads = await dst.send(new ListMultipartUploadsCommand({ Bucket: BUCKET_TO, Prefix: prefix }));
  return {
    objects: (versions.Versions ?? []).map((v) => v.Key!).sort(),
    pendingUploads: (uploads.Uploads ?? []).map((u) => u.Key!),
  };
}

async function readTarget(key: string): Promise<Buffer> {
  const object = await dst.send(new GetObjectCommand({ Bucket: BUCKET_TO, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

/** Writes big.bin + small.jsonl + manifest.json (parts of 5 MiB) under `prefix` in the source bucket. */
async function seedSource(
  prefix: string,
  files: Record<string, Buffer> = { 'big.bin': big, 'small.jsonl': small },
) {
  const entries = [];
  for (const [name, data] of Object.entries(files)) {
    const d = await digestStream(Readable.from([data]), { partSize: PART });
    entries.push({
      path: name,
      size: d.size,
      sha256: d.sha256,
      ...(d.parts!.length > 1 ? { parts: d.parts } : {}),
    });
    await src.send(new PutObjectCommand({ Bucket: BUCKET_FROM, Key: `${prefix}${name}`, Body: data }));
  }
  const manifest: Manifest = buildManifest({ kind: 'artifact-sync', files: entries });
  await src.send(
    new PutObjectCommand({
      Bucket: BUCKET_FROM,
      Key: `${prefix}manifest.json`,
      Body: JSON.stringify(manifest),
    }),
  );
  return manifest;
}

const options = (
  prefix: string,
  target: SyncOptions['target']['s3'] = dst,
  extra: Partial<SyncOptions> = {},
) => ({
  source: new S3SyncSource(src, BUCKET_FROM, prefix),
  target: { s3: target, bucket: BUCKET_TO, prefix },
  partSize: PART,
  concurrency: 2,
  retry: { baseDelayMs: 10, maxDelayMs: 100 },
  ...extra,
});

beforeAll(async () => {
  await createBucket(src, BUCKET_FROM, primary);
  await createBucket(dst, BUCKET_TO, secondary);
});

afterAll(async () => {
  for (const [s3, bucket] of [
    [src, BUCKET_FROM],
    [dst, BUCKET_TO],
  ] as const) {
    await emptyBucket(s3, bucket).catch(() => undefined);
    await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
  }
  awsPrimary.destroy();
  awsSecondary.destroy();
  fs.rmSync(journalDir, { recursive: true, force: true });
});

describe('resilient data sync on moto', () => {
  test('an interrupted sync resumes in a new run without re-sending completed parts', async () => {
    const prefix = 'resume/';
    await seedSource(prefix);
    const first = new FaultInjectingS3(dst, { interruptAfterParts: 2 });
    await expect(
      syncManifest(options(prefix, first, { journal: new FileSyncJournal(journalDir) })),
    ).rejects.toThrow(SimulatedInterruptionError);
    const sentFirst = first.stats.sent
      .filter((p) => p.key === `${prefix}big.bin` && p.ok)
      .map((p) => p.partNumber);
    expect(sentFirst.length).toBeGreaterThanOrEqual(2);
    expect(sentFirst.length).toBeLessThan(5);
    // Interrupted: an upload pending on the target, nothing published.
    expect(await targetState(prefix)).toEqual({ objects: [], pendingUploads: [`${prefix}big.bin`] });

    // A new run (new client, new journal object on the same directory), as after a crash.
    const second = new FaultInjectingS3(dst);
    const result = await syncManifest(options(prefix, second, { journal: new FileSyncJournal(journalDir) }));
    const sentSecond = second.stats.sent.filter((p) => p.key === `${prefix}big.bin`).map((p) => p.partNumber);
    expect(sentSecond.filter((n) => sentFirst.includes(n))).toEqual([]); // no completed part sent again
    expect([...sentFirst, ...sentSecond].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(result.files[0]).toMatchObject({ action: 'resumed', partsKept: sentFirst.length, partsResent: 0 });
    expect(result).toMatchObject({ status: 'synced', manifestWritten: true });
    expect(sha256(await readTarget(`${prefix}big.bin`))).toBe(sha256(big));
    expect(await targetState(prefix)).toEqual({
      objects: [`${prefix}big.bin`, `${prefix}manifest.json`, `${prefix}small.jsonl`],
      pendingUploads: [],
    });
  });

  test('without the journal, a resumed sync compares uploaded parts with the source instead of re-sending them', async () => {
    const prefix = 'resume-no-journal/';
    await seedSource(prefix);
    const first = new FaultInjectingS3(dst, { interruptAfterParts: 3 });
    await expect(syncManifest(options(prefix, first, { concurrency: 1 }))).rejects.toThrow(
      SimulatedInterruptionError,
    );
    const second = new FaultInjectingS3(dst);
    const result = await syncManifest(options(prefix, second));
    expect([...second.putsByPart(`${prefix}big.bin`).keys()].sort()).toEqual([4, 5]);
    expect(result.files[0]).toMatchObject({ partsCheckedAgainstSource: 3, partsKept: 3 });
    expect(sha256(await readTarget(`${prefix}big.bin`))).toBe(sha256(big));
  });

  test('a part corrupted in transit is detected by its ETag and re-sent; the result verifies', async () => {
    const prefix = 'corrupt/';
    await seedSource(prefix);
    const faulty = new FaultInjectingS3(dst, {
      corruptParts: [{ partNumber: 3, key: `${prefix}big.bin` }],
      transientFailures: [{ command: 'UploadPart', partNumber: 4, times: 1 }],
    });
    const result = await syncManifest(options(prefix, faulty));
    const attempts = faulty.stats.sent.filter((p) => p.key === `${prefix}big.bin` && p.partNumber === 3);
    expect(attempts.map((p) => p.corrupted)).toEqual([true, false]);
    expect(result.parts).toMatchObject({ total: 6, sent: 6, resent: 1 });
    expect(result.retries).toBe(2); // the damaged part and the injected 503
    expect(sha256(await readTarget(`${prefix}big.bin`))).toBe(sha256(big));
    await expect(
      verifyManifestInBucket({ s3: dst, bucket: BUCKET_TO, manifestKey: `${prefix}manifest.json` }),
    ).resolves.toMatchObject({ ok: true, files: [{ path: 'big.bin' }, { path: 'small.jsonl' }] });
  });

  test('a part damaged on the target while the sync was down is found on resume and re-sent', async () => {
    const prefix = 'damaged-at-rest/';
    await seedSource(prefix);
    const journal = new FileSyncJournal(fs.mkdtempSync(path.join(journalDir, 'at-rest-')));
    await expect(
      syncManifest(
        options(prefix, new FaultInjectingS3(dst, { interruptAfterParts: 3 }), { journal, concurrency: 1 }),
      ),
    ).rejects.toThrow(SimulatedInterruptionError);
    // Overwrite part 2 of the pending upload with other bytes of the same size.
    const uploads = await dst.send(new ListMultipartUploadsCommand({ Bucket: BUCKET_TO, Prefix: prefix }));
    const pending = uploads.Uploads!.find((u) => u.Key === `${prefix}big.bin`)!;
    await dst.send(
      new UploadPartCommand({
        Bucket: BUCKET_TO,
        Key: pending.Key!,
        UploadId: pending.UploadId!,
        PartNumber: 2,
        Body: Buffer.alloc(PART, 0x5a),
      }),
    );
    const second = new FaultInjectingS3(dst);
    const result = await syncManifest(options(prefix, second, { journal }));
    expect([...second.putsByPart(`${prefix}big.bin`).keys()].sort()).toEqual([2, 4, 5]);
    expect(result.files[0]).toMatchObject({ partsKept: 2, partsSent: 3 });
    expect(sha256(await readTarget(`${prefix}big.bin`))).toBe(sha256(big));
  });

  test('a tampered source file is refused against its manifest and nothing is published on the target', async () => {
    const prefix = 'tampered/';
    await seedSource(prefix);
    const tampered = Buffer.from(big);
    tampered[2 * PART + 12_345]! ^= 0x01; // one bit, in part 3
    await src.send(new PutObjectCommand({ Bucket: BUCKET_FROM, Key: `${prefix}big.bin`, Body: tampered }));
    const faulty = new FaultInjectingS3(dst);
    const err = (await syncManifest(options(prefix, faulty, { concurrency: 1 })).catch(
      (e: unknown) => e,
    )) as ManifestMismatchError;
    expect(err).toBeInstanceOf(ManifestMismatchError);
    expect(err.mismatches).toEqual([
      expect.objectContaining({ path: 'big.bin', problem: 'part-sha256', part: 2 }),
    ]);
    // Refused before part 3 was sent, the upload aborted: no object, no manifest, no pending parts.
    expect([...faulty.putsByPart(`${prefix}big.bin`).keys()]).toEqual([1, 2]);
    expect(await targetState(prefix)).toEqual({ objects: [], pendingUploads: [] });
  });

  test('a missing source file, a missing bucket: clear errors before anything is sent', async () => {
    const prefix = 'missing/';
    await seedSource(prefix);
    await src.send(new DeleteObjectCommand({ Bucket: BUCKET_FROM, Key: `${prefix}small.jsonl` }));
    const faulty = new FaultInjectingS3(dst);
    await expect(syncManifest(options(prefix, faulty))).rejects.toThrow(/small\.jsonl: missing/);
    await expect(
      syncManifest({ ...options(prefix), target: { s3: dst, bucket: `no-such-bucket-${suffix}`, prefix } }),
    ).rejects.toThrow(BucketNotFoundError);
    expect(faulty.stats.sent).toEqual([]);
    expect(await targetState(prefix)).toEqual({ objects: [], pendingUploads: [] });
  });

  test('the data-sync command: sync, then verify passes; verify of a damaged object fails', async () => {
    const prefix = 'cli/';
    await seedSource(prefix);
    const sandbox = path.basename(testSandboxConfig().rootDir);
    const tsx = path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const cli = (args: string[]) =>
      run(process.execPath, [tsx, 'integrity/sync/cli.ts', ...args, '--sandbox', sandbox, '--quiet'], {
        cwd: REPO_ROOT,
      }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const synced = await cli([
      'sync',
      '--from-region',
      primary,
      '--to-region',
      secondary,
      '--bucket-from',
      BUCKET_FROM,
      '--bucket-to',
      BUCKET_TO,
      '--prefix',
      prefix,
      '--part-size',
      '5',
      '--journal-dir',
      journalDir,
    ]);
    expect(synced.stderr).toMatch(/✓ synced/);
    expect(synced.code).toBe(0);
    expect(JSON.parse(synced.stdout)).toMatchObject({ status: 'synced', parts: { total: 6, sent: 6 } });

    const verify = (bucket: string) =>
      cli(['verify', '--region', secondary, '--bucket', bucket, '--manifest', `${prefix}manifest.json`]);
    const good = await verify(BUCKET_TO);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({
      ok: true,
      files: [{ path: 'big.bin', sha256: sha256(big) }, {}],
    });

    await dst.send(
      new PutObjectCommand({ Bucket: BUCKET_TO, Key: `${prefix}small.jsonl`, Body: 'tampered\n' }),
    );
    const bad = await verify(BUCKET_TO);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/ManifestMismatchError/);
    expect(bad.stderr).toMatch(/small\.jsonl: size/);

    const noBucket = await verify(`no-such-bucket-${suffix}`);
    expect(noBucket.code).toBe(1);
    expect(noBucket.stderr).toMatch(/BucketNotFoundError: verified bucket no-such-bucket-\w+ does not exist/);
  });
});

describe('feature snapshot for the failover hydration', () => {
  const prefix = `feature-snapshots-data-sync-${suffix}/`;
  const primaryBucket = endpoints.aws.resources.regional[primary]!.evidenceBucket;
  const secondaryBucket = endpoints.aws.resources.regional[secondary]!.evidenceBucket;

  test('a snapshot taken in the primary region is synced into the secondary bucket, where hydration verifies it', async () => {
    const records = hotFeatures();
    const written = await writeFeatureSnapshot({ s3: src, bucket: primaryBucket, prefix, records });
    const first = await ensureSnapshotInRegion({
      source: { s3: src, bucket: primaryBucket },
      target: { s3: dst, bucket: secondaryBucket },
      prefix,
    });
    expect(first).toMatchObject({
      snapshotId: written.id,
      status: 'synced',
      sync: { manifestWritten: true },
    });

    // The promoted replica would hydrate from the target region's bucket; a dry run verifies it there.
    const redis = new IoredisAdapter({
      host: SANDBOX_HOST,
      port: endpoints.secondary.redis.port,
      snapshots: new S3SnapshotSource({ s3: dst, bucket: secondaryBucket, prefix }),
    });
    try {
      await expect(redis.hydrateFromSnapshot({ dryRun: true })).resolves.toMatchObject({
        snapshot: written.id,
        verified: true,
        records: records.length,
        keysWritten: 0,
      });
    } finally {
      await redis.close();
    }

    // Already there: verified in place, the source region is not needed (here: a bucket that does not exist).
    const again = await ensureSnapshotInRegion({
      source: { s3: src, bucket: `gone-${suffix}` },
      target: { s3: dst, bucket: secondaryBucket },
      prefix,
      snapshotId: written.id,
    });
    expect(again).toMatchObject({ status: 'present', snapshotId: written.id });
  });
});
