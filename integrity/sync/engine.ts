import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import {
  ManifestInvalidError,
  ManifestMismatchError,
  parseManifest,
  verifyAgainstManifest,
  type ByteChunks,
  type Manifest,
  type ManifestMismatch,
  type VerifiedFile,
} from '../../lambdas/shared/manifest';
import { ManifestConflictError, ManifestNotFoundError, PartCorruptedError, isPartCorruption } from './errors';
import {
  layoutFingerprint,
  MemorySyncJournal,
  type JournalEntry,
  type JournalKey,
  type SyncJournal,
} from './journal';
import {
  assertBucketExists,
  isNoSuchBucket,
  isNotFound,
  joinKey,
  prefixOfKey,
  SequentialRangeReader,
  type S3Like,
  type SourceObject,
  type SyncSource,
} from './object-store';
import { DEFAULT_PART_SIZE, planFile, type FilePlan, type PlannedPart } from './part-plan';
import { silentSyncProgress, type ProgressSink } from './progress';
import { decideParts, multipartEtag, stripQuotes, type ListedPart, type PartDecision } from './resume';
import { withRetry, type RetryEvent, type RetryPolicy } from './retry';
import { BucketNotFoundError } from './errors';

/**
 * The resilient data sync: copies a manifest and the files it lists from one object store
 * (another region's bucket, or a local directory) into a bucket, so that
 *
 * - every file goes up in parts (multipart upload; one PutObject when it fits in a part),
 *   streamed: the source is read once, in order, one part buffered per upload in flight;
 * - every part's SHA-256 (and MD5) is computed from the bytes read, checked against the
 *   manifest's part hash when the manifest has parts, sent with the part (S3 checks
 *   `x-amz-checksum-sha256` and `Content-MD5`), and compared with what S3 says it stored
 *   (checksum, or ETag = MD5): a part that arrived damaged is sent again;
 * - an interrupted sync resumes: the target's multipart upload (ListMultipartUploads,
 *   ListParts) plus the journal of what was sent tell which parts are already there and
 *   intact; only the others are sent;
 * - transient failures are retried with exponential backoff and full jitter;
 * - a source that does not match its manifest is refused before its object is completed,
 *   and the objects this run created are removed again;
 * - every file is read back from the target and verified against the manifest (size,
 *   SHA-256, part hashes), and only then is the manifest written, last, and only if no
 *   manifest is there yet: a reader that finds the manifest finds complete, verified files.
 */
export const DEFAULT_MANIFEST_NAME = 'manifest.json';
export const DEFAULT_CONCURRENCY = 4;
/** User metadata on every object the sync writes: the SHA-256 the manifest gives it. */
export const SHA256_METADATA = 'tradepulse-sha256';

export interface SyncTarget {
  readonly s3: S3Like;
  readonly bucket: string;
  /** Key prefix of the manifest and its files (`feature-snapshots/<id>/`). */
  readonly prefix: string;
}

export interface SyncOptions {
  readonly source: SyncSource;
  readonly target: SyncTarget;
  /** @default 'manifest.json' */
  readonly manifestName?: string;
  /** Refuse a manifest of another kind (e.g. `feature-snapshot`) before anything is sent. */
  readonly expectKind?: string;
  /** Bytes per part when the manifest's own parts are not usable. @default 8 MiB */
  readonly partSize?: number;
  /** Parts uploaded at once. Memory ≈ (concurrency + 1) × part size. @default 4 */
  readonly concurrency?: number;
  /** What was sent, for resuming. @default a fresh in-memory journal (resume then re-reads source parts) */
  readonly journal?: SyncJournal;
  readonly retry?: Partial<RetryPolicy>;
  readonly progress?: ProgressSink;
  /** Random source for the backoff jitter (tests). */
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<unknown>;
}

export interface FileSyncReport {
  path: string;
  key: string;
  size: number;
  layout: FilePlan['layout'];
  /** `uploaded`: sent in full; `resumed`: some parts were already there; `kept`: the whole object was. */
  action: 'uploaded' | 'resumed' | 'kept';
  parts: number;
  partsSent: number;
  partsKept: number;
  /** Parts sent again because they arrived damaged. */
  partsResent: number;
  /** Parts found on the target without a record, compared with the source (read, not sent). */
  partsCheckedAgainstSource: number;
  /** Part numbers sent in this run (each once, however often it was re-sent). */
  sentPartNumbers: number[];
  etag?: string;
  versionId?: string;
  /** Time S3 took to complete the multipart upload (it assembles the object first). */
  completeMs?: number;
  note?: string;
}

