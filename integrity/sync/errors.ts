import { DrError } from '../../lambdas/shared/errors';

/** A bucket named on the command line or in the call does not exist (or is not reachable as that name). */
export class BucketNotFoundError extends DrError {
  override name = 'BucketNotFoundError';
}

/** There is no manifest at the given key: nothing to sync or verify. */
export class ManifestNotFoundError extends DrError {
  override name = 'ManifestNotFoundError';
}

/** The target already holds a different manifest under the same key: refuse to overwrite a published one. */
export class ManifestConflictError extends DrError {
  override name = 'ManifestConflictError';
}

/**
 * A part did not arrive intact: S3 answered with an ETag or checksum other than the bytes
 * sent, or refused them as a bad digest. The part is sent again.
 */
export class PartCorruptedError extends DrError {
  override name = 'PartCorruptedError';
}

/** S3's own word that the bytes it received do not match the digest sent with them. */
export const BAD_DIGEST_ERRORS = new Set(['BadDigest', 'InvalidDigest', 'XAmzContentSHA256Mismatch']);

export function isPartCorruption(err: unknown): boolean {
  return err instanceof PartCorruptedError || BAD_DIGEST_ERRORS.has((err as Error | undefined)?.name ?? '');
}
