import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { awsErrorName } from '../adapters/aws/aws-call';
import { classifyError } from '../errors';
import type { EncryptionContext } from './framing';

/** The error a refused data key is reported with (each user of the envelope has its own). */
export type KeyErrorFactory = (message: string, details: Record<string, unknown>) => Error;

/** Envelope encryption's key source: a fresh data key per file, and its decryption later. */
export interface DataKeyProvider {
  /** A new AES-256 data key, in plaintext (used once, then wiped) and encrypted under the master key. */
  generateDataKey(context: EncryptionContext): Promise<{
    plaintext: Uint8Array;
    encrypted: Uint8Array;
    /** The master key's ARN as the key service reports it. */
    keyId: string;
  }>;
  /** The plaintext data key; refuses (the user's key error) a wrong key or context, or an altered blob. */
  decryptDataKey(input: {
    encrypted: Uint8Array;
    context: EncryptionContext;
    keyId: string;
  }): Promise<Uint8Array>;
}

class KeyRefusal extends Error {}

const contextText = (context: EncryptionContext) =>
  Object.entries(context)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/**
 * AWS KMS: GenerateDataKey (AES_256) under one symmetric key with an encryption context that
 * names the export (CloudTrail then records which export each use was for), and Decrypt
 * with the key id pinned, as AWS recommends, so a blob is only ever decrypted under the key
 * the evidence names.
 */
export class KmsDataKeyProvider implements DataKeyProvider {
  private readonly kms: KMSClient;
  private readonly keyId: string;
  private readonly keyError: KeyErrorFactory;

  /**
   * `keyId`: key ARN, key id or alias (alias/tradepulse-dr-evidence) to generate data keys under;
   * `keyError`: builds the error a refused key is reported with.
   */
  constructor(kms: KMSClient, keyId: string, keyError: KeyErrorFactory) {
    this.kms = kms;
    this.keyId = keyId;
    this.keyError = keyError;
  }

  async generateDataKey(context: EncryptionContext) {
    let out;
    try {
      out = await this.kms.send(
        new GenerateDataKeyCommand({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: context }),
      );
    } catch (err) {
      const name = awsErrorName(err);
      if (name === 'NotFoundException' || name === 'DisabledException' || name === 'KMSInvalidStateException')
        throw this.keyError(`KMS key ${this.keyId} cannot generate data keys: ${name}`, {
          keyId: this.keyId,
          awsError: name,
        });
      throw classifyError(err);
    }
    if (!out.Plaintext || !out.CiphertextBlob || out.Plaintext.length !== 32)
      throw this.keyError(`KMS returned no usable AES-256 data key for ${this.keyId}`, {
        keyId: this.keyId,
      });
    return { plaintext: out.Plaintext, encrypted: out.CiphertextBlob, keyId: out.KeyId ?? this.keyId };
  }

  async decryptDataKey(input: { encrypted: Uint8Array; context: EncryptionContext; keyId: string }) {
    try {
      const out = await this.kms.send(
        new DecryptCommand({
          CiphertextBlob: input.encrypted,
          EncryptionContext: input.context,
          KeyId: input.keyId,
        }),
      );
      if (!out.Plaintext) throw new KeyRefusal('KMS Decrypt returned no plaintext');
      return out.Plaintext;
    } catch (err) {
      if (err instanceof KeyRefusal) throw this.keyError(err.message, { keyId: input.keyId });
      const name = awsErrorName(err);
      const details = { keyId: input.keyId, encryptionContext: input.context, awsError: name };
      switch (name) {
        case 'InvalidCiphertextException':
          throw this.keyError(
            `KMS refused to decrypt the data key (${name}): the encrypted data key was altered, or the encryption context {${contextText(input.context)}} is not the one it was sealed with`,
            details,
          );
        case 'IncorrectKeyException':
        case 'AccessDeniedException':
          throw this.keyError(
            `KMS refused to decrypt the data key under ${input.keyId} (${name}): the data key was encrypted under a different KMS key, or this caller may not use the key`,
            details,
          );
        case 'NotFoundException':
        case 'DisabledException':
        case 'KMSInvalidStateException':
          throw this.keyError(`KMS key ${input.keyId} cannot decrypt (${name})`, details);
        default:
          throw classifyError(err);
      }
    }
  }
}
