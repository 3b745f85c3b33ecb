import type { ManifestFile } from '../../lambdas/shared/manifest';

/**
 * How one file is cut into the parts of a multipart upload. Pure: no I/O.
 *
 * When the manifest already lists the file's parts and that layout is one S3 accepts, the
 * upload uses exactly those parts, so every part read from the source is checked against
 * its manifest SHA-256 before it is sent and a resumed upload needs no re-read of the
 * parts already sent. Otherwise the file is cut into fixed-size parts of `partSize`.
 */
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** S3's multipart limits (the same on AWS and moto). */
export const S3_LIMITS = {
  /** Every part but the last must have at least this many bytes. */
  minPartSize: 5 * MiB,
  maxPartSize: 5 * GiB,
  maxParts: 10_000,
  /** A single PutObject takes at most this many bytes. */
  maxSinglePut: 5 * GiB,
} as const;

export const DEFAULT_PART_SIZE = 8 * MiB;

export interface PlannedPart {
  /** S3's 1-based part number. */
  partNumber: number;
  offset: number;
  size: number;
  /** The part's SHA-256 from the manifest when the manifest's layout is used. */
  sha256?: string;
}

export type PartLayout =
  /** The manifest's own parts: each one is verified against its SHA-256 before it is sent. */
  | 'manifest'
  /** Fixed-size parts of the configured part size; the file's SHA-256 is checked in order. */
  | 'fixed'
  /** Small enough for one PutObject (size ≤ part size): checked whole before it is sent. */
  | 'single';

export interface FilePlan {
  path: string;
  size: number;
  sha256: string;
  layout: PartLayout;
  parts: PlannedPart[];
  /** Why the manifest's layout was not used, when it exists and was not. */
  note?: string;
}

export class PartPlanError extends Error {
  override name = 'PartPlanError';
}

/** Checks a configured part size against S3's limits. */
export function validatePartSize(partSize: number): number {
  if (!Number.isInteger(partSize) || partSize < S3_LIMITS.minPartSize || partSize > S3_LIMITS.maxPartSize)
    throw new PartPlanError(
      `part size must be a whole number of bytes between ${S3_LIMITS.minPartSize / MiB} MiB and ${S3_LIMITS.maxPartSize / GiB} GiB, got ${partSize}`,
    );
  return partSize;
}

/** `--part-size` in MiB (decimals allowed) → bytes, validated. */
export function partSizeFromMiB(text: string): number {
  const mib = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !Number.isFinite(mib))
    throw new PartPlanError(`--part-size must be a number of MiB, got '${text}'`);
  return validatePartSize(Math.round(mib * MiB));
}

/** Why S3 would refuse this part layout, or undefined if it would take it. */
export function layoutProblem(parts: readonly { size: number }[]): string | undefined {
  if (parts.length > S3_LIMITS.maxParts) return `${parts.length} parts exceed S3's ${S3_LIMITS.maxParts}`;
  for (let i = 0; i < parts.length; i++) {
    const size = parts[i]!.size;
    if (size > S3_LIMITS.maxPartSize) return `part ${i} has ${size} bytes, more than S3's 5 GiB`;
    if (i < parts.length - 1 && size < S3_LIMITS.minPartSize)
      return `part ${i} has ${size} bytes; S3 needs 5 MiB or more in every part but the last`;
  }
  return undefined;
}

/** Fixed-size parts covering `size` bytes; the last one takes the remainder. */
export function fixedParts(size: number, partSize: number): PlannedPart[] {
  const parts: PlannedPart[] = [];
  for (let offset = 0, n = 1; offset < size; offset += partSize, n++)
    parts.push({ partNumber: n, offset, size: Math.min(partSize, size - offset) });
  return parts;
}

export function planFile(file: ManifestFile, partSize: number = DEFAULT_PART_SIZE): FilePlan {
  validatePartSize(partSize);
  const base = { path: file.path, size: file.size, sha256: file.sha256 };
  let note: string | undefined;
  if (file.parts && file.parts.length > 1) {
    const problem = layoutProblem(file.parts);
    if (!problem)
      return {
        ...base,
        layout: 'manifest',
        parts: file.parts.map((p) => ({
          partNumber: p.index + 1,
          offset: p.offset,
          size: p.size,
          sha256: p.sha256,
        })),
      };
    note = `manifest parts not usable for a multipart upload (${problem}); using ${partSize}-byte parts`;
  }
  if (file.size <= partSize && file.size <= S3_LIMITS.maxSinglePut)
    return {
      ...base,
      layout: 'single',
      parts: [{ partNumber: 1, offset: 0, size: file.size, sha256: file.sha256 }],
      ...(note ? { note } : {}),
    };
  // Grow the part size when the file would need more than 10,000 parts.
  const effective = Math.max(partSize, Math.ceil(file.size / S3_LIMITS.maxParts));
  if (effective > S3_LIMITS.maxPartSize)
    throw new PartPlanError(`${file.path}: ${file.size} bytes is more than S3 can hold in one object`);
  if (effective !== partSize)
    note = `${note ? `${note}; ` : ''}part size raised to ${effective} bytes to stay within ${S3_LIMITS.maxParts} parts`;
  return { ...base, layout: 'fixed', parts: fixedParts(file.size, effective), ...(note ? { note } : {}) };
}
