/**
 * The encrypted file format (integrity/audit-export/framing.ts) with a fake KMS: round trips
 * of every size class, and every kind of tampering — a flipped byte anywhere, a truncation at
 * a frame boundary or mid-frame, a dropped, duplicated or reordered frame, trailing bytes, an
 * altered header — is refused, with no plaintext of the bad frame released.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DataKeyProvider } from '../../../integrity/audit-export/data-keys';
import { AuditExportIntegrityError, AuditExportKeyError } from '../../../integrity/audit-export/errors';
import {
  FILE_MAGIC,
  FrameDecryptor,
  FrameEncryptor,
  TAG_LENGTH,
  newEnvelopeHeader,
  type EncryptionContext,
} from '../../../integrity/audit-export/framing';

/**
 * KMS as a test double: data keys wrapped with AES-256-GCM under a master key per key id,
 * the canonical encryption context as AAD — so a wrong key or context is refused, as KMS does.
 */
class FakeKms implements DataKeyProvider {
  private readonly masters = new Map<string, Buffer>();
  readonly generated: EncryptionContext[] = [];
  constructor(readonly keyId = 'arn:aws:kms:us-east-1:123456789012:key/fake-1') {
    this.addKey(keyId);
  }
  addKey(keyId: string) {
    this.masters.set(keyId, randomBytes(32));
  }
  private static aad(context: EncryptionContext) {
    return Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => a.localeCompare(b))));
  }
  async generateDataKey(context: EncryptionContext) {
    this.generated.push(context);
    const plaintext = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masters.get(this.keyId)!, iv);
    cipher.setAAD(FakeKms.aad(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const keyIdBytes = Buffer.from(this.keyId);
    const encrypted = Buffer.concat([
      Buffer.from([keyIdBytes.length]),
      keyIdBytes,
      iv,
      cipher.getAuthTag(),
      body,
    ]);
    return { plaintext: Buffer.from(plaintext), encrypted, keyId: this.keyId };
  }
  async decryptDataKey(input: { encrypted: Uint8Array; context: EncryptionContext; keyId: string }) {
    const blob = Buffer.from(input.encrypted);
    const owner = blob.subarray(1, 1 + blob[0]!).toString();
    const rest = blob.subarray(1 + blob[0]!);
    if (owner !== input.keyId || !this.masters.has(input.keyId))
      throw new AuditExportKeyError(`fake KMS: data key is not under ${input.keyId}`);
    const decipher = createDecipheriv('aes-256-gcm', this.masters.get(input.keyId)!, rest.subarray(0, 12));
    decipher.setAAD(FakeKms.aad(input.context));
    decipher.setAuthTag(rest.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(rest.subarray(28)), decipher.final()]);
    } catch {
      throw new AuditExportKeyError('fake KMS: InvalidCiphertextException (wrong context or altered blob)');
    }
  }
}

const CONTEXT = { purpose: 'test', runId: 'r1', table: 'orders' };

/** Encrypts `plaintext` (fed in `chunkSize` pieces) into one file. */
async function encrypt(
  kms: FakeKms,
  plaintext: Buffer,
  opts: { frameSize?: number; chunkSize?: number; context?: EncryptionContext } = {},
): Promise<Buffer> {
  const context = opts.context ?? CONTEXT;
  const key = await kms.generateDataKey(context);
  const header = newEnvelopeHeader({
    keyId: key.keyId,
    encryptedDataKey: key.encrypted,
    encryptionContext: context,
    contentType: 'text/csv',
    ...(opts.frameSize ? { frameSize: opts.frameSize } : {}),
  });
  const chunkSize = opts.chunkSize ?? 1000;
  const pieces: Buffer[] = [];
  for (let i = 0; i < plaintext.length; i += chunkSize) pieces.push(plaintext.subarray(i, i + chunkSize));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    new FrameEncryptor(header, key.plaintext),
    new Writable({
      write(chunk, _e, done) {
        out.push(chunk as Buffer);
        done();
      },
    }),
  );
  return Buffer.concat(out);
}

/** Decrypts a whole file; returns what was released even when it then fails. */
async function decrypt(
  kms: FakeKms,
  file: Buffer,
  opts: { context?: EncryptionContext; keyId?: string; chunkSize?: number } = {},
): Promise<{ plaintext: Buffer; error?: Error; frames: number }> {
  const released: Buffer[] = [];
  const decryptor = new FrameDecryptor({
    source: 'test.csv.enc',
    unwrapKey: ({ header }) =>
      kms.decryptDataKey({
        encrypted: Buffer.from(header.kms.encryptedDataKey, 'base64'),
        context: opts.context ?? header.kms.encryptionContext,
        keyId: opts.keyId ?? header.kms.keyId,
      }),
  });
  const chunkSize = opts.chunkSize ?? 777;
  const pieces: Buffer[] = [];
  for (let i = 0; i < file.length; i += chunkSize) pieces.push(file.subarray(i, i + chunkSize));
  try {
    await pipeline(
      Readable.from(pieces),
      decryptor,
      new Writable({
        write(chunk, _e, done) {
          released.push(chunk as Buffer);
          done();
        },
      }),
    );
    return { plaintext: Buffer.concat(released), frames: decryptor.frames };
  } catch (error) {
    return { plaintext: Buffer.concat(released), error: error as Error, frames: decryptor.frames };
  }
}

