import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ManifestMismatchError } from '../../lambdas/shared/manifest';
import { BucketNotFoundError } from './errors';

/** What the sync needs of an S3 client: its `send`. A fault-injecting wrapper fits too. */
export type S3Like = Pick<S3Client, 'send'>;

export const isNotFound = (err: unknown) =>
  ['NoSuchKey', 'NotFound', 'NoSuchVersion'].includes((err as Error | undefined)?.name ?? '');
export const isNoSuchBucket = (err: unknown) => (err as Error | undefined)?.name === 'NoSuchBucket';

/** Throws BucketNotFoundError when the bucket does not exist; other failures pass through. */
export async function assertBucketExists(s3: S3Like, bucket: string, role: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (isNoSuchBucket(err) || (err as Error).name === 'NotFound' || status === 404)
      throw new BucketNotFoundError(`${role} bucket ${bucket} does not exist`, { bucket, role });
    throw err;
  }
}

/** `prefix` + `name`, with exactly one `/` between a non-empty prefix and the name. */
export function joinKey(prefix: string, name: string): string {
  if (!prefix) return name;
  return prefix.endsWith('/') ? `${prefix}${name}` : `${prefix}/${name}`;
}

/** The directory of a manifest key, as a prefix (`a/b/manifest.json` → `a/b/`). */
export function prefixOfKey(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? '' : key.slice(0, slash + 1);
}

export interface SourceObject {
  size: number;
  /** Pins later reads to the very bytes seen here. */
  etag?: string;
  versionId?: string;
  mtimeMs?: number;
}

/** Where a sync reads a manifest and its files from. */
export interface SyncSource {
  /** e.g. `s3://bucket/prefix/` or a local directory; for messages and results. */
  readonly location: string;
  assertExists(): Promise<void>;
  /** The manifest's text, or null when there is none. */
  readManifestText(name: string): Promise<string | null>;
  /** Size (and version) of a file listed in the manifest, or null when it does not exist. */
  stat(file: string): Promise<SourceObject | null>;
  /** Bytes from `start` to the end of the file, as one stream, from the version `stat` saw. */
  openFrom(file: string, seen: SourceObject, start: number): Promise<AsyncIterable<Uint8Array>>;
}

const sourceChanged = (file: string) =>
  new ManifestMismatchError(`source ${file} changed while it was being synced`, [
    { path: file, problem: 'content', detail: 'source changed during the sync' },
  ]);

export class S3SyncSource implements SyncSource {
  readonly location: string;
  constructor(
    private readonly s3: S3Like,
    readonly bucket: string,
    readonly prefix: string,
  ) {
    this.location = `s3://${bucket}/${prefix}`;
  }

  assertExists() {
    return assertBucketExists(this.s3, this.bucket, 'source');
  }

  async readManifestText(name: string) {
    try {
      const object = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: joinKey(this.prefix, name) }),
      );
      return await object.Body!.transformToString('utf8');
    } catch (err) {
      if (isNotFound(err)) return null;
      if (isNoSuchBucket(err)) throw new BucketNotFoundError(`source bucket ${this.bucket} does not exist`);
      throw err;
    }
  }

  async stat(file: string) {
    try {
      const head = await this.s3.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: joinKey(this.prefix, file) }),
      );
      return { size: head.ContentLength ?? 0, etag: head.ETag, versionId: head.VersionId };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async openFrom(file: string, seen: SourceObject, start: number): Promise<AsyncIterable<Uint8Array>> {
    if (start >= seen.size) return (async function* () {})();
    try {
      const object = await this.s3.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: joinKey(this.prefix, file),
          Range: `bytes=${start}-${seen.size - 1}`,
          ...(seen.versionId ? { VersionId: seen.versionId } : seen.etag ? { IfMatch: seen.etag } : {}),
        }),
      );
      return object.Body as Readable;
    } catch (err) {
      if ((err as Error).name === 'PreconditionFailed' || isNotFound(err)) throw sourceChanged(file);
      throw err;
    }
  }
}

/** A local directory laid out like a prefix: `<dir>/<manifest>` and `<dir>/<file path>`. */
export class LocalDirSyncSource implements SyncSource {
  readonly location: string;
  constructor(readonly dir: string) {
    this.location = path.resolve(dir);
  }

  async assertExists() {
    const stat = await fs.promises.stat(this.dir).catch(() => null);
    if (!stat?.isDirectory()) throw new BucketNotFoundError(`source directory ${this.dir} does not exist`);
  }

  async readManifestText(name: string) {
    return fs.promises.readFile(path.join(this.dir, name), 'utf8').catch(() => null);
  }

  async stat(file: string) {
    const stat = await fs.promises.stat(path.join(this.dir, file)).catch(() => null);
    return stat?.isFile() ? { size: stat.size, mtimeMs: stat.mtimeMs } : null;
  }

  async openFrom(file: string, seen: SourceObject, start: number): Promise<AsyncIterable<Uint8Array>> {
    const now = await this.stat(file);
    if (!now || now.size !== seen.size || now.mtimeMs !== seen.mtimeMs) throw sourceChanged(file);
    if (start >= seen.size) return (async function* () {})();
    return fs.createReadStream(path.join(this.dir, file), {
      start,
      end: seen.size - 1,
      highWaterMark: 1024 * 1024,
    });
  }
}

/**
 * Reads consecutive byte ranges of one file from one long stream, opening a new stream
 * only when asked for an offset other than where the last read stopped (a part that is
 * already on the target is skipped). Holds at most one chunk beyond the part being filled.
 */
export class SequentialRangeReader {
  private iterator: AsyncIterator<Uint8Array> | undefined;
  private position = -1;
  private leftover: Buffer | undefined;

  constructor(private readonly open: (start: number) => Promise<AsyncIterable<Uint8Array>>) {}

  /** Exactly `size` bytes from `offset`; fails if the stream ends first. */
  async read(offset: number, size: number): Promise<Buffer> {
    if (!this.iterator || offset !== this.position) {
      await this.close();
      this.iterator = (await this.open(offset))[Symbol.asyncIterator]();
      this.position = offset;
    }
    const buffer = Buffer.allocUnsafe(size);
    let filled = 0;
    try {
      while (filled < size) {
        let chunk = this.leftover;
        this.leftover = undefined;
        if (!chunk) {
          const next = await this.iterator.next();
          if (next.done)
            throw new Error(`source stream ended at byte ${offset + filled}, expected ${offset + size}`);
          chunk = Buffer.isBuffer(next.value)
            ? next.value
            : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        }
        const take = Math.min(size - filled, chunk.length);
        chunk.copy(buffer, filled, 0, take);
        filled += take;
        if (take < chunk.length) this.leftover = chunk.subarray(take);
      }
    } catch (err) {
      await this.close();
      throw err;
    }
    this.position = offset + size;
    return buffer;
  }

  async close(): Promise<void> {
    const iterator = this.iterator;
    this.iterator = undefined;
    this.leftover = undefined;
    this.position = -1;
    if (iterator?.return) await iterator.return().catch(() => undefined);
  }
}