export interface SyncResult {
  status: 'synced' | 'already-in-sync';
  source: string;
  target: string;
  manifestKey: string;
  kind: string;
  createdAt: string;
  manifestWritten: boolean;
  files: FileSyncReport[];
  bytes: { total: number; sent: number; kept: number; readFromSource: number; verified: number };
  parts: { total: number; sent: number; kept: number; resent: number; checkedAgainstSource: number };
  retries: number;
  durationMs: number;
  transferMs: number;
  verifyMs: number;
  /** Bytes sent per second of transfer, in MB/s (10⁶). */
  sendMBps: number;
  /** Verified files, as the target holds them. */
  verified: VerifiedFile[];
}

const md5Hex = (data: Uint8Array) => createHash('md5').update(data).digest('hex');
const sha256Hex = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const hexToB64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const b64ToHex = (b64: string | undefined) => (b64 ? Buffer.from(b64, 'base64').toString('hex') : undefined);
const etagIsMd5For = (sse: string | undefined) => sse === undefined || sse === 'AES256';

function sourceMismatch(file: string, mismatches: ManifestMismatch[]): ManifestMismatchError {
  const summary = mismatches
    .map((m) => `${m.path}: ${m.problem}${m.part !== undefined ? ` (part ${m.part})` : ''}`)
    .join('; ');
  return new ManifestMismatchError(`source does not match its manifest: ${summary} (${file})`, mismatches);
}

/** Runs up to `limit` tasks at once; the first failure stops new work and is rethrown by drain(). */
class TaskPool {
  private readonly running = new Set<Promise<void>>();
  private error: { value: unknown } | undefined;
  constructor(private readonly limit: number) {}

  get failed() {
    return this.error !== undefined;
  }

  async run(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.error) throw this.error.value;
    const promise: Promise<void> = task()
      .catch((err: unknown) => {
        this.error ??= { value: err };
      })
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  /** Waits for every task; rethrows the first failure. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    if (this.error) throw this.error.value;
  }

  /** Waits for every task, ignoring failures (cleaning up after another error). */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }
}

class Sync {
  readonly manifestName: string;
  readonly partSize: number;
  readonly concurrency: number;
  readonly journal: SyncJournal;
  readonly progress: ProgressSink;
  readonly target: SyncTarget;
  readonly source: SyncSource;
  retries = 0;
  readFromSource = 0;
  /** Object versions this run created, removed again if the sync is refused. */
  readonly created: { key: string; versionId?: string }[] = [];

