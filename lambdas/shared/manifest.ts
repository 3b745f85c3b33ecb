import { createHash } from 'node:crypto';
import * as z from 'zod';
import { DrError } from './errors';
import { formatIssues } from './topology';

/**
 * One manifest format for everything that moves or restores files: cross-region sync,
 * backups and feature-snapshot hydration. A manifest lists every file with its size and
 * SHA-256 (and, for large files moved in parts, each part's byte range and SHA-256).
 * Nothing listed in a manifest is used before it has been verified against it.
 */
export const MANIFEST_VERSION = 1;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256');
const byteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const relativePath = z
  .string()
  .min(1)
  .refine(
    (p) =>
      !p.startsWith('/') &&
      !p.includes('\\') &&
      !p.split('/').some((s) => s === '' || s === '.' || s === '..'),
    {
      message: 'must be a relative path without empty, "." or ".." segments',
    },
  );

export const ManifestPartSchema = z
  .object({ index: z.number().int().nonnegative(), offset: byteCount, size: byteCount, sha256: sha256Hex })
  .strict();

export const ManifestFileSchema = z
  .object({
    path: relativePath,
    size: byteCount,
    sha256: sha256Hex,
    parts: z.array(ManifestPartSchema).min(1).optional(),
  })
  .strict()
  .superRefine((file, ctx) => {
    if (!file.parts) return;
    let expectedOffset = 0;
    file.parts.forEach((part, i) => {
      if (part.index !== i)
        ctx.addIssue({ code: 'custom', path: ['parts', i, 'index'], message: `expected index ${i}` });
      if (part.offset !== expectedOffset)
        ctx.addIssue({
          code: 'custom',
          path: ['parts', i, 'offset'],
          message: `expected offset ${expectedOffset} (parts must be contiguous)`,
        });
      expectedOffset = part.offset + part.size;
    });
    if (expectedOffset !== file.size)
      ctx.addIssue({
        code: 'custom',
        path: ['parts'],
        message: `parts cover ${expectedOffset} bytes, file size is ${file.size}`,
      });
  });

