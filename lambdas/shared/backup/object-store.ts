import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { awsCall, awsErrorName } from '../adapters/aws/aws-call';
import { classifyError } from '../errors';

/** S3's smallest part (all but the last). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** Parts of a streamed upload: one is held in memory at a time. */
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
/** Parts uploading at once while the next one fills (reading, encrypting and uploading overlap). */
export const PARTS_IN_FLIGHT = 2;

const isNotFound = (err: unknown) =>
  ['NoSuchKey', 'NotFound', 'NoSuchVersion'].includes(awsErrorName(err) ?? '');
const b64sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

export interface StreamUploadResult {
  key: string;
  bytes: number;
  parts: number;
  versionId?: string;
}

/**
 * The backup bucket as the backup code uses it. Uploads of unknown length (pg_basebackup's
 * stdout through the encryptor) go up as multipart uploads in fixed parts, a couple in
 * flight while the next fills (memory: PARTS_IN_FLIGHT + 1 parts), each with its SHA-256
 * for S3 to check on receipt; a failure aborts the upload, so nothing half-written is left
 * as an object.
 */
export class BackupObjectStore {
  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
    private readonly partBytes = DEFAULT_PART_BYTES,
  ) {
    if (!Number.isInteger(partBytes) || partBytes < MIN_PART_BYTES)
      throw new RangeError(`partBytes must be at least ${MIN_PART_BYTES}`);
  }

  get location(): string {
    return `s3://${this.bucket}`;
  }

  async uploadStream(
    key: string,
    body: AsyncIterable<Buffer> | Readable,
    contentType: string,
  ): Promise<StreamUploadResult> {
    const { s3, bucket } = this;
    let uploadId: string | undefined;
    const done: { PartNumber: number; ETag: string; ChecksumSHA256: string }[] = [];
    const part = Buffer.allocUnsafe(this.partBytes);
    let filled = 0;
    let bytes = 0;

    let nextPart = 1;
    /** Parts being uploaded; at most `PARTS_IN_FLIGHT`, so memory stays a few parts. */
    const inFlight = new Set<Promise<void>>();
    let failed: unknown;

    const createUpload = async () => {
      const created = await awsCall(() =>
        s3.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            ContentType: contentType,
            ChecksumAlgorithm: 'SHA256',
          }),
        ),
      );
      uploadId = created.UploadId!;
    };
    const uploadPart = async (PartNumber: number, data: Buffer) => {
      const ChecksumSHA256 = b64sha256(data);
      const out = await awsCall(() =>
        s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber,
            Body: data,
            ContentLength: data.length,
            ChecksumSHA256,
          }),
        ),
      );
      done.push({ PartNumber, ETag: out.ETag!, ChecksumSHA256 });
    };
    /** Starts a part's upload while the next part fills; waits when PARTS_IN_FLIGHT are already going. */
    const sendPart = async (data: Buffer) => {
      if (uploadId === undefined) await createUpload();
      while (inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(inFlight);
      if (failed !== undefined) throw failed;
      const upload = uploadPart(nextPart++, data).catch((err: unknown) => {
        failed ??= err;
      });
      const tracked = upload.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    };
    const settle = async () => {
      await Promise.all(inFlight);
      if (failed !== undefined) throw failed;
    };

    try {
      for await (const raw of body) {
        const chunk = raw as Buffer;
        bytes += chunk.length;
        let at = 0;
        while (at < chunk.length) {
          const take = Math.min(this.partBytes - filled, chunk.length - at);
          chunk.copy(part, filled, at, at + take);
          filled += take;
          at += take;
          if (filled === this.partBytes) {
            // A copy: the part buffer is refilled while nothing else holds it, but the SDK may retry with it.
            await sendPart(Buffer.from(part));
            filled = 0;
          }
        }
      }
      if (uploadId === undefined) {
        // Smaller than one part: a single PutObject.
        const data = part.subarray(0, filled);
        const out = await awsCall(() =>
          s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: data,
              ContentType: contentType,
              ChecksumSHA256: b64sha256(data),
            }),
          ),
        );
        return { key, bytes, parts: 1, ...(out.VersionId ? { versionId: out.VersionId } : {}) };
      }
      if (filled > 0) await sendPart(Buffer.from(part.subarray(0, filled)));
      await settle();
      done.sort((a, b) => a.PartNumber - b.PartNumber);
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
      return { key, bytes, parts: done.length, ...(out.VersionId ? { versionId: out.VersionId } : {}) };
    } catch (err) {
      await Promise.allSettled(inFlight);
      if (uploadId !== undefined)
        await Promise.resolve()
          .then(() =>
            s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
          )
          .catch(() => undefined);
      throw err;
    }
  }

  async putBytes(key: string, body: Buffer, contentType: string): Promise<{ versionId?: string }> {
    const out = await awsCall(() =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ChecksumSHA256: b64sha256(body),
        }),
      ),
    );
    return out.VersionId ? { versionId: out.VersionId } : {};
  }

  /** The object's bytes, or null when it does not exist. */
  async getBytes(key: string): Promise<Buffer | null> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return null;
      throw classifyError(err);
    }
  }

  /** The object's bytes as a stream, or null when it does not exist. */
  async getStream(key: string): Promise<Readable | null> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw classifyError(err);
    }
  }

  /** Size of the object, or null when it does not exist. */
  async head(key: string): Promise<{ bytes: number; lastModified?: Date } | null> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        bytes: out.ContentLength ?? 0,
        ...(out.LastModified ? { lastModified: out.LastModified } : {}),
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw classifyError(err);
    }
  }

  /** Every key under the prefix (all pages). */
  async list(prefix: string): Promise<{ key: string; lastModified?: Date; bytes: number }[]> {
    const found: { key: string; lastModified?: Date; bytes: number }[] = [];
    let token: string | undefined;
    do {
      const out = await awsCall(() =>
        this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      for (const o of out.Contents ?? [])
        if (o.Key)
          found.push({
            key: o.Key,
            bytes: o.Size ?? 0,
            ...(o.LastModified ? { lastModified: o.LastModified } : {}),
          });
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return found;
  }
}