/** Offsets of the frames in a file: [start of length field, end of tag). */
function frameLayout(file: Buffer): { headerEnd: number; frames: [number, number][] } {
  const headerLength = file.readUInt32BE(FILE_MAGIC.length);
  const headerEnd = FILE_MAGIC.length + 4 + headerLength;
  const frames: [number, number][] = [];
  let at = headerEnd;
  while (at < file.length) {
    const length = file.readUInt32BE(at);
    frames.push([at, at + 4 + length + TAG_LENGTH]);
    at += 4 + length + TAG_LENGTH;
  }
  return { headerEnd, frames };
}

const FRAME = 1024;
const text = (n: number) =>
  Buffer.from(
    Array.from({ length: n }, (_, i) => 'abcdefghijklmnopqrstuvwxyz,"\r\n0123456789'[i % 40]).join(''),
    'utf8',
  );

describe('framed AES-256-GCM round trip', () => {
  const kms = new FakeKms();

  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['less than a frame', FRAME - 1],
    ['exactly one frame', FRAME],
    ['exactly three frames', 3 * FRAME],
    ['three frames and a bit', 3 * FRAME + 17],
  ])('%s (%i bytes) decrypts to the same bytes', async (_label, size) => {
    const plaintext = text(size);
    const file = await encrypt(kms, plaintext, { frameSize: FRAME, chunkSize: 333 });
    const { plaintext: back, error, frames } = await decrypt(kms, file);
    expect(error).toBeUndefined();
    expect(back.equals(plaintext)).toBe(true);
    // Full frames, then exactly one final frame holding less than a frame (possibly nothing).
    expect(frames).toBe(Math.floor(size / FRAME) + 1);
    const { frames: layout } = frameLayout(file);
    expect(layout).toHaveLength(frames);
    expect(file.readUInt32BE(layout.at(-1)![0])).toBe(size % FRAME);
  });

  it('does not depend on how the input is chunked', async () => {
    const plaintext = text(5 * FRAME + 100);
    const file = await encrypt(kms, plaintext, { frameSize: FRAME, chunkSize: 1 + FRAME * 2 });
    for (const chunkSize of [1, 7, FRAME + 3, file.length]) {
      const { plaintext: back, error } = await decrypt(kms, file, { chunkSize });
      expect(error).toBeUndefined();
      expect(back.equals(plaintext)).toBe(true);
    }
  });

  it('starts with the magic and a JSON header naming key, context and the framing', async () => {
    const file = await encrypt(kms, text(10), { frameSize: FRAME });
    expect(file.subarray(0, 8).toString()).toBe('TPAEXP01');
    const { headerEnd } = frameLayout(file);
    const header = JSON.parse(file.subarray(12, headerEnd).toString());
    expect(header).toMatchObject({
      algorithm: 'AES-256-GCM',
      kms: { keyId: kms.keyId, encryptionContext: CONTEXT },
      framing: { frameSize: FRAME, tagLength: 16 },
    });
    expect(file.includes(Buffer.from('abcdefghij'))).toBe(false);
  });

  it('uses a fresh data key and nonce prefix per file: the same plaintext encrypts differently', async () => {
    const a = await encrypt(kms, text(100));
    const b = await encrypt(kms, text(100));
    expect(a.equals(b)).toBe(false);
  });
});