  constructor(readonly opts: SyncOptions) {
    this.source = opts.source;
    this.target = opts.target;
    this.manifestName = opts.manifestName ?? DEFAULT_MANIFEST_NAME;
    this.partSize = opts.partSize ?? DEFAULT_PART_SIZE;
    this.concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1)
      throw new RangeError('concurrency must be a positive integer');
    this.journal = opts.journal ?? new MemorySyncJournal();
    this.progress = opts.progress ?? silentSyncProgress();
  }

  key(file: string) {
    return joinKey(this.target.prefix, file);
  }

  retrying<T>(
    what: string,
    fn: (attempt: number) => Promise<T>,
    extra: { retryAlso?: (err: unknown) => boolean; onRetry?: (e: RetryEvent) => void } = {},
  ) {
    return withRetry(what, fn, {
      ...(this.opts.retry ? { policy: this.opts.retry } : {}),
      ...(this.opts.random ? { random: this.opts.random } : {}),
      ...(this.opts.sleep ? { sleep: this.opts.sleep } : {}),
      ...(extra.retryAlso ? { retryAlso: extra.retryAlso } : {}),
      onRetry: (e: RetryEvent) => {
        extra.onRetry?.(e);
        this.onRetry(e);
      },
    });
  }

  onRetry(e: RetryEvent) {
    const corrupted = isPartCorruption(e.error);
    this.retries++;
    this.progress.update((s) => {
      s.retries++;
      if (corrupted) s.partsResent++;
    });
    const reason = (e.error as Error)?.message ?? String(e.error);
    this.progress.note(
      corrupted
        ? `${e.what}: damaged in transit (${reason}); sending it again`
        : `${e.what}: attempt ${e.attempt} failed (${reason}); retrying in ${e.delayMs} ms`,
    );
  }

  async readTargetText(key: string): Promise<string | null> {
    try {
      const object = await this.retrying(`read s3://${this.target.bucket}/${key}`, () =>
        this.target.s3.send(new GetObjectCommand({ Bucket: this.target.bucket, Key: key })),
      );
      return await object.Body!.transformToString('utf8');
    } catch (err) {
      if (isNotFound(err)) return null;
      if (isNoSuchBucket(err))
        throw new BucketNotFoundError(`target bucket ${this.target.bucket} does not exist`);
      throw err;
    }
  }

  async run(): Promise<SyncResult> {
    try {
      return await this.runInner();
    } finally {
      this.progress.finish();
    }
  }

  async runInner(): Promise<SyncResult> {
    const started = Date.now();
    await this.source.assertExists();
    await assertBucketExists(this.target.s3, this.target.bucket, 'target');

    const manifestText = await this.retrying('read the source manifest', () =>
      this.source.readManifestText(this.manifestName),
    );
    if (manifestText === null)
      throw new ManifestNotFoundError(`no ${this.manifestName} in ${this.source.location}`, {
        source: this.source.location,
      });
    let json: unknown;
    try {
      json = JSON.parse(manifestText);
    } catch {
      json = undefined;
    }
    const manifest = parseManifest(json, `manifest ${joinKey(this.source.location, this.manifestName)}`);
    if (this.opts.expectKind && manifest.kind !== this.opts.expectKind)
      throw new ManifestInvalidError(
        `${joinKey(this.source.location, this.manifestName)} is a ${manifest.kind} manifest, not a ${this.opts.expectKind}`,
      );
    const manifestKey = this.key(this.manifestName);

    const existing = await this.readTargetText(manifestKey);
    if (existing !== null && existing !== manifestText)
      throw new ManifestConflictError(
        `s3://${this.target.bucket}/${manifestKey} already holds a different manifest; refusing to overwrite it`,
        { key: manifestKey },
      );
    const published = existing !== null;

    // Every source file must exist with the manifest's size before anything is sent.
    const seen = new Map<string, SourceObject>();
    const problems: ManifestMismatch[] = [];
    for (const file of manifest.files) {
      const stat = await this.retrying(`stat source ${file.path}`, () => this.source.stat(file.path));
      if (!stat) problems.push({ path: file.path, problem: 'missing' });
      else if (stat.size !== file.size)
        problems.push({ path: file.path, problem: 'size', expected: file.size, actual: stat.size });
      else seen.set(file.path, stat);
    }
    if (problems.length > 0) throw sourceMismatch(this.source.location, problems);

    const plans = manifest.files.map((f) => planFile(f, this.partSize));
    const total = manifest.files.reduce((sum, f) => sum + f.size, 0);
    this.progress.update((s) => {
      s.phase = 'transfer';
      s.totalBytes = total;
      s.partsTotal = plans.reduce((sum, p) => sum + p.parts.length, 0);
      s.startedAt = Date.now();
    });
    for (const plan of plans) if (plan.note) this.progress.note(`${plan.path}: ${plan.note}`);

    const reports = new Map<string, FileSyncReport>();
    const keptReport = (plan: FilePlan, versionId?: string): FileSyncReport => ({
      path: plan.path,
      key: this.key(plan.path),
      size: plan.size,
      layout: plan.layout,
      action: 'kept',
      parts: plan.parts.length,
      partsSent: 0,
      partsKept: plan.parts.length,
      partsResent: 0,
      partsCheckedAgainstSource: 0,
      sentPartNumbers: [],
      ...(versionId ? { versionId } : {}),
    });
    let transferMs = 0;
    const transfer = async (todo: FilePlan[], force: boolean) => {
      const began = Date.now();
      this.progress.update((s) => (s.phase = 'transfer'));
      try {
        for (const plan of todo)
          reports.set(plan.path, await this.transferFile(plan, seen.get(plan.path)!, force));
      } catch (err) {
        // A source that does not match its manifest leaves nothing behind.
        if (err instanceof ManifestMismatchError) await this.removeCreated();
        throw err;
      } finally {
        transferMs += Date.now() - began;
      }
    };
    let verifyMs = 0;
    const verifyAll = async () => {
      const began = Date.now();
      this.progress.update((s) => {
        s.phase = 'verify';
        s.verifyTotalBytes = total;
        s.verifiedBytes = 0;
        s.verifyStartedAt = Date.now();
      });
      try {
        return await this.verify(manifest, reports);
      } finally {
        verifyMs += Date.now() - began;
      }
    };
    const failing = (err: unknown) => {
      if (!(err instanceof ManifestMismatchError)) throw err;
      const bad = new Set(err.mismatches.map((m) => m.path));
      return { err, plans: plans.filter((p) => bad.has(p.path)) };
    };

    let verified: VerifiedFile[] | undefined;
    let repair: FilePlan[] = [];
    if (published) {
      // Already published: check what is there; only files that fail are sent again.
      for (const plan of plans) reports.set(plan.path, keptReport(plan));
      try {
        verified = await verifyAll();
      } catch (err) {
        const f = failing(err);
        this.progress.note(`published snapshot fails verification (${f.err.message}); repairing`);
        repair = f.plans;
        this.progress.update((s) => (s.keptBytes = total - repair.reduce((n, p) => n + p.size, 0)));
      }
    } else {
      await transfer(plans, false);
      try {
        verified = await verifyAll();
      } catch (err) {
        const f = failing(err);
        this.progress.note(
          `target failed verification (${f.err.message}); sending ${f.plans.length} file(s) again`,
        );
        repair = f.plans;
      }
    }
    if (!verified) {
      await transfer(repair, true);
      try {
        verified = await verifyAll();
      } catch (err) {
        if (err instanceof ManifestMismatchError) await this.removeCreated();
        throw err;
      }
    }

    // Last: the manifest, only where none is, so readers never see it before its files.
    this.progress.update((s) => (s.phase = 'publish'));
    let manifestWritten = false;
    if (!published) {
      try {
        await this.retrying(`write s3://${this.target.bucket}/${manifestKey}`, () =>
          this.target.s3.send(
            new PutObjectCommand({
              Bucket: this.target.bucket,
              Key: manifestKey,
              Body: manifestText,
              ContentType: 'application/json',
              ChecksumSHA256: hexToB64(sha256Hex(Buffer.from(manifestText))),
              IfNoneMatch: '*',
            }),
          ),
        );
        manifestWritten = true;
      } catch (err) {
        if ((err as Error).name !== 'PreconditionFailed') throw err;
        // Published meanwhile (another sync of the same snapshot): fine if it is the same manifest.
        if ((await this.readTargetText(manifestKey)) !== manifestText)
          throw new ManifestConflictError(`a different manifest appeared at ${manifestKey} during the sync`);
      }
    }
    this.progress.update((s) => (s.phase = 'done'));

    const files = plans.map((p) => reports.get(p.path)!);
    const sum = (f: (r: FileSyncReport) => number) => files.reduce((n, r) => n + f(r), 0);
    const sent = this.progress.state.sentBytes;
    const allKept = files.every((f) => f.action === 'kept');
    return {
      status: published && allKept ? 'already-in-sync' : 'synced',
      source: this.source.location,
      target: `s3://${this.target.bucket}/${this.target.prefix}`,
      manifestKey,
      kind: manifest.kind,
      createdAt: manifest.createdAt,
      manifestWritten,
      files,
      bytes: {
        total,
        sent,
        kept: this.progress.state.keptBytes,
        readFromSource: this.readFromSource,
        verified: this.progress.state.verifiedBytes,
      },
      parts: {
        total: sum((f) => f.parts),
        sent: sum((f) => f.partsSent),
        kept: sum((f) => f.partsKept),
        resent: sum((f) => f.partsResent),
        checkedAgainstSource: sum((f) => f.partsCheckedAgainstSource),
      },
      retries: this.retries,
      durationMs: Date.now() - started,
      transferMs,
      verifyMs,
      sendMBps: transferMs > 0 ? sent / 1e6 / (transferMs / 1000) : 0,
      verified,
    };
  }

  /** Streams every file of the target through the manifest's checks, pinned to the versions written. */
  async verify(manifest: Manifest, reports: Map<string, FileSyncReport>): Promise<VerifiedFile[]> {
    return verifyObjects({
      s3: this.target.s3,
      bucket: this.target.bucket,
      prefix: this.target.prefix,
      manifest,
      pins: new Map([...reports].map(([p, r]) => [p, { versionId: r.versionId }])),
      onBytes: (n) => this.progress.update((s) => (s.verifiedBytes += n)),
    });
  }

  async removeCreated(): Promise<void> {
    for (const { key, versionId } of this.created.splice(0)) {
      try {
        await this.target.s3.send(
          new DeleteObjectCommand({
            Bucket: this.target.bucket,
            Key: key,
            ...(versionId ? { VersionId: versionId } : {}),
          }),
        );
        this.progress.note(`removed s3://${this.target.bucket}/${key} written by this refused sync`);
      } catch (err) {
        this.progress.note(`could not remove s3://${this.target.bucket}/${key}: ${(err as Error).message}`);
      }
    }
  }

  /** Is the object already on the target with this content (as our metadata says; verification confirms)? */
  async present(key: string, plan: FilePlan): Promise<{ etag?: string; versionId?: string } | null> {
    try {
      const head = await this.retrying(`head s3://${this.target.bucket}/${key}`, () =>
        this.target.s3.send(new HeadObjectCommand({ Bucket: this.target.bucket, Key: key })),
      );
      if (head.ContentLength === plan.size && head.Metadata?.[SHA256_METADATA] === plan.sha256)
        return { etag: head.ETag, versionId: head.VersionId };
      return null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async transferFile(plan: FilePlan, seen: SourceObject, force: boolean): Promise<FileSyncReport> {
    const key = this.key(plan.path);
    this.progress.update((s) => (s.currentFile = plan.path));
    const report: FileSyncReport = {
      path: plan.path,
      key,
      size: plan.size,
      layout: plan.layout,
      action: 'uploaded',
      parts: plan.parts.length,
      partsSent: 0,
      partsKept: 0,
      partsResent: 0,
      partsCheckedAgainstSource: 0,
      sentPartNumbers: [],
      ...(plan.note ? { note: plan.note } : {}),
    };
    if (!force) {
      const there = await this.present(key, plan);
      if (there) {
        this.progress.update((s) => {
          s.keptBytes += plan.size;
          s.partsKept += plan.parts.length;
        });
        return {
          ...report,
          action: 'kept',
          partsKept: plan.parts.length,
          etag: there.etag,
          versionId: there.versionId,
        };
      }
    }
    const reader = new SequentialRangeReader((start) =>
      this.retrying(`open source ${plan.path} at byte ${start}`, () =>
        this.source.openFrom(plan.path, seen, start),
      ),
    );
    const readPart = (part: PlannedPart) =>
      this.retrying(`read source ${plan.path} part ${part.partNumber}`, async () => {
        const data = await reader.read(part.offset, part.size);
        this.readFromSource += data.length;
        return data;
      });
    try {
      if (plan.layout === 'single') return await this.putSingle(plan, key, readPart, report);
      return await this.putMultipart(plan, key, readPart, report);
    } finally {
      await reader.close();
    }
  }

  async putSingle(
    plan: FilePlan,
    key: string,
    readPart: (p: PlannedPart) => Promise<Buffer>,
    report: FileSyncReport,
  ): Promise<FileSyncReport> {
    const part = plan.parts[0]!;
    const data = await readPart(part);
    const sha = sha256Hex(data);
    if (sha !== plan.sha256)
      throw sourceMismatch(this.source.location, [
        { path: plan.path, problem: 'sha256', expected: plan.sha256, actual: sha },
      ]);
    const md5 = md5Hex(data);
    const put = await this.retrying(
      `upload ${plan.path}`,
      async () => {
        const res = await this.target.s3.send(
          new PutObjectCommand({
            Bucket: this.target.bucket,
            Key: key,
            Body: data,
            ContentLength: data.length,
            ContentMD5: hexToB64(md5),
            ChecksumSHA256: hexToB64(sha),
            Metadata: { [SHA256_METADATA]: plan.sha256 },
          }),
        );
        this.progress.update((s) => (s.sentBytes += data.length));
        const stored = b64ToHex(res.ChecksumSHA256);
        if (
          (stored && stored !== sha) ||
          (etagIsMd5For(res.ServerSideEncryption) && stripQuotes(res.ETag) !== md5)
        ) {
          // Remove the damaged version now; the retry writes a good one.
          if (res.VersionId)
            await this.target.s3
              .send(
                new DeleteObjectCommand({ Bucket: this.target.bucket, Key: key, VersionId: res.VersionId }),
              )
              .catch(() => undefined);
          throw new PartCorruptedError(
            `S3 stored ${plan.path} with ETag ${stripQuotes(res.ETag)}, sent MD5 ${md5}`,
          );
        }
        return res;
      },
      {
        retryAlso: isPartCorruption,
        onRetry: (e) => (report.partsResent += isPartCorruption(e.error) ? 1 : 0),
      },
    );
    this.created.push({ key, ...(put.VersionId ? { versionId: put.VersionId } : {}) });
    this.progress.update((s) => s.partsSent++);
    return { ...report, partsSent: 1, sentPartNumbers: [1], etag: put.ETag, versionId: put.VersionId };
  }

  async listParts(key: string, uploadId: string): Promise<ListedPart[]> {
    const parts: ListedPart[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.retrying(`list parts of ${key}`, () =>
        this.target.s3.send(
          new ListPartsCommand({
            Bucket: this.target.bucket,
            Key: key,
            UploadId: uploadId,
            ...(marker ? { PartNumberMarker: marker } : {}),
          }),
        ),
      );
      for (const p of page.Parts ?? []) {
        const sha = b64ToHex(p.ChecksumSHA256);
        parts.push({
          partNumber: p.PartNumber!,
          size: p.Size ?? 0,
          etag: stripQuotes(p.ETag),
          ...(sha ? { sha256: sha } : {}),
        });
      }
      if (!page.IsTruncated || !page.NextPartNumberMarker || page.NextPartNumberMarker === marker) break;
      marker = page.NextPartNumberMarker;
    }
    return parts;
  }

  /** Pending multipart uploads of exactly this key that used SHA-256 part checksums. */
  async pendingUploads(key: string): Promise<string[]> {
    const ids: string[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.retrying(`list uploads of ${key}`, () =>
        this.target.s3.send(
          new ListMultipartUploadsCommand({
            Bucket: this.target.bucket,
            Prefix: key,
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
        ),
      );
      for (const u of page.Uploads ?? [])
        if (u.Key === key && u.UploadId && u.ChecksumAlgorithm === 'SHA256') ids.push(u.UploadId);
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
    return ids;
  }

  async abort(key: string, uploadId: string) {
    try {
      await this.target.s3.send(
        new AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: key, UploadId: uploadId }),
      );
    } catch (err) {
      if ((err as Error).name !== 'NoSuchUpload') throw err;
    }
  }

  async putMultipart(
    plan: FilePlan,
    key: string,
    readPart: (p: PlannedPart) => Promise<Buffer>,
    report: FileSyncReport,
  ): Promise<FileSyncReport> {
    const s3 = this.target.s3;
    const bucket = this.target.bucket;
    const jkey: JournalKey = {
      bucket,
      key,
      fileSha256: plan.sha256,
      size: plan.size,
      layout: layoutFingerprint(plan.parts.map((p) => p.size)),
    };

    // Resume: the journal's upload if S3 still has it, else a pending upload of the key, else a new one.
    let entry: JournalEntry | undefined = await this.journal.load(jkey);
    let listed: ListedPart[] = [];
    let uploadId: string | undefined;
    const pending = await this.pendingUploads(key);
    if (entry && pending.includes(entry.uploadId)) {
      uploadId = entry.uploadId;
      listed = await this.listParts(key, uploadId);
    } else if (entry) {
      await this.journal.remove(jkey);
      entry = undefined;
    }
    for (const candidate of uploadId ? [] : pending) {
      try {
        listed = await this.listParts(key, candidate);
        uploadId = candidate;
        break;
      } catch (err) {
        if ((err as Error).name !== 'NoSuchUpload') throw err;
      }
    }
    let etagIsMd5 = entry?.etagIsMd5 ?? true;
    if (!uploadId) {
      const created = await this.retrying(`start the upload of ${plan.path}`, () =>
        s3.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            ChecksumAlgorithm: 'SHA256',
            ContentType: 'application/octet-stream',
            Metadata: { [SHA256_METADATA]: plan.sha256 },
          }),
        ),
      );
      uploadId = created.UploadId!;
      etagIsMd5 = etagIsMd5For(created.ServerSideEncryption);
      listed = [];
    }
    entry ??= {
      version: 1,
      ...jkey,
      uploadId,
      checksumAlgorithm: 'SHA256',
      etagIsMd5,
      parts: {},
      updatedAt: new Date().toISOString(),
    };
    const journalEntry = entry;
    let journalWrite: Promise<void> = this.journal.save(journalEntry);
    const record = (n: number, part: { size: number; md5: string; sha256: string }) => {
      journalEntry.parts[String(n)] = part;
      journalEntry.updatedAt = new Date().toISOString();
      journalWrite = journalWrite.then(() => this.journal.save(journalEntry));
      return journalWrite;
    };

    const decisions = decideParts(plan.parts, listed, entry.parts, { etagIsMd5 });
    const resumed = listed.length > 0;
    if (resumed) {
      const reuse = decisions.filter((d) => d.action === 'reuse').length;
      const check = decisions.filter((d) => d.action === 'check-source').length;
      const listedNumbers = new Set(listed.map((p) => p.partNumber));
      const rejected = decisions.filter((d) => d.action === 'send' && listedNumbers.has(d.partNumber));
      this.progress.note(
        `${plan.path}: resuming upload ${uploadId.slice(0, 12)}…: ${listed.length} part(s) on the target, ${reuse} verified and kept, ${check} to compare with the source, ${rejected.length} damaged or stale (${rejected.map((d) => d.partNumber).join(', ') || 'none'}) to send again`,
      );
    }

    // Per part: ETag, SHA-256, MD5 of what the target holds, filled as parts are kept or sent.
    const done = new Map<number, { etag: string; sha256: string }>();
    const keep = (part: PlannedPart, etag: string, sha256: string) => {
      done.set(part.partNumber, { etag, sha256 });
      report.partsKept++;
      this.progress.update((s) => {
        s.partsKept++;
        s.keptBytes += part.size;
      });
    };
    const sent = new Set<number>();
    const whole = plan.layout === 'fixed' ? createHash('sha256') : undefined;
    const pool = new TaskPool(this.concurrency);

    const abortRefused = async (mismatches: ManifestMismatch[]) => {
      await pool.settle();
      await this.abort(key, uploadId);
      await journalWrite.catch(() => undefined);
      await this.journal.remove(jkey);
      return sourceMismatch(this.source.location, mismatches);
    };

    try {
      for (const part of plan.parts) {
        if (pool.failed) break;
        const decision: PartDecision = decisions[part.partNumber - 1]!;
        // Parts already verified on the target are not read again, unless the whole-file hash needs their bytes.
        if (decision.action === 'reuse' && !whole) {
          keep(part, decision.etag, decision.sha256);
          continue;
        }
        const data = await readPart(part);
        whole?.update(data);
        const sha = sha256Hex(data);
        if (part.sha256 && sha !== part.sha256)
          throw await abortRefused([
            {
              path: plan.path,
              problem: 'part-sha256',
              part: part.partNumber - 1,
              expected: part.sha256,
              actual: sha,
            },
          ]);
        if (decision.action === 'reuse' && decision.sha256 === sha) {
          keep(part, decision.etag, decision.sha256);
          continue;
        }
        const md5 = md5Hex(data);
        if (decision.action === 'check-source' && decision.etag === md5) {
          report.partsCheckedAgainstSource++;
          keep(part, decision.etag, sha);
          await record(part.partNumber, { size: part.size, md5, sha256: sha });
          continue;
        }
        await pool.run(async () => {
          const etag = await this.uploadPart(plan, key, uploadId, part, data, sha, md5, etagIsMd5, report);
          done.set(part.partNumber, { etag, sha256: sha });
          sent.add(part.partNumber);
          report.partsSent++;
          this.progress.update((s) => s.partsSent++);
          await record(part.partNumber, { size: part.size, md5, sha256: sha });
        });
      }
      await pool.drain();
    } catch (err) {
      await pool.settle();
      await journalWrite.catch(() => undefined);
      throw err;
    }
    await journalWrite;

    if (whole) {
      const actual = whole.digest('hex');
      if (actual !== plan.sha256)
        throw await abortRefused([{ path: plan.path, problem: 'sha256', expected: plan.sha256, actual }]);
    }

    // S3 must now list exactly the parts we kept or sent, with the same ETags and sizes.
    const final = new Map((await this.listParts(key, uploadId)).map((p) => [p.partNumber, p]));
    const off = plan.parts.filter((p) => {
      const listedPart = final.get(p.partNumber);
      return !listedPart || listedPart.size !== p.size || listedPart.etag !== done.get(p.partNumber)?.etag;
    });
    if (off.length > 0)
      throw new PartCorruptedError(
        `${plan.path}: parts ${off.map((p) => p.partNumber).join(', ')} changed on the target before completion; run the sync again`,
        { key, uploadId },
      );

    const partsDone = plan.parts.map((p) => ({
      PartNumber: p.partNumber,
      ETag: `"${done.get(p.partNumber)!.etag}"`,
      ChecksumSHA256: hexToB64(done.get(p.partNumber)!.sha256),
    }));
    const expectedEtag = etagIsMd5
      ? multipartEtag(
          partsDone.map((p) => stripQuotes(p.ETag)),
          md5Hex,
        )
      : undefined;
    const completeStarted = Date.now();
    const completed = await this.retrying(`complete the upload of ${plan.path}`, async () => {
      try {
        const res = await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: partsDone },
          }),
        );
        return { etag: res.ETag, versionId: res.VersionId };
      } catch (err) {
        // A retried Complete whose first attempt succeeded: the object is there, the upload gone.
        if ((err as Error).name === 'NoSuchUpload') {
          const head = await s3
            .send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
            .catch(() => undefined);
          if (head && expectedEtag && stripQuotes(head.ETag) === expectedEtag)
            return { etag: head.ETag, versionId: head.VersionId };
        }
        throw err;
      }
    });
    this.created.push({ key, ...(completed.versionId ? { versionId: completed.versionId } : {}) });
    if (expectedEtag && stripQuotes(completed.etag) !== expectedEtag)
      throw new PartCorruptedError(
        `${plan.path}: completed object has ETag ${stripQuotes(completed.etag)}, expected ${expectedEtag}`,
      );
    await this.journal.remove(jkey);
    // Other pending uploads of this key (abandoned runs) can never be completed usefully now.
    for (const other of pending) if (other !== uploadId) await this.abort(key, other).catch(() => undefined);

    return {
      ...report,
      action: report.partsKept > 0 ? 'resumed' : 'uploaded',
      sentPartNumbers: [...sent].sort((a, b) => a - b),
      etag: completed.etag,
      versionId: completed.versionId,
      completeMs: Date.now() - completeStarted,
    };
  }

  async uploadPart(
    plan: FilePlan,
    key: string,
    uploadId: string,
    part: PlannedPart,
    data: Buffer,
    sha: string,
    md5: string,
    etagIsMd5: boolean,
    report: FileSyncReport,
  ): Promise<string> {
    return this.retrying(
      `${plan.path} part ${part.partNumber}`,
      async () => {
        const res = await this.target.s3.send(
          new UploadPartCommand({
            Bucket: this.target.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: part.partNumber,
            Body: data,
            ContentLength: data.length,
            ContentMD5: hexToB64(md5),
            ChecksumSHA256: hexToB64(sha),
          }),
        );
        this.progress.update((s) => (s.sentBytes += data.length));
        const etag = stripQuotes(res.ETag);
        const stored = b64ToHex(res.ChecksumSHA256);
        if (stored && stored !== sha)
          throw new PartCorruptedError(`S3's SHA-256 of the part is ${stored}, sent ${sha}`);
        if (etagIsMd5 && etag !== md5) throw new PartCorruptedError(`S3 stored MD5 ${etag}, sent ${md5}`);
        return etag;
      },
      {
        retryAlso: isPartCorruption,
        onRetry: (e) => (report.partsResent += isPartCorruption(e.error) ? 1 : 0),
      },
    );
  }
}

