import type { KMSClient } from '@aws-sdk/client-kms';
import { KmsDataKeyProvider, type DataKeyProvider } from '../envelope/data-keys';
import {
  DEFAULT_FRAME_SIZE,
  FrameDecryptor,
  FrameEncryptor,
  newEnvelopeHeader,
  type EncryptionContext,
  type EnvelopeProfile,
} from '../envelope/framing';
import {
  BACKUP_ENCRYPTION_ALGORITHM,
  BACKUP_KEY_PURPOSE,
  type BackupKind,
  type ObjectEncryption,
} from './contracts';
import { BackupIntegrityError } from './errors';

/**
 * Backups use the project's framed AES-256-GCM envelope (lambdas/shared/envelope/framing.ts,
 * the one the audit export uses) under their own magic and header format, so an audit
 * export can never be passed off as a backup object or the reverse.
 */
export const BACKUP_FILE_MAGIC = Buffer.from('TPBKUP01', 'ascii');
export const BACKUP_ENVELOPE_FORMAT = 'tradepulse-backup';

export const BACKUP_ENVELOPE: EnvelopeProfile = {
  magic: BACKUP_FILE_MAGIC,
  format: BACKUP_ENVELOPE_FORMAT,
  description: 'an encrypted backup object',
  integrityError: (message, details) =>
    new BackupIntegrityError(message, {
      reason: details.truncated === true ? 'truncated' : 'ciphertext',
      ...details,
    }),
};

/** KMS data keys for backups; a refused data key is a BackupIntegrityError with reason 'key'. */
export function backupDataKeys(kms: KMSClient, keyId: string): DataKeyProvider {
  return new KmsDataKeyProvider(
    kms,
    keyId,
    (message, details) => new BackupIntegrityError(message, { reason: 'key', ...details }),
  );
}

/** The encryption context of one object's data key: names the backup and the object (CloudTrail shows which). */
export function backupEncryptionContext(input: {
  application: string;
  kind: BackupKind;
  backupId: string;
  object: string;
}): EncryptionContext {
  return {
    purpose: BACKUP_KEY_PURPOSE,
    application: input.application,
    kind: input.kind,
    backupId: input.backupId,
    object: input.object,
  };
}

/** A fresh data key and an encryptor for one object; the manifest's `encryption` entry with it. */
export async function newObjectEncryptor(
  dataKeys: DataKeyProvider,
  context: EncryptionContext,
  opts: { frameSize?: number; contentType: string },
): Promise<{ encryptor: FrameEncryptor; encryption: ObjectEncryption }> {
  const key = await dataKeys.generateDataKey(context);
  const header = newEnvelopeHeader({
    format: BACKUP_ENVELOPE_FORMAT,
    keyId: key.keyId,
    encryptedDataKey: key.encrypted,
    encryptionContext: context,
    contentType: opts.contentType,
    ...(opts.frameSize !== undefined ? { frameSize: opts.frameSize } : {}),
  });
  const encryptor = new FrameEncryptor(header, key.plaintext, BACKUP_FILE_MAGIC);
  Buffer.from(key.plaintext.buffer, key.plaintext.byteOffset, key.plaintext.byteLength).fill(0);
  return {
    encryptor,
    encryption: {
      algorithm: BACKUP_ENCRYPTION_ALGORITHM,
      frameBytes: header.framing.frameSize,
      kmsKeyId: header.kms.keyId,
      encryptedDataKey: header.kms.encryptedDataKey,
      encryptionContext: context,
    },
  };
}

const sameContext = (a: EncryptionContext, b: EncryptionContext) => {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
};

/**
 * A decryptor for one object that refuses a header other than the one the (signed)
 * manifest names — another key, another data key, another context — before any frame is
 * decrypted, then unwraps the data key with KMS Decrypt pinned to the manifest's key.
 */
export function newObjectDecryptor(
  dataKeys: DataKeyProvider,
  expected: ObjectEncryption,
  source: string,
): FrameDecryptor {
  return new FrameDecryptor({
    source,
    profile: BACKUP_ENVELOPE,
    unwrapKey: async ({ header }) => {
      const problems: string[] = [];
      if (header.kms.keyId !== expected.kmsKeyId)
        problems.push(`KMS key ${header.kms.keyId}, the manifest names ${expected.kmsKeyId}`);
      if (header.kms.encryptedDataKey !== expected.encryptedDataKey)
        problems.push('an encrypted data key other than the manifest names');
      if (!sameContext(header.kms.encryptionContext, expected.encryptionContext))
        problems.push('an encryption context other than the manifest names');
      if (header.framing.frameSize !== expected.frameBytes)
        problems.push(`frame size ${header.framing.frameSize}, the manifest names ${expected.frameBytes}`);
      if (problems.length > 0)
        throw new BackupIntegrityError(`${source}: the object's envelope header has ${problems.join('; ')}`, {
          reason: 'key',
          source,
          problems,
        });
      return dataKeys.decryptDataKey({
        encrypted: Buffer.from(expected.encryptedDataKey, 'base64'),
        context: expected.encryptionContext,
        keyId: expected.kmsKeyId,
      });
    },
  });
}

export { DEFAULT_FRAME_SIZE };
