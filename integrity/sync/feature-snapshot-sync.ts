import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  FEATURE_SNAPSHOT_KIND,
  FEATURE_SNAPSHOT_PREFIX,
  MANIFEST_FILE_NAME,
  SNAPSHOT_ID_PATTERN,
  snapshotObjectKey,
} from '../../lambdas/shared/feature-snapshot';
import { ManifestMismatchError, type VerifiedFile } from '../../lambdas/shared/manifest';
import { latestSnapshotId } from '../../lambdas/shared/adapters/redis/snapshot-source';
import { SnapshotNotFoundError } from '../../lambdas/shared/adapters/redis/ioredis-adapter';
import { syncManifest, verifyManifestInBucket, type SyncResult } from './engine';
import { ManifestNotFoundError } from './errors';
import type { SyncJournal } from './journal';
import { S3SyncSource, type S3Like } from './object-store';
import type { ProgressSink } from './progress';
import type { RetryPolicy } from './retry';

/**
 * Makes sure a feature snapshot is in the region that will hydrate from it: the failover's
 * Redis hydration reads the snapshot from the TARGET region's bucket (static stability) and
 * verifies it against its manifest there; this puts it there, through the resilient sync,
 * from the region where it was taken.
 *
 * When the target already holds the snapshot's manifest and every file verifies, the source
 * region is not touched at all (it may be the region that failed).
 */
export interface RegionBucket {
  readonly s3: S3Like;
  readonly bucket: string;
  /** For messages only. */
  readonly region?: string;
}

export interface EnsureSnapshotOptions {
  readonly source: RegionBucket;
  readonly target: RegionBucket;
  /** @default the latest complete snapshot in the source bucket */
  readonly snapshotId?: string;
  /** @default FEATURE_SNAPSHOT_PREFIX */
  readonly prefix?: string;
  readonly partSize?: number;
  readonly concurrency?: number;
  readonly journal?: SyncJournal;
  readonly retry?: Partial<RetryPolicy>;
  readonly progress?: ProgressSink;
}

export interface EnsureSnapshotResult {
  snapshotId: string;
  bucket: string;
  manifestKey: string;
  /** `present`: already in the target and verified there; `synced`: copied (or repaired) and verified. */
  status: 'present' | 'synced';
  verified: VerifiedFile[];
  sync?: SyncResult;
}

/** Ids of complete snapshots (manifest present) under `prefix`, as S3SnapshotSource lists them. */
export async function listSnapshotIds(
  s3: S3Like,
  bucket: string,
  prefix = FEATURE_SNAPSHOT_PREFIX,
): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const { Key } of page.Contents ?? []) {
      const rest = Key?.slice(prefix.length).split('/');
      if (rest?.length === 2 && rest[1] === MANIFEST_FILE_NAME && SNAPSHOT_ID_PATTERN.test(rest[0]!))
        ids.push(rest[0]!);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return ids;
}

export async function ensureSnapshotInRegion(opts: EnsureSnapshotOptions): Promise<EnsureSnapshotResult> {
  const prefix = opts.prefix ?? FEATURE_SNAPSHOT_PREFIX;
  let id = opts.snapshotId;
  if (!id) {
    id = latestSnapshotId(await listSnapshotIds(opts.source.s3, opts.source.bucket, prefix));
    if (!id)
      throw new SnapshotNotFoundError(
        `no complete feature snapshot in s3://${opts.source.bucket}/${prefix}`,
        {
          bucket: opts.source.bucket,
        },
      );
  }
  if (!SNAPSHOT_ID_PATTERN.test(id)) throw new SnapshotNotFoundError(`'${id}' is not a feature snapshot id`);
  const manifestKey = snapshotObjectKey(prefix, id, MANIFEST_FILE_NAME);

  // Already there and intact: done, without the source region.
  try {
    const report = await verifyManifestInBucket({
      s3: opts.target.s3,
      bucket: opts.target.bucket,
      manifestKey,
    });
    if (report.kind === FEATURE_SNAPSHOT_KIND)
      return {
        snapshotId: id,
        bucket: opts.target.bucket,
        manifestKey,
        status: 'present',
        verified: report.files,
      };
  } catch (err) {
    // Missing or damaged in the target: (re)sync it below. Anything else is a real failure.
    if (!(err instanceof ManifestNotFoundError || err instanceof ManifestMismatchError)) throw err;
  }

  const snapshotPrefix = `${prefix}${id}/`;
  const sync = await syncManifest({
    source: new S3SyncSource(opts.source.s3, opts.source.bucket, snapshotPrefix),
    target: { s3: opts.target.s3, bucket: opts.target.bucket, prefix: snapshotPrefix },
    manifestName: MANIFEST_FILE_NAME,
    expectKind: FEATURE_SNAPSHOT_KIND,
    ...(opts.partSize ? { partSize: opts.partSize } : {}),
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    ...(opts.journal ? { journal: opts.journal } : {}),
    ...(opts.retry ? { retry: opts.retry } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
  });
  return {
    snapshotId: id,
    bucket: opts.target.bucket,
    manifestKey,
    status: 'synced',
    verified: sync.verified,
    sync,
  };
}
