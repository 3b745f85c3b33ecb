import { DrError } from '../errors';

/**
 * Why a backup cannot be used. Each `name` is what the backup-validation ASL's Catch
 * `ErrorEquals` can match; `details.reason` is the short reason recorded as the failed
 * validation's cause.
 */
export type BackupRefusalReason =
  'missing' | 'malformed' | 'signature' | 'ciphertext' | 'truncated' | 'key' | 'checksum';

/** The named backup (its manifest or its signature) does not exist. */
export class BackupNotFoundError extends DrError {
  override name = 'BackupNotFoundError';
}
/** The manifest is not JSON or not a backup manifest; `details.fields` names what is wrong. */
export class BackupManifestInvalidError extends DrError {
  override name = 'BackupManifestInvalidError';
}
/** The manifest's signature does not verify (a changed byte, another key, or a malformed signature file). */
export class BackupSignatureError extends DrError {
  override name = 'BackupSignatureError';
}
/** An encrypted object failed a check: GCM tag, truncation, data key, or the plaintext SHA-256/size. */
export class BackupIntegrityError extends DrError {
  override name = 'BackupIntegrityError';
}
/** Taking a backup failed (the source refused, a tool failed); nothing incomplete is listed. */
export class BackupFailedError extends DrError {
  override name = 'BackupFailedError';
}
