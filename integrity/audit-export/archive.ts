import { createHash } from 'node:crypto';
import fs from 'node:fs';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { awsCall, awsErrorName } from '../../lambdas/shared/adapters/aws/aws-call';
import type { ManifestFile } from '../../lambdas/shared/manifest';
import { AuditExportArchiveError } from './errors';
import type { ArchivedObject } from './evidence';

/** S3's smallest part (all but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** Files larger than this go up in parts of this size (and the manifest lists the same parts). */
export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;
export const DEFAULT_KEY_PREFIX = 'disaster-recovery/audit-exports/';

export interface ArchiveTarget {
  readonly s3: S3Client;
  /** The region's Object-Lock evidence bucket. */
  readonly bucket: string;
  /** Ends with '/'; the export's objects go under `<keyPrefix><runId>/`. */
  readonly keyPrefix: string;
  /** COMPLIANCE retain-until date, whole seconds. */
  readonly retainUntil: Date;
}

export interface LeftBehind {
  key: string;
  versionId?: string;
  reason: string;
}

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/**
 * A file range as a request body, closed once the request is over whether or not the SDK
 * read it (a request that fails before sending must not leave an open file behind).
 */
async function withFileBody<T>(
  file: string,
  range: { start: number; end: number } | undefined,
  send: (body: fs.ReadStream) => Promise<T>,
): Promise<T> {
  const body = fs.createReadStream(file, range);
  body.on('error', () => {}); // the SDK sees read errors through its own listener
  try {
    return await send(body);
  } finally {
    body.destroy();
  }
}

