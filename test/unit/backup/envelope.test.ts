/**
 * Backup objects end to end in memory: encrypted under a fresh data key per object with the
 * shared framed AES-256-GCM envelope, published under a signed manifest, read back through
 * openVerifiedArchiveStream. Round trips are byte for byte; a wrong key, a truncated object,
 * a changed tag, a flipped byte, a swapped envelope header and a plaintext that does not
 * match the manifest are each refused with a BackupIntegrityError naming the reason, and no
 * plaintext of a bad frame is released.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BACKUP_SCHEMA_VERSION, type BackupManifest } from '../../../lambdas/shared/backup/contracts';
import { BACKUP_FILE_MAGIC } from '../../../lambdas/shared/backup/envelope';
import {
  BackupIntegrityError,
  BackupNotFoundError,
  BackupSignatureError,
} from '../../../lambdas/shared/backup/errors';
import { BackupService } from '../../../lambdas/shared/backup/service';
import { FakeDataKeys, FakeSigner, MemoryStore } from './fakes';

const FRAME = 4096;
const BACKUP_ID = 'redis-20261127T043000123Z-1a2b3c4d';
const env = {
  application: 'tradepulse',
  region: 'us-west-2',
  bucket: 'memory',
  dataKeyId: 'alias/x',
  signingKeyId: 'alias/y',
};

function setup(dataKeys = new FakeDataKeys()) {
  const store = new MemoryStore();
  const signer = new FakeSigner();
  const service = new BackupService({ env, store: store.asStore(), dataKeys, signer, frameSize: FRAME });
  return { store, signer, dataKeys, service };
}

async function backupOf(service: BackupService, plaintext: Buffer): Promise<BackupManifest> {
  const object = await service.storeObject({
    kind: 'redis',
    backupId: BACKUP_ID,
    name: 'dump.rdb',
    contentType: 'application/x-redis-rdb',
    body: Readable.from([plaintext.subarray(0, 1000), plaintext.subarray(1000)]),
  });
  const manifest: BackupManifest = {
    schemaVersion: BACKUP_SCHEMA_VERSION,
    backupId: BACKUP_ID,
    kind: 'redis',
    application: 'tradepulse',
    sourceRegion: 'us-east-1',
    takenAt: '2026-11-27T04:30:00.123Z',
    completedAt: '2026-11-27T04:30:01.000Z',
    timingsMs: {},
    objects: [object],
    redis: {
      source: '127.0.0.1:6379',
      redisVersion: '7.0.15',
      keyCount: 0,
      keys: [],
      rdbSaveTime: 1,
      consistency: 'client-pause-write',
    },
  };
  await service.publish(manifest);
  return manifest;
}

/** Reads the verified stream; returns what it released and the error it ended with. */
async function readAll(stream: NodeJS.ReadableStream): Promise<{ data: Buffer; error?: Error }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
    return { data: Buffer.concat(chunks) };
  } catch (error) {
    return { data: Buffer.concat(chunks), error: error as Error };
  }
}

const key = `backups/tradepulse/redis/${BACKUP_ID}/objects/dump.rdb.enc`;

describe('round trip', () => {
  test.each([0, 1, FRAME - 1, FRAME, FRAME + 1, 5 * FRAME + 17])(
    '%i bytes come back byte for byte',
    async (n) => {
      const { service, store, dataKeys } = setup();
      const plaintext = randomBytes(n);
      const manifest = await backupOf(service, plaintext);
      const object = manifest.objects[0]!;
      expect(object).toMatchObject({
        bytes: n,
        sha256: createHash('sha256').update(plaintext).digest('hex'),
        ciphertextBytes: store.objects.get(key)!.length,
        ciphertextSha256: createHash('sha256').update(store.objects.get(key)!).digest('hex'),
      });
      expect(store.objects.get(key)!.subarray(0, 8)).toEqual(BACKUP_FILE_MAGIC);
      expect(dataKeys.contexts).toEqual([
        {
          purpose: 'tradepulse-dr-backup',
          application: 'tradepulse',
          kind: 'redis',
          backupId: BACKUP_ID,
          object: 'dump.rdb',
        },
      ]);
      const { manifest: loaded } = await service.loadVerifiedManifest({ kind: 'redis', backupId: BACKUP_ID });
      const out = await readAll(await service.openVerifiedArchiveStream(loaded, 'dump.rdb'));
      expect(out.error).toBeUndefined();
      expect(out.data.equals(plaintext)).toBe(true);
    },
  );
});

