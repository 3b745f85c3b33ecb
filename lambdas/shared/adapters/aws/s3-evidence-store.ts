import { createHash } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvalidInputError, classifyError } from '../../errors';
import type { EvidenceStore } from '../contracts';
import { awsCall, awsErrorName } from './aws-call';

export interface S3EvidenceStoreOptions {
  /** A client for the region running the workflow. */
  readonly s3: S3Client;
  /** The region's Object-Lock bucket (topology `regions.<region>.aws.evidenceBucket`). */
  readonly bucket: string;
  /** Prepended to every key, e.g. `reports/disaster-recovery/<runId>/`. @default '' */
  readonly keyPrefix?: string;
  /** COMPLIANCE retention from the time of writing, in days. @default 2555 (about seven years) */
  readonly retentionDays?: number;
  /** KMS key for SSE-KMS; without it objects are encrypted with SSE-S3 (AES256). */
  readonly kmsKeyId?: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export const DEFAULT_EVIDENCE_RETENTION_DAYS = 2555;
const DAY_MS = 86_400_000;

/**
 * Evidence archived immutably: one single-part PutObject per file (evidence files are
 * small; moto, unlike S3, never locks multipart objects) with Object Lock COMPLIANCE
 * retention, server-side encryption and an SHA-256 checksum S3 verifies on receipt.
 * The hex SHA-256 is also kept as object metadata, so a re-drive that writes the same
 * bytes to the same key finds them and writes no second version.
 */
export class S3EvidenceStore implements EvidenceStore {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly keyPrefix: string;
  private readonly retentionDays: number;
  private readonly kmsKeyId: string | undefined;
  private readonly now: () => Date;

  constructor(opts: S3EvidenceStoreOptions) {
    const retentionDays = opts.retentionDays ?? DEFAULT_EVIDENCE_RETENTION_DAYS;
    if (!Number.isInteger(retentionDays) || retentionDays < 1) {
      throw new InvalidInputError(`retentionDays must be a whole number of days ≥ 1, not ${retentionDays}`, {
        field: 'retentionDays',
      });
    }
    this.s3 = opts.s3;
    this.bucket = opts.bucket;
    this.keyPrefix = opts.keyPrefix ?? '';
    this.retentionDays = retentionDays;
    this.kmsKeyId = opts.kmsKeyId;
    this.now = opts.now ?? (() => new Date());
  }

  async put(
    key: string,
    body: Buffer | string,
    contentType: string,
  ): Promise<{
    key: string;
    versionId?: string;
    sha256: string;
    retainUntil?: string;
    alreadyDone: boolean;
  }> {
    const fullKey = `${this.keyPrefix}${key}`;
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const digest = createHash('sha256').update(bytes).digest();
    const sha256 = digest.toString('hex');

    const existing = await this.head(fullKey);
    if (existing && existing.Metadata?.sha256 === sha256) {
      return {
        key: fullKey,
        sha256,
        alreadyDone: true,
        ...(existing.VersionId ? { versionId: existing.VersionId } : {}),
        ...(existing.ObjectLockRetainUntilDate
          ? { retainUntil: existing.ObjectLockRetainUntilDate.toISOString() }
          : {}),
      };
    }

    const retainUntil = new Date(this.now().getTime() + this.retentionDays * DAY_MS);
    const response = await awsCall(() =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: fullKey,
          Body: bytes,
          ContentType: contentType,
          ChecksumAlgorithm: 'SHA256',
          ChecksumSHA256: digest.toString('base64'),
          Metadata: { sha256 },
          ObjectLockMode: 'COMPLIANCE',
          ObjectLockRetainUntilDate: retainUntil,
          ...(this.kmsKeyId
            ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: this.kmsKeyId }
            : { ServerSideEncryption: 'AES256' as const }),
        }),
      ),
    );
    if (response.ChecksumSHA256 && response.ChecksumSHA256 !== digest.toString('base64')) {
      throw new Error(
        `S3 stored ${fullKey} with SHA-256 ${response.ChecksumSHA256}, not ${digest.toString('base64')}`,
      );
    }
    return {
      key: fullKey,
      sha256,
      alreadyDone: false,
      retainUntil: retainUntil.toISOString(),
      ...(response.VersionId ? { versionId: response.VersionId } : {}),
    };
  }

  private async head(key: string) {
    try {
      return await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (awsErrorName(err) === 'NotFound' || awsErrorName(err) === 'NoSuchKey') return null;
      throw classifyError(err);
    }
  }
}
