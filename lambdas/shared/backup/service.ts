import { createHash } from 'node:crypto';
import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import type { DataKeyProvider } from '../envelope/data-keys';
import { HashTap } from '../envelope/hash-tap';
import {
  BackupManifestSchema,
  BackupSignatureSchema,
  backupKeys,
  backupKindPrefix,
  parseBackupManifest,
  parseManifestKey,
  type BackupEnvironment,
  type BackupKind,
  type BackupListing,
  type BackupManifest,
  type BackupObject,
  type BackupReader,
  type VerifiedManifest,
} from './contracts';
import { backupEncryptionContext, newObjectDecryptor, newObjectEncryptor } from './envelope';
import {
  BackupIntegrityError,
  BackupManifestInvalidError,
  BackupNotFoundError,
  BackupSignatureError,
} from './errors';
import type { BackupObjectStore } from './object-store';
import type { ManifestSigner } from './signing';
import { formatIssues } from '../topology';

export interface BackupServiceDeps {
  env: BackupEnvironment;
  store: BackupObjectStore;
  dataKeys: DataKeyProvider;
  signer: ManifestSigner;
  /** Plaintext bytes per encrypted frame. @default 65536 */
  frameSize?: number;
  now?: () => Date;
}

/** Checks the plaintext's size and SHA-256 (and the ciphertext's) against the manifest before the stream ends. */
class ChecksumGate extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  constructor(
    private readonly object: BackupObject,
    private readonly ciphertext: HashTap,
    private readonly source: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    const sha256 = this.hash.digest('hex');
    const problems: string[] = [];
    if (this.ciphertext.size !== this.object.ciphertextBytes)
      problems.push(
        `ciphertext is ${this.ciphertext.size} bytes, the manifest says ${this.object.ciphertextBytes}`,
      );
    else if (this.ciphertext.sha256 !== this.object.ciphertextSha256)
      problems.push(
        `ciphertext SHA-256 ${this.ciphertext.sha256}, the manifest says ${this.object.ciphertextSha256}`,
      );
    if (this.bytes !== this.object.bytes)
      problems.push(`plaintext is ${this.bytes} bytes, the manifest says ${this.object.bytes}`);
    else if (sha256 !== this.object.sha256)
      problems.push(`plaintext SHA-256 ${sha256}, the manifest says ${this.object.sha256}`);
    if (problems.length > 0)
      done(
        new BackupIntegrityError(`${this.source}: ${problems.join('; ')}`, {
          reason: 'checksum',
          source: this.source,
          problems,
        }),
      );
    else done();
  }
}

/**
 * Backups in the bucket: writing objects and signed manifests (the taking side) and
 * finding, verifying and decrypting them (the validation side, `BackupReader`).
 */
export class BackupService implements BackupReader {
  readonly env: BackupEnvironment;
  private readonly store: BackupObjectStore;
  private readonly dataKeys: DataKeyProvider;
  private readonly signer: ManifestSigner;
  private readonly frameSize: number | undefined;
  readonly now: () => Date;

  constructor(deps: BackupServiceDeps) {
    this.env = deps.env;
    this.store = deps.store;
    this.dataKeys = deps.dataKeys;
    this.signer = deps.signer;
    this.frameSize = deps.frameSize;
    this.now = deps.now ?? (() => new Date());
  }

  keys(kind: BackupKind, backupId: string) {
    return backupKeys(this.env.application, kind, backupId);
  }

  async listBackups(kind: BackupKind): Promise<BackupListing[]> {
    const found = await this.store.list(backupKindPrefix(this.env.application, kind));
    const listings: BackupListing[] = [];
    for (const o of found) {
      const parsed = parseManifestKey(o.key);
      if (!parsed || parsed.kind !== kind || parsed.application !== this.env.application) continue;
      listings.push({
        kind,
        backupId: parsed.backupId,
        manifestKey: o.key,
        lastModified: (o.lastModified ?? new Date(0)).toISOString(),
      });
    }
    return listings.sort((a, b) => (a.backupId < b.backupId ? 1 : a.backupId > b.backupId ? -1 : 0));
  }

  async latestBackup(kind: BackupKind): Promise<BackupListing | null> {
    return (await this.listBackups(kind))[0] ?? null;
  }