describe('tampering and wrong keys are refused', () => {
  const plaintext = randomBytes(6 * FRAME + 100);

  async function attempt(mutate: (file: Buffer) => Buffer, dataKeys?: FakeDataKeys) {
    const s = setup();
    const manifest = await backupOf(s.service, plaintext);
    s.store.objects.set(key, mutate(Buffer.from(s.store.objects.get(key)!)));
    const reader = dataKeys
      ? new BackupService({ env, store: s.store.asStore(), dataKeys, signer: s.signer, frameSize: FRAME })
      : s.service;
    return readAll(await reader.openVerifiedArchiveStream(manifest, 'dump.rdb'));
  }
  const headerEnd = (file: Buffer) => 12 + file.readUInt32BE(8);
  const frameBytes = 4 + FRAME + 16;

  test('a flipped byte in frame 2: nothing past frame 1 is released, and the error names frame 2', async () => {
    const out = await attempt((f) => {
      f[headerEnd(f) + 2 * frameBytes + 100]! ^= 0x01;
      return f;
    });
    expect(out.error).toBeInstanceOf(BackupIntegrityError);
    expect(out.error!.message).toMatch(/frame 2 .*failed AES-GCM authentication/);
    expect((out.error as BackupIntegrityError).details.reason).toBe('ciphertext');
    // Only authenticated frames before the bad one (a stream destroyed by the error may drop some still buffered).
    expect(out.data.length).toBeLessThanOrEqual(2 * FRAME);
    expect(out.data.length % FRAME).toBe(0);
    expect(out.data.equals(plaintext.subarray(0, out.data.length))).toBe(true);
  });

  test('a changed tag (last byte of frame 0)', async () => {
    const out = await attempt((f) => {
      f[headerEnd(f) + frameBytes - 1]! ^= 0x80;
      return f;
    });
    expect(out.error).toBeInstanceOf(BackupIntegrityError);
    expect(out.error!.message).toMatch(/frame 0 /);
    expect(out.data.length).toBe(0);
  });

  test.each([
    ['at a frame boundary', (f: Buffer) => f.subarray(0, headerEnd(f) + 3 * frameBytes)],
    ['mid-frame', (f: Buffer) => f.subarray(0, headerEnd(f) + 3 * frameBytes + 500)],
    ['inside the header', (f: Buffer) => f.subarray(0, 20)],
  ])('a truncated object (%s)', async (_name, cut) => {
    const out = await attempt(cut);
    expect(out.error).toBeInstanceOf(BackupIntegrityError);
    expect((out.error as BackupIntegrityError).details.reason).toBe('truncated');
  });

  test('the wrong KMS key (another master key cannot unwrap the data key)', async () => {
    const out = await attempt((f) => f, new FakeDataKeys());
    expect(out.error).toBeInstanceOf(BackupIntegrityError);
    expect((out.error as BackupIntegrityError).details.reason).toBe('key');
    expect(out.data.length).toBe(0);
  });

  test("another backup's object (its envelope header names another data key) is refused before decrypting", async () => {
    const other = setup();
    await backupOf(other.service, plaintext);
    const foreign = other.store.objects.get(key)!;
    const out = await attempt(() => Buffer.from(foreign));
    expect(out.error).toBeInstanceOf(BackupIntegrityError);
    expect(out.error!.message).toMatch(/an encrypted data key other than the manifest names/);
    expect(out.data.length).toBe(0);
  });

  test('a plaintext that does not match the manifest fails at the end (checksum)', async () => {
    const s = setup();
    const manifest = await backupOf(s.service, plaintext);
    const lying = { ...manifest, objects: [{ ...manifest.objects[0]!, sha256: 'a'.repeat(64) }] };
    const out = await readAll(await s.service.openVerifiedArchiveStream(lying, 'dump.rdb'));
    expect(out.error).toBeInstanceOf(BackupIntegrityError);
    expect((out.error as BackupIntegrityError).details.reason).toBe('checksum');
  });
});

describe('manifests', () => {
  test('a changed manifest byte fails the signature', async () => {
    const { service, store } = setup();
    await backupOf(service, randomBytes(10));
    const mkey = `backups/tradepulse/redis/${BACKUP_ID}/manifest.json`;
    const bytes = Buffer.from(store.objects.get(mkey)!);
    bytes[bytes.indexOf('127.0.0.1')] = '2'.charCodeAt(0);
    store.objects.set(mkey, bytes);
    await expect(service.loadVerifiedManifest(mkey)).rejects.toThrow(BackupSignatureError);
  });

  test('a missing manifest, a missing signature and a missing object are BackupNotFoundError (reason missing)', async () => {
    const { service, store } = setup();
    const manifest = await backupOf(service, randomBytes(10));
    const prefix = `backups/tradepulse/redis/${BACKUP_ID}/`;
    store.objects.delete(`${prefix}manifest.sig.json`);
    await expect(service.loadVerifiedManifest({ kind: 'redis', backupId: BACKUP_ID })).rejects.toMatchObject({
      name: 'BackupNotFoundError',
      details: { reason: 'missing' },
    });
    await expect(
      service.loadVerifiedManifest({ kind: 'redis', backupId: 'redis-20261127T043000123Z-00000000' }),
    ).rejects.toThrow(/no manifest/);
    store.objects.delete(`${prefix}objects/dump.rdb.enc`);
    await expect(service.openVerifiedArchiveStream(manifest, 'dump.rdb')).rejects.toThrow(
      BackupNotFoundError,
    );
    await expect(service.openVerifiedArchiveStream(manifest, 'base.tar')).rejects.toThrow(
      /has no object base.tar/,
    );
  });

  test('listBackups lists complete backups only, newest first; latestBackup picks the newest', async () => {
    const { service, store } = setup();
    await backupOf(service, randomBytes(10));
    store.objects.set(
      'backups/tradepulse/redis/redis-20261127T050000000Z-00000000/objects/dump.rdb.enc',
      Buffer.alloc(1),
    );
    store.objects.set(
      'backups/tradepulse/redis/redis-20261126T050000000Z-00000000/manifest.json',
      Buffer.from('{}'),
    );
    const list = await service.listBackups('redis');
    expect(list.map((b) => b.backupId)).toEqual([BACKUP_ID, 'redis-20261126T050000000Z-00000000']);
    expect((await service.latestBackup('redis'))!.backupId).toBe(BACKUP_ID);
    expect(await service.latestBackup('postgres')).toBeNull();
  });
});
