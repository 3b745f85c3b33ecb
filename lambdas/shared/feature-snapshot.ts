import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { buildManifest, digestStream, type Manifest, type ManifestFile } from './manifest';

/**
 * Feature snapshots: the hot keys of the online feature cache (Redis) as JSON lines in
 * object storage, with a manifest written last (its presence marks the snapshot
 * complete). The failover hydrates the promoted Redis from the latest one; drills and
 * tests write one before failing over.
 *
 * Layout: `<prefix><snapshot id>/features-00000.jsonl`, …, `<prefix><snapshot id>/manifest.json`.
 * Snapshot ids start with a UTC timestamp, so the latest snapshot sorts last.
 */
export const FEATURE_SNAPSHOT_PREFIX = 'feature-snapshots/';
export const FEATURE_SNAPSHOT_KIND = 'feature-snapshot';
export const MANIFEST_FILE_NAME = 'manifest.json';

/** `20250102T030405678Z-1a2b3c4d`: UTC time to the millisecond, then randomness. */
export const SNAPSHOT_ID_PATTERN = /^\d{8}T\d{9}Z-[0-9a-f]{8}$/;

const ttl = z.number().positive().finite().optional();
/**
 * One cached key. `ttl` is the time to live, in seconds, that the key had left when the
 * snapshot was taken (manifest `createdAt`); replay expires it at createdAt + ttl.
 */
export const FeatureRecordSchema = z.union([
  z
    .object({
      key: z.string().min(1),
      fields: z
        .record(z.string(), z.string())
        .refine((f) => Object.keys(f).length > 0, 'a hash needs at least one field'),
      ttl,
    })
    .strict(),
  z.object({ key: z.string().min(1), value: z.string(), ttl }).strict(),
]);
export type FeatureRecord = z.infer<typeof FeatureRecordSchema>;

export function newSnapshotId(at: Date = new Date()): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

export function snapshotObjectKey(prefix: string, snapshotId: string, file: string): string {
  return `${prefix}${snapshotId}/${file}`;
}

export function dataFileName(index: number): string {
  return `features-${String(index).padStart(5, '0')}.jsonl`;
}

export interface WriteFeatureSnapshotOptions {
  s3: S3Client;
  bucket: string;
  records: Iterable<FeatureRecord> | AsyncIterable<FeatureRecord>;
  /** @default FEATURE_SNAPSHOT_PREFIX */
  prefix?: string;
  /** @default 100_000 */
  recordsPerFile?: number;
  /** Hash files in parts of this many bytes as well (for multipart sync); @default none */
  partSize?: number;
  /** @default newSnapshotId(createdAt) */
  id?: string;
  createdAt?: Date;
  metadata?: Record<string, unknown>;
}

export interface WrittenFeatureSnapshot {
  id: string;
  bucket: string;
  manifestKey: string;
  manifest: Manifest;
}

/** Streams the records to JSON-lines files on local disk, hashing them, so nothing is held in memory. */
async function writeLocalFiles(
  dir: string,
  records: WriteFeatureSnapshotOptions['records'],
  recordsPerFile: number,
) {
  const files: { name: string; records: number }[] = [];
  let out: fs.WriteStream | undefined;
  const closeOut = async () => {
    if (!out) return;
    out.end();
    await once(out, 'finish');
    out = undefined;
  };
  let total = 0;
  try {
    for await (const record of records) {
      const parsed = FeatureRecordSchema.parse(record);
      if (!out || files.at(-1)!.records >= recordsPerFile) {
        await closeOut();
        const name = dataFileName(files.length);
        files.push({ name, records: 0 });
        out = fs.createWriteStream(path.join(dir, name));
      }
      if (!out.write(`${JSON.stringify(parsed)}\n`)) await once(out, 'drain');
      files.at(-1)!.records += 1;
      total += 1;
    }
    await closeOut();
  } catch (err) {
    if (out) {
      out.destroy();
      await once(out, 'close');
    }
    throw err;
  }
  return { files, total };
}

/**
 * Writes a feature snapshot: data files first, each uploaded with its SHA-256 for S3 to
 * check, then the manifest. A reader never sees a manifest whose files are not all there.
 */
export async function writeFeatureSnapshot(
  opts: WriteFeatureSnapshotOptions,
): Promise<WrittenFeatureSnapshot> {
  const prefix = opts.prefix ?? FEATURE_SNAPSHOT_PREFIX;
  const createdAt = opts.createdAt ?? new Date();
  const id = opts.id ?? newSnapshotId(createdAt);
  const recordsPerFile = opts.recordsPerFile ?? 100_000;
  if (!Number.isInteger(recordsPerFile) || recordsPerFile < 1)
    throw new RangeError('recordsPerFile must be a positive integer');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'feature-snapshot-'));
  try {
    const { files, total } = await writeLocalFiles(dir, opts.records, recordsPerFile);
    const entries: ManifestFile[] = [];
    for (const file of files) {
      const local = path.join(dir, file.name);
      const digest = await digestStream(
        fs.createReadStream(local),
        opts.partSize ? { partSize: opts.partSize } : {},
      );
      await opts.s3.send(
        new PutObjectCommand({
          Bucket: opts.bucket,
          Key: snapshotObjectKey(prefix, id, file.name),
          Body: fs.createReadStream(local),
          ContentLength: digest.size,
          ContentType: 'application/x-ndjson',
          ChecksumSHA256: Buffer.from(digest.sha256, 'hex').toString('base64'),
        }),
      );
      entries.push({
        path: file.name,
        size: digest.size,
        sha256: digest.sha256,
        ...(digest.parts && digest.parts.length > 1 ? { parts: digest.parts } : {}),
      });
    }
    const manifest = buildManifest({
      kind: FEATURE_SNAPSHOT_KIND,
      createdAt,
      files: entries,
      metadata: {
        ...opts.metadata,
        snapshotId: id,
        recordCount: total,
        recordsByFile: Object.fromEntries(files.map((f) => [f.name, f.records])),
      },
    });
    const manifestKey = snapshotObjectKey(prefix, id, MANIFEST_FILE_NAME);
    await opts.s3.send(
      new PutObjectCommand({
        Bucket: opts.bucket,
        Key: manifestKey,
        Body: JSON.stringify(manifest, null, 2),
        ContentType: 'application/json',
      }),
    );
    return { id, bucket: opts.bucket, manifestKey, manifest };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
