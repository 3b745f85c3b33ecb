import { DrError } from '../../lambdas/shared/errors';

export { InvalidInputError } from '../../lambdas/shared/errors';

/**
 * An export file failed an integrity check: a GCM tag, a SHA-256, a size, the framing,
 * or its header disagrees with the evidence record. Nothing read from it may be trusted;
 * no plaintext output is left behind.
 */
export class AuditExportIntegrityError extends DrError {
  override name = 'AuditExportIntegrityError';
}

/**
 * KMS would not decrypt an export's data key: the wrong KMS key, an encryption context that
 * names another export, or an altered encrypted data key.
 */
export class AuditExportKeyError extends DrError {
  override name = 'AuditExportKeyError';
}

/** Archiving to the evidence bucket failed; `details.leftBehind` lists object versions that could not be removed. */
export class AuditExportArchiveError extends DrError {
  override name = 'AuditExportArchiveError';
}