export const ManifestSchema = z
  .object({
    version: z.literal(MANIFEST_VERSION),
    /** What the files are, e.g. `feature-snapshot`, `postgres-base-backup`, `artifact-sync`. */
    kind: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    createdAt: z.string().datetime({ offset: true, message: 'must be an ISO-8601 timestamp' }),
    files: z.array(ManifestFileSchema).superRefine((files, ctx) => {
      const seen = new Set<string>();
      files.forEach((f, i) => {
        if (seen.has(f.path))
          ctx.addIssue({ code: 'custom', path: [i, 'path'], message: `duplicate path ${f.path}` });
        seen.add(f.path);
      });
    }),
    metadata: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestFile = z.infer<typeof ManifestFileSchema>;
export type ManifestPart = z.infer<typeof ManifestPartSchema>;

/** The manifest itself is malformed: nothing it lists can be trusted. */
export class ManifestInvalidError extends DrError {
  override name = 'ManifestInvalidError';
}

export interface ManifestMismatch {
  path: string;
  problem: 'missing' | 'size' | 'sha256' | 'part-sha256' | 'content';
  expected?: string | number;
  actual?: string | number;
  part?: number;
  detail?: string;
}

/** A file does not match its manifest entry (missing, truncated, tampered): refuse to use any of it. */
export class ManifestMismatchError extends DrError {
  override name = 'ManifestMismatchError';
  readonly mismatches: ManifestMismatch[];
  constructor(message: string, mismatches: ManifestMismatch[]) {
    super(message, { mismatches });
    this.mismatches = mismatches;
  }
}

export function parseManifest(input: unknown, source = 'manifest'): Manifest {
  const result = ManifestSchema.safeParse(input);
  if (!result.success)
    throw new ManifestInvalidError(`Invalid ${source}:\n${formatIssues(result.error.issues)}`, { source });
  return result.data;
}

export function buildManifest(input: {
  kind: string;
  files: ManifestFile[];
  metadata?: Record<string, unknown>;
  createdAt?: Date;
}): Manifest {
  return parseManifest({
    version: MANIFEST_VERSION,
    kind: input.kind,
    createdAt: (input.createdAt ?? new Date()).toISOString(),
    files: input.files,
    metadata: input.metadata ?? {},
  });
}

export function sha256Of(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export type ByteChunks = AsyncIterable<Uint8Array | string>;

export interface StreamDigest {
  size: number;
  sha256: string;
  /** Per-part digests, when a part layout or part size was asked for. */
  parts?: ManifestPart[];
}

/**
 * SHA-256 and size of a stream in one pass, holding one chunk at a time. With `partSize`
 * (or an explicit `partSizes` layout, e.g. a manifest's parts) it also hashes each part.
 * Bytes beyond an explicit layout are counted in `size` but belong to no part.
 */
export async function digestStream(
  chunks: ByteChunks,
  opts: { partSize?: number; partSizes?: number[] } = {},
): Promise<StreamDigest> {
  if (opts.partSize !== undefined && !(Number.isInteger(opts.partSize) && opts.partSize > 0))
    throw new RangeError('partSize must be a positive integer');
  const partSizeAt = (i: number): number | undefined => (opts.partSizes ? opts.partSizes[i] : opts.partSize);
  const withParts = opts.partSize !== undefined || opts.partSizes !== undefined;
  const whole = createHash('sha256');
  const parts: ManifestPart[] = [];
  let size = 0;
  let part = { index: 0, offset: 0, filled: 0, hash: createHash('sha256') };
  const closePart = () => {
    parts.push({
      index: part.index,
      offset: part.offset,
      size: part.filled,
      sha256: part.hash.digest('hex'),
    });
    part = {
      index: part.index + 1,
      offset: part.offset + part.filled,
      filled: 0,
      hash: createHash('sha256'),
    };
  };

  for await (const raw of chunks) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    whole.update(chunk);
    size += chunk.length;
    if (!withParts) continue;
    let at = 0;
    while (at < chunk.length) {
      const limit = partSizeAt(part.index);
      if (limit === undefined) break; // past the explicit layout
      const take = Math.min(limit - part.filled, chunk.length - at);
      part.hash.update(chunk.subarray(at, at + take));
      part.filled += take;
      at += take;
      if (part.filled === limit) closePart();
    }
  }
  if (withParts) {
    // A trailing partial part (the stream ended early, or the last part of a fixed part size).
    if (part.filled > 0) closePart();
    // A zero-byte file still has one (empty) part when parts were asked for by size.
    if (parts.length === 0 && opts.partSize !== undefined) closePart();
  }
  return { size, sha256: whole.digest('hex'), ...(withParts ? { parts } : {}) };
}

/** The manifest entry for a file, read once from a stream. */
export async function manifestEntryFor(
  path: string,
  chunks: ByteChunks,
  opts: { partSize?: number } = {},
): Promise<ManifestFile> {
  const digest = await digestStream(chunks, opts);
  return ManifestFileSchema.parse({
    path,
    size: digest.size,
    sha256: digest.sha256,
    ...(digest.parts && digest.parts.length > 1 ? { parts: digest.parts } : {}),
  });
}

/** Compares one file's digest with its manifest entry; an empty list means it matches. */
export function compareWithEntry(entry: ManifestFile, digest: StreamDigest): ManifestMismatch[] {
  const found: ManifestMismatch[] = [];
  if (digest.size !== entry.size)
    found.push({ path: entry.path, problem: 'size', expected: entry.size, actual: digest.size });
  if (digest.sha256 !== entry.sha256)
    found.push({ path: entry.path, problem: 'sha256', expected: entry.sha256, actual: digest.sha256 });
  for (const part of entry.parts ?? []) {
    const actual = digest.parts?.[part.index];
    if (!actual || actual.sha256 !== part.sha256 || actual.size !== part.size) {
      found.push({
        path: entry.path,
        problem: 'part-sha256',
        part: part.index,
        expected: part.sha256,
        actual: actual?.sha256 ?? 'absent',
      });
    }
  }
  return found;
}

export interface VerifiedFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Streams every file the manifest lists through `open` (null = the file does not exist)
 * and checks size, SHA-256 and each part's SHA-256. Every file is checked before this
 * decides; on any mismatch it throws ManifestMismatchError naming all of them.
 */
export async function verifyAgainstManifest(
  manifest: Manifest,
  open: (file: ManifestFile) => Promise<ByteChunks | null>,
): Promise<VerifiedFile[]> {
  const mismatches: ManifestMismatch[] = [];
  const verified: VerifiedFile[] = [];
  for (const file of manifest.files) {
    const chunks = await open(file);
    if (chunks === null) {
      mismatches.push({ path: file.path, problem: 'missing' });
      continue;
    }
    const digest = await digestStream(chunks, file.parts ? { partSizes: file.parts.map((p) => p.size) } : {});
    const problems = compareWithEntry(file, digest);
    if (problems.length > 0) mismatches.push(...problems);
    else verified.push({ path: file.path, size: digest.size, sha256: digest.sha256 });
  }
  if (mismatches.length > 0) {
    const summary = mismatches
      .map((m) => `${m.path}: ${m.problem}${m.part !== undefined ? ` (part ${m.part})` : ''}`)
      .join('; ');
    throw new ManifestMismatchError(
      `${mismatches.length} manifest mismatch(es) in ${manifest.kind} of ${manifest.createdAt}: ${summary}`,
      mismatches,
    );
  }
  return verified;
}
