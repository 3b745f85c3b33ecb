import { createHash } from 'node:crypto';
import { SignCommand, VerifyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { awsErrorName } from '../adapters/aws/aws-call';
import { classifyError } from '../errors';
import {
  BACKUP_SCHEMA_VERSION,
  BACKUP_SIGNING_ALGORITHM,
  BackupSignatureSchema,
  type BackupSignature,
} from './contracts';
import { BackupSignatureError } from './errors';

/** Signs and verifies the exact bytes of a manifest. */
export interface ManifestSigner {
  sign(manifestBytes: Buffer, now: Date): Promise<BackupSignature>;
  /** Resolves when the signature is valid for these bytes; BackupSignatureError (reason 'signature') otherwise. */
  verify(manifestBytes: Buffer, signature: BackupSignature, source: string): Promise<void>;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest();

/**
 * KMS asymmetric signing: RSASSA_PSS_SHA_256 with MessageType DIGEST over the SHA-256 of
 * the manifest bytes (a RAW message is limited to 4096 bytes; manifests listing every
 * file of a base backup are larger). Verification uses KMS Verify with the signing key the
 * verifier trusts (not the key the signature file names): a manifest re-signed with another
 * key is refused. A changed byte changes the digest; the recorded `manifestSha256` is
 * compared first so the reason is precise.
 *
 * Note on moto (the sandbox): moto 5.2.1 ignores MessageType and signs/verifies the
 * digest bytes as a raw message. Sign and Verify stay consistent with each other there,
 * so tampering is still caught; on AWS the same calls have the documented DIGEST meaning.
 */
export class KmsManifestSigner implements ManifestSigner {
  constructor(
    private readonly kms: KMSClient,
    /** ARN or alias of the asymmetric key that signs, and that verification trusts. */
    private readonly keyId: string,
  ) {}

  async sign(manifestBytes: Buffer, now: Date): Promise<BackupSignature> {
    const digest = sha256(manifestBytes);
    let out;
    try {
      out = await this.kms.send(
        new SignCommand({
          KeyId: this.keyId,
          Message: digest,
          MessageType: 'DIGEST',
          SigningAlgorithm: BACKUP_SIGNING_ALGORITHM,
        }),
      );
    } catch (err) {
      throw classifyError(err);
    }
    if (!out.Signature) throw new BackupSignatureError(`KMS Sign under ${this.keyId} returned no signature`);
    return BackupSignatureSchema.parse({
      schemaVersion: BACKUP_SCHEMA_VERSION,
      algorithm: BACKUP_SIGNING_ALGORITHM,
      messageType: 'DIGEST',
      keyId: out.KeyId ?? this.keyId,
      manifestSha256: digest.toString('hex'),
      signature: Buffer.from(out.Signature).toString('base64'),
      signedAt: now.toISOString(),
    });
  }

  async verify(manifestBytes: Buffer, signature: BackupSignature, source: string): Promise<void> {
    const digest = sha256(manifestBytes);
    const details = { reason: 'signature', source, keyId: this.keyId, signedBy: signature.keyId };
    if (digest.toString('hex') !== signature.manifestSha256)
      throw new BackupSignatureError(
        `${source}: the manifest's SHA-256 is ${digest.toString('hex')}, the signature covers ${signature.manifestSha256}: the manifest was changed after signing`,
        details,
      );
    let valid: boolean;
    try {
      const out = await this.kms.send(
        new VerifyCommand({
          KeyId: this.keyId,
          Message: digest,
          MessageType: 'DIGEST',
          Signature: Buffer.from(signature.signature, 'base64'),
          SigningAlgorithm: signature.algorithm,
        }),
      );
      valid = out.SignatureValid === true;
    } catch (err) {
      const name = awsErrorName(err);
      // AWS answers an invalid signature with KMSInvalidSignatureException (moto with SignatureValid false).
      if (name === 'KMSInvalidSignatureException' || name === 'ValidationException') valid = false;
      else throw classifyError(err);
    }
    if (!valid)
      throw new BackupSignatureError(
        `${source}: the signature does not verify under ${this.keyId}: the manifest or its signature was altered, or another key signed it`,
        details,
      );
  }
}