/** Syncs the manifest under `source` and its files to `target`; see the module comment. */
export function syncManifest(opts: SyncOptions): Promise<SyncResult> {
  return new Sync(opts).run();
}

export interface VerifyObjectsOptions {
  s3: S3Like;
  bucket: string;
  /** Prefix the manifest's paths are relative to. */
  prefix: string;
  manifest: Manifest;
  /** Read these versions (those a sync just wrote). */
  pins?: Map<string, { versionId?: string | undefined }>;
  onBytes?: (n: number) => void;
}

async function* counted(chunks: AsyncIterable<Uint8Array>, onBytes?: (n: number) => void): ByteChunks {
  for await (const chunk of chunks) {
    onBytes?.(chunk.length);
    yield chunk;
  }
}

/** Streams each listed object of the bucket through the manifest's checks (size, SHA-256, parts). */
export function verifyObjects(opts: VerifyObjectsOptions): Promise<VerifiedFile[]> {
  return verifyAgainstManifest(opts.manifest, async (file) => {
    const versionId = opts.pins?.get(file.path)?.versionId;
    try {
      const object = await opts.s3.send(
        new GetObjectCommand({
          Bucket: opts.bucket,
          Key: joinKey(opts.prefix, file.path),
          ...(versionId ? { VersionId: versionId } : {}),
        }),
      );
      return counted(object.Body as Readable, opts.onBytes);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  });
}

export interface VerifyInBucketOptions {
  s3: S3Like;
  bucket: string;
  /** Key of the manifest; its files are read relative to the manifest's "directory". */
  manifestKey: string;
  progress?: ProgressSink;
}

export interface VerifyReport {
  ok: true;
  bucket: string;
  manifestKey: string;
  kind: string;
  createdAt: string;
  files: VerifiedFile[];
  bytes: number;
  durationMs: number;
}

/** `verify`: reads a manifest from a bucket and verifies every file it lists; throws ManifestMismatchError if any differs. */
export async function verifyManifestInBucket(opts: VerifyInBucketOptions): Promise<VerifyReport> {
  const started = Date.now();
  const progress = opts.progress ?? silentSyncProgress();
  await assertBucketExists(opts.s3, opts.bucket, 'verified');
  let text: string;
  try {
    const object = await opts.s3.send(new GetObjectCommand({ Bucket: opts.bucket, Key: opts.manifestKey }));
    text = await object.Body!.transformToString('utf8');
  } catch (err) {
    if (isNotFound(err))
      throw new ManifestNotFoundError(`no manifest at s3://${opts.bucket}/${opts.manifestKey}`, {
        key: opts.manifestKey,
      });
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const manifest = parseManifest(json, `manifest s3://${opts.bucket}/${opts.manifestKey}`);
  const total = manifest.files.reduce((n, f) => n + f.size, 0);
  progress.update((s) => {
    s.phase = 'verify';
    s.totalBytes = total;
    s.verifyTotalBytes = total;
    s.verifyStartedAt = Date.now();
  });
  try {
    const files = await verifyObjects({
      s3: opts.s3,
      bucket: opts.bucket,
      prefix: prefixOfKey(opts.manifestKey),
      manifest,
      onBytes: (n) => progress.update((s) => (s.verifiedBytes += n)),
    });
    return {
      ok: true,
      bucket: opts.bucket,
      manifestKey: opts.manifestKey,
      kind: manifest.kind,
      createdAt: manifest.createdAt,
      files,
      bytes: total,
      durationMs: Date.now() - started,
    };
  } finally {
    progress.finish();
  }
}
