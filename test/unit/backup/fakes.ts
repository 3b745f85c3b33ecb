import {
  createCipheriv,
  createDecipheriv,
  createHash,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { Readable } from 'node:stream';
import type { EncryptionContext } from '../../../lambdas/shared/envelope/framing';
import type { DataKeyProvider } from '../../../lambdas/shared/envelope/data-keys';
import { BACKUP_SCHEMA_VERSION, type BackupSignature } from '../../../lambdas/shared/backup/contracts';
import { BackupIntegrityError, BackupSignatureError } from '../../../lambdas/shared/backup/errors';
import type { BackupObjectStore } from '../../../lambdas/shared/backup/object-store';
import type { ManifestSigner } from '../../../lambdas/shared/backup/signing';

/**
 * KMS as a test double: data keys wrapped with AES-256-GCM under a master key per key id,
 * the canonical encryption context as AAD, so a wrong key or context is refused as KMS does.
 */
export class FakeDataKeys implements DataKeyProvider {
  private readonly masters = new Map<string, Buffer>();
  readonly contexts: EncryptionContext[] = [];
  constructor(readonly keyId = 'arn:aws:kms:us-west-2:123456789012:key/fake-data') {
    this.masters.set(keyId, randomBytes(32));
  }
  private static aad(context: EncryptionContext) {
    return Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => a.localeCompare(b))));
  }
  async generateDataKey(context: EncryptionContext) {
    this.contexts.push(context);
    const plaintext = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masters.get(this.keyId)!, iv);
    cipher.setAAD(FakeDataKeys.aad(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      plaintext: Buffer.from(plaintext),
      encrypted: Buffer.concat([iv, cipher.getAuthTag(), body]),
      keyId: this.keyId,
    };
  }
  async decryptDataKey(input: { encrypted: Uint8Array; context: EncryptionContext; keyId: string }) {
    const master = this.masters.get(input.keyId);
    if (!master) throw new BackupIntegrityError(`fake KMS: no key ${input.keyId}`, { reason: 'key' });
    const blob = Buffer.from(input.encrypted);
    const decipher = createDecipheriv('aes-256-gcm', master, blob.subarray(0, 12));
    decipher.setAAD(FakeDataKeys.aad(input.context));
    decipher.setAuthTag(blob.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]);
    } catch {
      throw new BackupIntegrityError('fake KMS: InvalidCiphertextException', { reason: 'key' });
    }
  }
}

/** An RSA-PSS signer with a real key pair (what KMS does, without KMS). */
export class FakeSigner implements ManifestSigner {
  private readonly keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  constructor(readonly keyId = 'arn:aws:kms:us-west-2:123456789012:key/fake-signing') {}
  async sign(bytes: Buffer, now: Date): Promise<BackupSignature> {
    const digest = createHash('sha256').update(bytes).digest();
    return {
      schemaVersion: BACKUP_SCHEMA_VERSION,
      algorithm: 'RSASSA_PSS_SHA_256',
      messageType: 'DIGEST',
      keyId: this.keyId,
      manifestSha256: digest.toString('hex'),
      signature: sign('sha256', digest, { key: this.keys.privateKey, padding: 6 }).toString('base64'),
      signedAt: now.toISOString(),
    };
  }
  async verify(bytes: Buffer, signature: BackupSignature, source: string): Promise<void> {
    const digest = createHash('sha256').update(bytes).digest();
    const ok = verify(
      'sha256',
      digest,
      { key: this.keys.publicKey, padding: 6 },
      Buffer.from(signature.signature, 'base64'),
    );
    if (!ok || digest.toString('hex') !== signature.manifestSha256)
      throw new BackupSignatureError(`${source}: the signature does not verify`, { reason: 'signature' });
  }
}

/** The bucket in memory (the methods BackupService uses). */
export class MemoryStore {
  readonly objects = new Map<string, Buffer>();
  readonly location = 's3://memory';
  async uploadStream(key: string, body: AsyncIterable<Buffer>) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(Buffer.from(c));
    this.objects.set(key, Buffer.concat(chunks));
    return { key, bytes: this.objects.get(key)!.length, parts: 1 };
  }
  async putBytes(key: string, body: Buffer) {
    this.objects.set(key, Buffer.from(body));
    return {};
  }
  async getBytes(key: string) {
    return this.objects.get(key) ?? null;
  }
  async getStream(key: string) {
    const b = this.objects.get(key);
    if (!b) return null;
    // Small chunks, as S3 delivers them.
    const chunks: Buffer[] = [];
    for (let i = 0; i < b.length; i += 7001) chunks.push(b.subarray(i, i + 7001));
    return Readable.from(chunks);
  }
  async head(key: string) {
    const b = this.objects.get(key);
    return b ? { bytes: b.length } : null;
  }
  async list(prefix: string) {
    return [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix))
      .map((key) => ({ key, bytes: 0, lastModified: new Date(0) }));
  }
  asStore(): BackupObjectStore {
    return this as unknown as BackupObjectStore;
  }
}
