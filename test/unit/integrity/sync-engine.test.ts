/**
 * The sync engine against an in-memory S3 that behaves like S3 where the engine relies on
 * it (ETag = MD5 of the bytes received, multipart ETag, versions, If-None-Match, ranges),
 * so every decision path runs in milliseconds. The same scenarios run against moto in
 * test/integration/data-sync.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  buildManifest,
  digestStream,
  ManifestInvalidError,
  ManifestMismatchError,
  type Manifest,
} from '../../../lambdas/shared/manifest';
import {
  BucketNotFoundError,
  ManifestConflictError,
  ManifestNotFoundError,
} from '../../../integrity/sync/errors';
import { syncManifest, SHA256_METADATA, type SyncOptions } from '../../../integrity/sync/engine';
import { FaultInjectingS3, SimulatedInterruptionError } from '../../../integrity/sync/fault-injection';
import { MemorySyncJournal } from '../../../integrity/sync/journal';
import { S3SyncSource, type S3Like } from '../../../integrity/sync/object-store';
import { MiB } from '../../../integrity/sync/part-plan';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

interface Version {
  versionId: string;
  body: Buffer;
  etag: string;
  metadata: Record<string, string>;
}
interface Upload {
  key: string;
  parts: Map<number, { body: Buffer; etag: string }>;
  metadata: Record<string, string>;
}
interface Bucket {
  objects: Map<string, Version[]>;
  uploads: Map<string, Upload>;
}

const s3Error = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

function bodyOf(data: Buffer) {
  return Object.assign(Readable.from([data]), {
    transformToString: async (enc: BufferEncoding = 'utf8') => data.toString(enc),
  });
}

/** The request fields the fake reads (all commands' inputs flattened). */
interface FakeInput {
  Bucket: string;
  Key: string;
  Range?: string;
  VersionId?: string;
  IfMatch?: string;
  IfNoneMatch?: string;
  Body?: Uint8Array | string;
  Metadata?: Record<string, string>;
  UploadId: string;
  PartNumber: number;
  Prefix?: string;
  ChecksumAlgorithm?: string;
  MultipartUpload: { Parts: { PartNumber: number; ETag: string }[] };
}

/** Just enough of S3 for the sync engine, with S3's semantics where they matter. */
class InMemoryS3 {
  readonly buckets = new Map<string, Bucket>();
  readonly log: string[] = [];
  private seq = 0;