/** S3's checksum of a multipart object: SHA-256 of the parts' raw SHA-256s, then "-<parts>". */
export function compositeSha256(parts: readonly { sha256: string }[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(Buffer.from(p.sha256, 'hex'));
  return `${h.digest('base64')}-${parts.length}`;
}

/**
 * Archives one export's files in the evidence bucket so that a failure leaves nothing
 * behind: every file is uploaded WITHOUT a lock first (single PutObject, or a multipart
 * upload for files the manifest lists in parts), read back with HeadObject (size and, where
 * S3 reports it, SHA-256), and only when all are there are they locked (PutObjectRetention,
 * COMPLIANCE) and the locks read back. A failure before the locks deletes the versions it
 * wrote (and aborts an open multipart upload). The manifest, written last with its lock in
 * the PutObject itself, is what publishes the export; objects without one are not an export.
 *
 * Locking after the upload is also what makes multipart objects lockable on moto: moto
 * ignores the lock headers of CreateMultipartUpload, but applies PutObjectRetention.
 * On a bucket with a default retention AWS locks every version at birth, so there a
 * rollback cannot delete; the versions it could not remove are named in the error.
 */
export class ExportArchiver {
  private readonly target: ArchiveTarget;
  private readonly written: { key: string; versionId?: string }[] = [];

  constructor(target: ArchiveTarget) {
    this.target = target;
  }

  /** Object versions written so far (and not yet rolled back). */
  get writtenCount(): number {
    return this.written.length;
  }

  keyFor(runId: string, path: string): string {
    return `${this.target.keyPrefix}${runId}/${path}`;
  }

  /** Uploads one staged file without a lock and checks it arrived whole. */
  async uploadUnlocked(
    key: string,
    localPath: string,
    entry: ManifestFile,
    contentType: string,
  ): Promise<{
    key: string;
    versionId?: string;
    upload: 'single-part' | 'multipart';
    s3ChecksumVerified: boolean;
  }> {
    const { s3, bucket } = this.target;
    let versionId: string | undefined;
    let upload: 'single-part' | 'multipart';
    if (!entry.parts || entry.parts.length <= 1) {
      upload = 'single-part';
      const out = await withFileBody(localPath, undefined, (body) =>
        awsCall(() =>
          s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: body,
              ContentLength: entry.size,
              ContentType: contentType,
              ChecksumAlgorithm: 'SHA256',
              ChecksumSHA256: b64(entry.sha256),
              Metadata: { sha256: entry.sha256 },
            }),
          ),
        ),
      );
      versionId = out.VersionId;
      this.written.push({ key, ...(versionId ? { versionId } : {}) });
    } else {
      upload = 'multipart';
      const created = await awsCall(() =>
        s3.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            ContentType: contentType,
            ChecksumAlgorithm: 'SHA256',
            Metadata: { sha256: entry.sha256 },
          }),
        ),
      );
      const uploadId = created.UploadId!;
      try {
        const done: { PartNumber: number; ETag: string; ChecksumSHA256: string }[] = [];
        for (const part of entry.parts) {
          const out = await withFileBody(
            localPath,
            { start: part.offset, end: part.offset + part.size - 1 },
            (body) =>
              awsCall(() =>
                s3.send(
                  new UploadPartCommand({
                    Bucket: bucket,
                    Key: key,
                    UploadId: uploadId,
                    PartNumber: part.index + 1,
                    Body: body,
                    ContentLength: part.size,
                    ChecksumSHA256: b64(part.sha256),
                  }),
                ),
              ),
          );
          done.push({ PartNumber: part.index + 1, ETag: out.ETag!, ChecksumSHA256: b64(part.sha256) });
        }
        const out = await awsCall(() =>
          s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              MultipartUpload: { Parts: done },
            }),
          ),
        );
        versionId = out.VersionId;
        this.written.push({ key, ...(versionId ? { versionId } : {}) });
      } catch (err) {
        await s3
          .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
          .catch(() => undefined);
        throw err;
      }
    }

    const head = await this.head(key, versionId);
    if (head.ContentLength !== entry.size)
      throw new AuditExportArchiveError(
        `s3://${bucket}/${key} holds ${head.ContentLength} bytes after the upload, not ${entry.size}`,
        { key, versionId },
      );
    const expected = upload === 'single-part' ? b64(entry.sha256) : compositeSha256(entry.parts!);
    let s3ChecksumVerified = false;
    if (head.ChecksumSHA256) {
      // moto reports a multipart object's checksum of checksums without AWS's "-<parts>" suffix.
      const reported =
        upload === 'multipart' && !head.ChecksumSHA256.includes('-')
          ? `${head.ChecksumSHA256}-${entry.parts!.length}`
          : head.ChecksumSHA256;
      if (reported !== expected)
        throw new AuditExportArchiveError(
          `s3://${bucket}/${key} has SHA-256 checksum ${head.ChecksumSHA256}, not ${expected}`,
          { key, versionId },
        );
      s3ChecksumVerified = true;
    }
    return { key, ...(versionId ? { versionId } : {}), upload, s3ChecksumVerified };
  }

  /** Sets COMPLIANCE retention on an uploaded version and reads it back. */
  async lock(object: {
    key: string;
    versionId?: string;
    upload: 'single-part' | 'multipart';
    s3ChecksumVerified: boolean;
  }): Promise<ArchivedObject> {
    const { s3, bucket, retainUntil } = this.target;
    await awsCall(() =>
      s3.send(
        new PutObjectRetentionCommand({
          Bucket: bucket,
          Key: object.key,
          ...(object.versionId ? { VersionId: object.versionId } : {}),
          Retention: { Mode: 'COMPLIANCE', RetainUntilDate: retainUntil },
        }),
      ),
    );
    return this.readBackLock(object, 'PutObjectRetention');
  }

  /** A small object written with its lock in the PutObject itself (the manifest: the last write). */
  async putLocked(key: string, body: Buffer, contentType: string): Promise<ArchivedObject> {
    const { s3, bucket, retainUntil } = this.target;
    const sha256 = createHash('sha256').update(body).digest('hex');
    const out = await awsCall(() =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ChecksumAlgorithm: 'SHA256',
          ChecksumSHA256: b64(sha256),
          Metadata: { sha256 },
          ObjectLockMode: 'COMPLIANCE',
          ObjectLockRetainUntilDate: retainUntil,
        }),
      ),
    );
    this.written.push({ key, ...(out.VersionId ? { versionId: out.VersionId } : {}) });
    return this.readBackLock(
      {
        key,
        ...(out.VersionId ? { versionId: out.VersionId } : {}),
        upload: 'single-part',
        s3ChecksumVerified: out.ChecksumSHA256 === b64(sha256),
      },
      'PutObject',
    );
  }

  private async readBackLock(
    object: {
      key: string;
      versionId?: string;
      upload: 'single-part' | 'multipart';
      s3ChecksumVerified: boolean;
    },
    appliedWith: ArchivedObject['lockAppliedWith'],
  ): Promise<ArchivedObject> {
    const head = await this.head(object.key, object.versionId);
    const until = head.ObjectLockRetainUntilDate;
    if (head.ObjectLockMode !== 'COMPLIANCE' || !until || until.getTime() < this.target.retainUntil.getTime())
      throw new AuditExportArchiveError(
        `s3://${this.target.bucket}/${object.key} is not locked as asked after ${appliedWith}: ` +
          `mode ${head.ObjectLockMode ?? 'none'}, retain-until ${until?.toISOString() ?? 'none'} ` +
          `(wanted COMPLIANCE until ${this.target.retainUntil.toISOString()})`,
        { key: object.key, versionId: object.versionId },
      );
    return {
      key: object.key,
      ...(object.versionId ? { versionId: object.versionId } : {}),
      upload: object.upload,
      objectLockMode: 'COMPLIANCE',
      retainUntil: until.toISOString(),
      lockAppliedWith: appliedWith,
      s3ChecksumVerified: object.s3ChecksumVerified,
    };
  }

  private head(key: string, versionId: string | undefined) {
    return awsCall(() =>
      this.target.s3.send(
        new HeadObjectCommand({
          Bucket: this.target.bucket,
          Key: key,
          ...(versionId ? { VersionId: versionId } : {}),
          ChecksumMode: 'ENABLED',
        }),
      ),
    );
  }

  /** Deletes every version this archiver wrote; returns those S3 would not delete (locked ones). */
  async rollback(): Promise<LeftBehind[]> {
    const left: LeftBehind[] = [];
    for (const { key, versionId } of this.written.splice(0).reverse()) {
      if (!versionId) {
        left.push({ key, reason: 'no version id (is versioning enabled?): not deleted' });
        continue;
      }
      try {
        await this.target.s3.send(
          new DeleteObjectCommand({ Bucket: this.target.bucket, Key: key, VersionId: versionId }),
        );
      } catch (err) {
        left.push({ key, versionId, reason: awsErrorName(err) ?? (err as Error).message });
      }
    }
    return left;
  }
}