  async loadVerifiedManifest(
    ref: string | { kind: BackupKind; backupId: string },
  ): Promise<VerifiedManifest> {
    const manifestKey = typeof ref === 'string' ? ref : this.keys(ref.kind, ref.backupId).manifest;
    const parsedKey = parseManifestKey(manifestKey);
    if (!parsedKey)
      throw new BackupNotFoundError(
        `${manifestKey} is not a backup manifest key (backups/<application>/<kind>/<backupId>/manifest.json)`,
        {
          reason: 'missing',
          manifestKey,
        },
      );
    const source = `${this.store.location}/${manifestKey}`;
    const keys = this.keys(parsedKey.kind, parsedKey.backupId);
    const [bytes, sigBytes] = await Promise.all([
      this.store.getBytes(manifestKey),
      this.store.getBytes(keys.signature),
    ]);
    if (bytes === null)
      throw new BackupNotFoundError(`backup ${parsedKey.backupId}: no manifest at ${source}`, {
        reason: 'missing',
        manifestKey,
      });
    if (sigBytes === null)
      throw new BackupNotFoundError(
        `backup ${parsedKey.backupId}: the manifest has no signature (${keys.signature})`,
        {
          reason: 'missing',
          manifestKey,
          signatureKey: keys.signature,
        },
      );
    let sigJson: unknown;
    try {
      sigJson = JSON.parse(sigBytes.toString('utf8'));
    } catch {
      throw new BackupSignatureError(`${keys.signature} is not JSON`, {
        reason: 'signature',
        source: keys.signature,
      });
    }
    const sig = BackupSignatureSchema.safeParse(sigJson);
    if (!sig.success)
      throw new BackupSignatureError(
        `${keys.signature} is not a backup signature:\n${formatIssues(sig.error.issues)}`,
        {
          reason: 'signature',
          source: keys.signature,
        },
      );
    // The signature first: nothing of an unsigned manifest is read, not even to report its fields.
    await this.signer.verify(bytes, sig.data, source);
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new BackupManifestInvalidError(`${source} is not JSON`, {
        reason: 'malformed',
        source,
        fields: ['(root)'],
      });
    }
    const manifest = parseBackupManifest(json, source);
    if (manifest.backupId !== parsedKey.backupId || manifest.kind !== parsedKey.kind)
      throw new BackupManifestInvalidError(
        `${source} describes ${manifest.kind} backup ${manifest.backupId}, not the ${parsedKey.kind} backup ${parsedKey.backupId} its key names`,
        { reason: 'malformed', source, fields: ['backupId'] },
      );
    return { manifest, manifestKey, manifestSha256: sig.data.manifestSha256, signature: sig.data };
  }

  async openVerifiedArchiveStream(manifest: BackupManifest, objectName: string): Promise<Readable> {
    const object = manifest.objects.find((o) => o.name === objectName);
    if (!object)
      throw new BackupNotFoundError(
        `backup ${manifest.backupId} has no object ${objectName} (it has: ${manifest.objects.map((o) => o.name).join(', ') || 'none'})`,
        { reason: 'missing', objectName },
      );
    const source = `${this.store.location}/${object.key}`;
    const body = await this.store.getStream(object.key);
    if (body === null)
      throw new BackupNotFoundError(`backup ${manifest.backupId}: the object ${source} is missing`, {
        reason: 'missing',
        key: object.key,
      });
    const ciphertext = new HashTap();
    const decryptor = newObjectDecryptor(this.dataKeys, object.encryption, source);
    const gate = new ChecksumGate(object, ciphertext, source);
    // Errors of any stage destroy the others; the consumer sees them on the returned stream.
    pipeline(body, ciphertext, decryptor, gate, () => {});
    return gate;
  }

  /** The complete backup with this id, verified, or null when there is none (an interrupted one is not). */
  async existing(kind: BackupKind, backupId: string): Promise<VerifiedManifest | null> {
    if ((await this.store.head(this.keys(kind, backupId).manifest)) === null) return null;
    return this.loadVerifiedManifest({ kind, backupId });
  }

  /**
   * Encrypts a plaintext stream under a fresh data key and uploads it as one backup object;
   * `plaintext` (optional) is a HashTap the caller already put in front (it then also
   * measures); otherwise one is added here.
   */
  async storeObject(input: {
    kind: BackupKind;
    backupId: string;
    name: string;
    contentType: string;
    body: Readable | NodeJS.ReadableStream;
  }): Promise<BackupObject> {
    const key = this.keys(input.kind, input.backupId).object(input.name);
    const context = backupEncryptionContext({
      application: this.env.application,
      kind: input.kind,
      backupId: input.backupId,
      object: input.name,
    });
    const { encryptor, encryption } = await newObjectEncryptor(this.dataKeys, context, {
      contentType: input.contentType,
      ...(this.frameSize !== undefined ? { frameSize: this.frameSize } : {}),
    });
    const plaintext = new HashTap();
    const ciphertext = new HashTap();
    const chain = pipeline(input.body as Readable, plaintext, encryptor, ciphertext, () => {});
    await this.store.uploadStream(key, chain as unknown as Readable, 'application/octet-stream');
    return {
      name: input.name,
      key,
      contentType: input.contentType,
      bytes: plaintext.size,
      sha256: plaintext.sha256,
      ciphertextBytes: ciphertext.size,
      ciphertextSha256: ciphertext.sha256,
      encryption,
    };
  }

  /** Signs the manifest's exact bytes, writes the signature, then the manifest (last: it publishes the backup). */
  async publish(manifest: BackupManifest): Promise<{ manifestKey: string; manifestSha256: string }> {
    const checked = BackupManifestSchema.parse(manifest);
    const bytes = Buffer.from(`${JSON.stringify(checked, null, 2)}\n`, 'utf8');
    const signature = await this.signer.sign(bytes, this.now());
    const keys = this.keys(checked.kind, checked.backupId);
    await this.store.putBytes(
      keys.signature,
      Buffer.from(`${JSON.stringify(signature, null, 2)}\n`),
      'application/json',
    );
    await this.store.putBytes(keys.manifest, bytes, 'application/json');
    return { manifestKey: keys.manifest, manifestSha256: signature.manifestSha256 };
  }
}

/** Reads a stream to its end, discarding the data; rejects with the stream's error. */
export async function drain(stream: Readable): Promise<void> {
  for await (const _ of stream) void _;
}

export { Readable };