  createBucket(name: string) {
    this.buckets.set(name, { objects: new Map(), uploads: new Map() });
  }
  put(bucket: string, key: string, body: Buffer | string, metadata: Record<string, string> = {}) {
    const data = Buffer.from(body);
    const b = this.bucket(bucket);
    const v = { versionId: `v${++this.seq}`, body: data, etag: md5(data), metadata };
    b.objects.set(key, [...(b.objects.get(key) ?? []), v]);
    return v;
  }
  latest(bucket: string, key: string): Version | undefined {
    return this.bucket(bucket).objects.get(key)?.at(-1);
  }
  keys(bucket: string) {
    return [...this.bucket(bucket).objects.keys()].sort();
  }
  private bucket(name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b) throw s3Error('NoSuchBucket', 404);
    return b;
  }

  send = (async (command: { constructor: { name: string }; input: FakeInput }) => {
    const op = command.constructor.name.replace(/Command$/, '');
    const i = command.input;
    this.log.push(`${op} ${i.Key ?? i.Bucket}${i.PartNumber ? `#${i.PartNumber}` : ''}`);
    switch (op) {
      case 'HeadBucket':
        if (!this.buckets.has(i.Bucket)) throw s3Error('NotFound', 404);
        return {};
      case 'GetObject':
      case 'HeadObject': {
        const versions = this.bucket(i.Bucket).objects.get(i.Key) ?? [];
        const v = i.VersionId ? versions.find((x) => x.versionId === i.VersionId) : versions.at(-1);
        if (!v) throw s3Error(op === 'HeadObject' ? 'NotFound' : 'NoSuchKey', 404);
        if (i.IfMatch && i.IfMatch.replace(/"/g, '') !== v.etag) throw s3Error('PreconditionFailed', 412);
        const base = { ETag: `"${v.etag}"`, VersionId: v.versionId, Metadata: v.metadata };
        if (op === 'HeadObject') return { ...base, ContentLength: v.body.length };
        let data = v.body;
        if (i.Range) {
          const [, a, b] = /^bytes=(\d+)-(\d+)$/.exec(i.Range)!;
          data = data.subarray(Number(a), Number(b) + 1);
        }
        return { ...base, ContentLength: data.length, Body: bodyOf(data) };
      }
      case 'PutObject': {
        if (i.IfNoneMatch === '*' && this.latest(i.Bucket, i.Key)) throw s3Error('PreconditionFailed', 412);
        const v = this.put(i.Bucket, i.Key, Buffer.from(i.Body ?? ''), i.Metadata ?? {});
        return { ETag: `"${v.etag}"`, VersionId: v.versionId };
      }
      case 'DeleteObject': {
        const b = this.bucket(i.Bucket);
        const left = (b.objects.get(i.Key) ?? []).filter((v) => i.VersionId && v.versionId !== i.VersionId);
        if (left.length) b.objects.set(i.Key, left);
        else b.objects.delete(i.Key);
        return {};
      }
      case 'CreateMultipartUpload': {
        const id = `upload-${++this.seq}`;
        this.bucket(i.Bucket).uploads.set(id, { key: i.Key, parts: new Map(), metadata: i.Metadata ?? {} });
        return { UploadId: id, ChecksumAlgorithm: i.ChecksumAlgorithm };
      }
      case 'UploadPart': {
        const u = this.bucket(i.Bucket).uploads.get(i.UploadId);
        if (!u) throw s3Error('NoSuchUpload', 404);
        const body = Buffer.from(i.Body ?? '');
        u.parts.set(i.PartNumber, { body, etag: md5(body) });
        return { ETag: `"${md5(body)}"` };
      }
      case 'ListParts': {
        const u = this.bucket(i.Bucket).uploads.get(i.UploadId);
        if (!u) throw s3Error('NoSuchUpload', 404);
        return {
          IsTruncated: false,
          Parts: [...u.parts]
            .sort(([a], [b]) => a - b)
            .map(([n, p]) => ({ PartNumber: n, ETag: `"${p.etag}"`, Size: p.body.length })),
        };
      }
      case 'ListMultipartUploads':
        return {
          IsTruncated: false,
          Uploads: [...this.bucket(i.Bucket).uploads]
            .filter(([, u]) => u.key.startsWith(i.Prefix ?? ''))
            .map(([id, u]) => ({ Key: u.key, UploadId: id, ChecksumAlgorithm: 'SHA256' })),
        };
      case 'CompleteMultipartUpload': {
        const b = this.bucket(i.Bucket);
        const u = b.uploads.get(i.UploadId);
        if (!u) throw s3Error('NoSuchUpload', 404);
        const parts = i.MultipartUpload.Parts;
        for (const p of parts)
          if (u.parts.get(p.PartNumber)?.etag !== p.ETag.replace(/"/g, '')) throw s3Error('InvalidPart', 400);
        const v = this.put(
          i.Bucket,
          i.Key,
          Buffer.concat(parts.map((p) => u.parts.get(p.PartNumber)!.body)),
          u.metadata,
        );
        const etag = `${md5(Buffer.concat(parts.map((p) => Buffer.from(p.ETag.replace(/"/g, ''), 'hex'))))}-${parts.length}`;
        v.etag = etag;
        b.uploads.delete(i.UploadId);
        return { ETag: `"${etag}"`, VersionId: v.versionId };
      }
      case 'AbortMultipartUpload':
        this.bucket(i.Bucket).uploads.delete(i.UploadId);
        return {};
      default:
        throw new Error(`InMemoryS3 does not implement ${op}`);
    }
  }) as unknown as S3Like['send'];
}

const PART = 5 * MiB;
const big = randomBytes(3 * PART + 1234); // 4 parts
const small = Buffer.from('{"key":"feature:x","value":"1"}\n');

async function entry(path: string, data: Buffer, partSize?: number) {
  const d = await digestStream(Readable.from([data]), partSize ? { partSize } : {});
  return {
    path,
    size: d.size,
    sha256: d.sha256,
    ...(d.parts && d.parts.length > 1 ? { parts: d.parts } : {}),
  };
}

async function world(opts: { withParts?: boolean } = {}) {
  const s3 = new InMemoryS3();
  s3.createBucket('src');
  s3.createBucket('dst');
  const manifest: Manifest = buildManifest({
    kind: 'artifact-sync',
    files: [
      await entry('big.bin', big, opts.withParts === false ? undefined : PART),
      await entry('small.jsonl', small),
    ],
    createdAt: new Date('2026-01-01T00:00:00Z'),
  });
  s3.put('src', 'p/big.bin', big);
  s3.put('src', 'p/small.jsonl', small);
  s3.put('src', 'p/manifest.json', JSON.stringify(manifest));
  const options = (target: S3Like = s3, extra: Partial<SyncOptions> = {}): SyncOptions => ({
    source: new S3SyncSource(s3, 'src', 'p/'),
    target: { s3: target, bucket: 'dst', prefix: 'q/' },
    partSize: PART,
    concurrency: 2,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    ...extra,
  });
  return { s3, manifest, options };
}

describe('sync engine (in-memory S3)', () => {
  test('copies every file, verifies it, and writes the manifest last', async () => {
    const { s3, options } = await world();
    const result = await syncManifest(options());
    expect(result).toMatchObject({
      status: 'synced',
      manifestWritten: true,
      parts: { total: 5, sent: 5, kept: 0, resent: 0 },
      bytes: { total: big.length + small.length, verified: big.length + small.length },
    });
    expect(s3.latest('dst', 'q/big.bin')!.body.equals(big)).toBe(true);
    expect(s3.latest('dst', 'q/big.bin')!.metadata[SHA256_METADATA]).toBe(result.verified[0]!.sha256);
    const writes = s3.log.filter((l) => /^(PutObject|CompleteMultipartUpload) q\//.test(l));
    expect(writes).toEqual([
      'CompleteMultipartUpload q/big.bin',
      'PutObject q/small.jsonl',
      'PutObject q/manifest.json',
    ]);
    // The manifest is written once every file has been read back (GetObject of each data file before it).
    const manifestWrite = s3.log.indexOf('PutObject q/manifest.json');
    expect(s3.log.lastIndexOf('GetObject q/big.bin')).toBeLessThan(manifestWrite);
    expect(s3.log.lastIndexOf('GetObject q/small.jsonl')).toBeLessThan(manifestWrite);
  });

  test('an interrupted sync resumes from the journal without sending completed parts again', async () => {
    const { s3, options } = await world();
    const journal = new MemorySyncJournal();
    const first = new FaultInjectingS3(s3, { interruptAfterParts: 2 });
    await expect(syncManifest(options(first, { journal, concurrency: 1 }))).rejects.toThrow(
      SimulatedInterruptionError,
    );
    expect(s3.latest('dst', 'q/manifest.json')).toBeUndefined();
    const second = new FaultInjectingS3(s3);
    const result = await syncManifest(options(second, { journal }));
    const firstParts = [...first.putsByPart('q/big.bin').keys()];
    const secondParts = [...second.putsByPart('q/big.bin').keys()];
    expect(firstParts).toEqual([1, 2]);
    expect(secondParts.sort()).toEqual([3, 4]);
    expect(result.files[0]).toMatchObject({
      action: 'resumed',
      partsKept: 2,
      partsSent: 2,
      sentPartNumbers: [3, 4],
    });
    expect(s3.latest('dst', 'q/big.bin')!.body.equals(big)).toBe(true);
  });

  test('without a journal, parts already uploaded are compared with the source and kept, not re-sent', async () => {
    const { s3, options } = await world();
    const first = new FaultInjectingS3(s3, { interruptAfterParts: 3 });
    await expect(syncManifest(options(first, { concurrency: 1 }))).rejects.toThrow(
      SimulatedInterruptionError,
    );
    const second = new FaultInjectingS3(s3);
    const result = await syncManifest(options(second)); // fresh in-memory journal: no record
    expect([...second.putsByPart('q/big.bin').keys()]).toEqual([4]);
    expect(result.files[0]).toMatchObject({ partsCheckedAgainstSource: 3, partsKept: 3, partsSent: 1 });
  });

  test('a part damaged in transit is detected by its ETag and sent again', async () => {
    const { s3, options } = await world();
    const faulty = new FaultInjectingS3(s3, { corruptParts: [{ partNumber: 2, key: 'q/big.bin' }] });
    const result = await syncManifest(options(faulty));
    expect(faulty.putsByPart('q/big.bin').get(2)).toBe(2);
    expect(faulty.stats.corruptedInjected).toBe(1);
    expect(result.parts.resent).toBe(1);
    expect(s3.latest('dst', 'q/big.bin')!.body.equals(big)).toBe(true);
  });

  test('a part damaged on the target between runs is found on resume and sent again', async () => {
    const { s3, options } = await world();
    const journal = new MemorySyncJournal();
    await expect(
      syncManifest(
        options(new FaultInjectingS3(s3, { interruptAfterParts: 3 }), { journal, concurrency: 1 }),
      ),
    ).rejects.toThrow(SimulatedInterruptionError);
    const upload = [...s3.buckets.get('dst')!.uploads.values()][0]!;
    const damaged = Buffer.from(upload.parts.get(2)!.body);
    damaged[7]! ^= 1;
    upload.parts.set(2, { body: damaged, etag: md5(damaged) });
    const second = new FaultInjectingS3(s3);
    const result = await syncManifest(options(second, { journal }));
    expect([...second.putsByPart('q/big.bin').keys()].sort()).toEqual([2, 4]);
    expect(result.files[0]).toMatchObject({ partsKept: 2, partsSent: 2 });
    expect(s3.latest('dst', 'q/big.bin')!.body.equals(big)).toBe(true);
  });

  test('transient failures (503 SlowDown, connection reset) are retried', async () => {
    const { s3, options } = await world();
    const faulty = new FaultInjectingS3(s3, {
      transientFailures: [
        { command: 'UploadPart', partNumber: 3, times: 2 },
        { command: 'GetObject', times: 1, kind: 'ECONNRESET' },
        { command: 'CompleteMultipartUpload', times: 1, kind: 'InternalError' },
      ],
    });
    const result = await syncManifest(options(faulty));
    expect(result.retries).toBe(4);
    expect(faulty.stats.transientInjected).toEqual({
      UploadPart: 2,
      GetObject: 1,
      CompleteMultipartUpload: 1,
    });
    expect(result.parts.sent).toBe(5);
  });

  test.each([
    ['with manifest part hashes (refused at the part)', true],
    ['without part hashes (refused by the file hash before completion)', false],
  ])('a tampered source file is refused %s and nothing is left on the target', async (_what, withParts) => {
    const { s3, options } = await world({ withParts });
    const tampered = Buffer.from(big);
    tampered[3 * PART + 10]! ^= 0xff; // in the last part
    s3.put('src', 'p/big.bin', tampered);
    const err = await syncManifest(options()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestMismatchError);
    expect((err as ManifestMismatchError).mismatches[0]).toMatchObject({
      path: 'big.bin',
      problem: withParts ? 'part-sha256' : 'sha256',
    });
    expect(s3.keys('dst')).toEqual([]);
    expect(s3.buckets.get('dst')!.uploads.size).toBe(0);
  });

  test('a tampered small file in a later position removes what the refused run wrote', async () => {
    const { s3, options } = await world();
    s3.put('src', 'p/small.jsonl', Buffer.from(small).fill(0x41, 0, 3));
    await expect(syncManifest(options())).rejects.toThrow(ManifestMismatchError);
    expect(s3.keys('dst')).toEqual([]);
  });

  test('a missing or truncated source file is refused before anything is sent', async () => {
    const { s3, options } = await world();
    s3.buckets.get('src')!.objects.delete('p/small.jsonl');
    s3.put('src', 'p/big.bin', big.subarray(0, 100));
    const faulty = new FaultInjectingS3(s3);
    const err = (await syncManifest(options(faulty)).catch((e: unknown) => e)) as ManifestMismatchError;
    expect(err).toBeInstanceOf(ManifestMismatchError);
    expect(err.mismatches.map((m) => `${m.path}:${m.problem}`).sort()).toEqual([
      'big.bin:size',
      'small.jsonl:missing',
    ]);
    expect(faulty.stats.sent).toEqual([]);
    expect(s3.keys('dst')).toEqual([]);
  });

  test('missing buckets, a missing or malformed manifest, or one of another kind: clear errors', async () => {
    const { s3, options } = await world();
    await expect(syncManifest({ ...options(), target: { s3, bucket: 'nope', prefix: '' } })).rejects.toThrow(
      BucketNotFoundError,
    );
    await expect(syncManifest({ ...options(), source: new S3SyncSource(s3, 'nope', 'p/') })).rejects.toThrow(
      /source bucket nope does not exist/,
    );
    await expect(
      syncManifest({ ...options(), source: new S3SyncSource(s3, 'src', 'other/') }),
    ).rejects.toThrow(ManifestNotFoundError);
    await expect(syncManifest({ ...options(), expectKind: 'feature-snapshot' })).rejects.toThrow(
      ManifestInvalidError,
    );
    s3.put('src', 'p/manifest.json', '{"version":1}');
    await expect(syncManifest(options())).rejects.toThrow(ManifestInvalidError);
    expect(s3.keys('dst')).toEqual([]);
  });

  test('a different manifest already published on the target is not overwritten', async () => {
    const { s3, options } = await world();
    s3.put('dst', 'q/manifest.json', '{"something":"else"}');
    const faulty = new FaultInjectingS3(s3);
    await expect(syncManifest(options(faulty))).rejects.toThrow(ManifestConflictError);
    expect(faulty.stats.sent).toEqual([]);
  });

  test('a second sync of a published snapshot sends nothing; a damaged published file is repaired', async () => {
    const { s3, options } = await world();
    await syncManifest(options());
    const again = new FaultInjectingS3(s3);
    expect(await syncManifest(options(again))).toMatchObject({
      status: 'already-in-sync',
      manifestWritten: false,
    });
    expect(again.stats.sent).toEqual([]);

    s3.put('dst', 'q/small.jsonl', 'garbage\n');
    const repair = new FaultInjectingS3(s3);
    const result = await syncManifest(options(repair));
    expect(result.status).toBe('synced');
    expect(repair.stats.sent.map((p) => p.key)).toEqual(['q/small.jsonl']);
    expect(s3.latest('dst', 'q/small.jsonl')!.body.equals(small)).toBe(true);
  });
});