describe('tamper detection', () => {
  const kms = new FakeKms();
  const plaintext = text(4 * FRAME + 500); // frames 0-3 full, frame 4 final
  let file: Buffer;
  beforeAll(async () => {
    file = await encrypt(kms, plaintext, { frameSize: FRAME });
  });

  const flip = (at: number) => {
    const copy = Buffer.from(file);
    copy[at] = copy[at]! ^ 0x01;
    return copy;
  };

  it('a flipped byte in every frame region fails that frame and releases nothing of it', async () => {
    const { frames } = frameLayout(file);
    for (const [index, [start, end]] of frames.entries()) {
      for (const at of [start + 4, start + Math.floor((end - start) / 2), end - 1]) {
        const result = await decrypt(kms, flip(at));
        expect(result.error).toBeInstanceOf(AuditExportIntegrityError);
        expect(result.error!.message).toContain(`frame ${index}`);
        expect(result.error!.message).toMatch(/failed AES-GCM authentication/);
        // Only the frames before the tampered one were released, and they are genuine.
        expect(result.plaintext.equals(plaintext.subarray(0, index * FRAME))).toBe(true);
      }
    }
  });

  it('an altered length field is refused', async () => {
    const { frames } = frameLayout(file);
    const copy = Buffer.from(file);
    copy.writeUInt32BE(FRAME - 1, frames[1]![0]);
    const result = await decrypt(kms, copy);
    expect(result.error).toBeInstanceOf(AuditExportIntegrityError);
    const bigger = Buffer.from(file);
    bigger.writeUInt32BE(FRAME + 1, frames[1]![0]);
    const r2 = await decrypt(kms, bigger);
    expect(r2.error?.message).toMatch(/more than the frame size/);
  });

  it('a file cut at a frame boundary is refused (the last frame left was not sealed as final)', async () => {
    const { frames } = frameLayout(file);
    const result = await decrypt(kms, file.subarray(0, frames[2]![1]));
    expect(result.error).toBeInstanceOf(AuditExportIntegrityError);
    expect(result.error!.message).toMatch(/truncated: it ends after 3 frame\(s\) without the final frame/);
  });

  it('a file cut inside a frame or inside the header is refused', async () => {
    const { frames, headerEnd } = frameLayout(file);
    expect((await decrypt(kms, file.subarray(0, frames[1]![0] + 100))).error?.message).toMatch(/truncated/);
    expect((await decrypt(kms, file.subarray(0, headerEnd - 5))).error?.message).toMatch(
      /truncated: it ends inside the envelope header/,
    );
    expect((await decrypt(kms, file.subarray(0, 5))).error?.message).toMatch(/truncated/);
  });

  it('dropping, duplicating or swapping frames is refused', async () => {
    const { frames, headerEnd } = frameLayout(file);
    const part = (i: number) => file.subarray(frames[i]![0], frames[i]![1]);
    const head = file.subarray(0, headerEnd);
    const variants = {
      dropped: Buffer.concat([head, part(0), part(2), part(3), part(4)]),
      duplicated: Buffer.concat([head, part(0), part(0), part(1), part(2), part(3), part(4)]),
      swapped: Buffer.concat([head, part(1), part(0), part(2), part(3), part(4)]),
      finalMovedUp: Buffer.concat([head, part(0), part(4)]),
    };
    for (const [name, bad] of Object.entries(variants)) {
      const result = await decrypt(kms, bad);
      expect([name, result.error]).toEqual([name, expect.any(AuditExportIntegrityError)]);
    }
  });

  it('bytes after the final frame are refused', async () => {
    const result = await decrypt(kms, Buffer.concat([file, Buffer.from('x')]));
    expect(result.error?.message).toMatch(/1 unexpected byte\(s\) after the final frame/);
  });

  it('a frame from another file under another data key does not authenticate', async () => {
    const other = await encrypt(kms, text(4 * FRAME + 500), { frameSize: FRAME });
    const { frames } = frameLayout(file);
    const { frames: otherFrames } = frameLayout(other);
    const spliced = Buffer.concat([
      file.subarray(0, frames[2]![0]),
      other.subarray(otherFrames[2]![0], otherFrames[2]![1]),
      file.subarray(frames[3]![0]),
    ]);
    const result = await decrypt(kms, spliced);
    expect(result.error?.message).toContain('frame 2');
  });

  it('a header byte changed outside the key material still fails every frame (header hash in the AAD)', async () => {
    const { headerEnd } = frameLayout(file);
    const header = file.subarray(12, headerEnd).toString();
    const edited = header.replace('text/csv', 'text/cs_');
    expect(edited).not.toBe(header);
    const copy = Buffer.concat([file.subarray(0, 12), Buffer.from(edited), file.subarray(headerEnd)]);
    const result = await decrypt(kms, copy);
    expect(result.error?.message).toMatch(/frame 0 .* failed AES-GCM authentication/);
    expect(result.plaintext.length).toBe(0);
  });

  it('a file that is not an export, or has a malformed header, is named as such', async () => {
    expect((await decrypt(kms, Buffer.from('order_id,side\r\n1,buy\r\n'))).error?.message).toMatch(
      /not an encrypted audit export/,
    );
    const { headerEnd } = frameLayout(file);
    const broken = Buffer.from(file);
    broken[headerEnd - 1] = 0x20; // the header's closing brace
    expect((await decrypt(kms, broken)).error?.message).toMatch(/envelope header is not valid JSON/);
  });
});

describe('data key access', () => {
  it('the wrong encryption context is refused by the key service and nothing is released', async () => {
    const kms = new FakeKms();
    const file = await encrypt(kms, text(3000));
    const result = await decrypt(kms, file, { context: { ...CONTEXT, table: 'fills' } });
    expect(result.error).toBeInstanceOf(AuditExportKeyError);
    expect(result.plaintext.length).toBe(0);
  });

  it('the wrong master key is refused and nothing is released', async () => {
    const kms = new FakeKms();
    kms.addKey('arn:aws:kms:us-east-1:123456789012:key/other');
    const file = await encrypt(kms, text(3000));
    const result = await decrypt(kms, file, { keyId: 'arn:aws:kms:us-east-1:123456789012:key/other' });
    expect(result.error).toBeInstanceOf(AuditExportKeyError);
    expect(result.plaintext.length).toBe(0);
  });

  it('refuses a data key that is not 256 bits', async () => {
    const kms = new FakeKms();
    const key = await kms.generateDataKey(CONTEXT);
    const header = newEnvelopeHeader({
      keyId: key.keyId,
      encryptedDataKey: key.encrypted,
      encryptionContext: CONTEXT,
      contentType: 'text/csv',
    });
    expect(() => new FrameEncryptor(header, Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});
