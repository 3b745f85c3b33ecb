import type { JournalPart } from './journal';
import type { PlannedPart } from './part-plan';

/**
 * Which parts of an interrupted multipart upload can stay and which must be sent (again).
 * Pure: takes what S3 lists (ListParts), what the journal recorded when each part was sent,
 * and the plan. A listed part is kept only when something vouches for its content:
 * S3's own SHA-256 of the part equals the expected one, or its ETag equals the MD5 the
 * journal recorded for the bytes that were sent. Anything else is sent again, or, when no
 * record exists at all, re-read from the source and kept only if it matches (no re-send).
 */
export interface ListedPart {
  partNumber: number;
  size: number;
  /** Without quotes. */
  etag: string;
  /** S3's SHA-256 of the part, hex (AWS returns it for uploads created with ChecksumAlgorithm SHA256; moto does not). */
  sha256?: string;
}

export type PartDecision =
  | { partNumber: number; action: 'reuse'; reason: string; etag: string; sha256: string }
  | { partNumber: number; action: 'send'; reason: string }
  /** Read the source part and keep the uploaded one if its MD5 equals the ETag (and its SHA-256 the expected one). */
  | { partNumber: number; action: 'check-source'; reason: string; etag: string };

export interface ResumeOptions {
  /** ETags are the parts' MD5 (no SSE-KMS/SSE-C on the target). @default true */
  etagIsMd5?: boolean;
}

export const stripQuotes = (etag: string | undefined) => (etag ?? '').replace(/^"+|"+$/g, '');

export function decideParts(
  planned: readonly PlannedPart[],
  listed: readonly ListedPart[],
  journal: Readonly<Record<string, JournalPart>> | undefined,
  opts: ResumeOptions = {},
): PartDecision[] {
  const etagIsMd5 = opts.etagIsMd5 ?? true;
  const byNumber = new Map(listed.map((p) => [p.partNumber, p]));
  return planned.map((part): PartDecision => {
    const n = part.partNumber;
    const uploaded = byNumber.get(n);
    if (!uploaded) return { partNumber: n, action: 'send', reason: 'not uploaded yet' };
    if (uploaded.size !== part.size)
      return {
        partNumber: n,
        action: 'send',
        reason: `uploaded part has ${uploaded.size} bytes, the plan ${part.size}`,
      };
    const record = journal?.[String(n)];
    if (record && (record.size !== part.size || (part.sha256 && record.sha256 !== part.sha256)))
      return { partNumber: n, action: 'send', reason: 'the journal recorded other content for this part' };
    const expectedSha = part.sha256 ?? record?.sha256;
    if (uploaded.sha256) {
      if (!expectedSha)
        return {
          partNumber: n,
          action: 'check-source',
          reason: 'no expected SHA-256 to compare S3 checksum with',
          etag: uploaded.etag,
        };
      return uploaded.sha256 === expectedSha
        ? {
            partNumber: n,
            action: 'reuse',
            reason: "S3's SHA-256 matches",
            etag: uploaded.etag,
            sha256: expectedSha,
          }
        : { partNumber: n, action: 'send', reason: "S3's SHA-256 differs: damaged or other content" };
    }
    if (record && etagIsMd5) {
      return uploaded.etag === record.md5
        ? {
            partNumber: n,
            action: 'reuse',
            reason: 'ETag matches the journal',
            etag: uploaded.etag,
            sha256: record.sha256,
          }
        : { partNumber: n, action: 'send', reason: 'ETag differs from the bytes sent: damaged or replaced' };
    }
    if (!etagIsMd5)
      return { partNumber: n, action: 'send', reason: 'no checksum to verify the uploaded part with' };
    return {
      partNumber: n,
      action: 'check-source',
      reason: 'no record of what was sent: compare with the source',
      etag: uploaded.etag,
    };
  });
}

export interface DecisionSummary {
  reuse: number;
  send: number;
  checkSource: number;
  /** Parts S3 holds that will be sent again because they failed their check. */
  rejected: number;
}

export function summarizeDecisions(
  decisions: readonly PartDecision[],
  listed: readonly ListedPart[],
): DecisionSummary {
  const present = new Set(listed.map((p) => p.partNumber));
  const summary: DecisionSummary = { reuse: 0, send: 0, checkSource: 0, rejected: 0 };
  for (const d of decisions) {
    if (d.action === 'reuse') summary.reuse++;
    else if (d.action === 'check-source') summary.checkSource++;
    else {
      summary.send++;
      if (present.has(d.partNumber)) summary.rejected++;
    }
  }
  return summary;
}

/** The multipart ETag S3 gives a completed object: MD5 of the concatenated part MD5s, then `-<count>`. */
export function multipartEtag(partMd5Hex: readonly string[], md5: (data: Buffer) => string): string {
  return `${md5(Buffer.concat(partMd5Hex.map((h) => Buffer.from(h, 'hex'))))}-${partMd5Hex.length}`;
}
