import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import * as z from 'zod';
import { formatIssues } from '../topology';

/**
 * Framed AES-256-GCM envelope encryption, shared by the regulator audit export
 * (integrity/audit-export, magic TPAEXP01) and backups (lambdas/shared/backup, TPBKUP01).
 * Each user names its format with an EnvelopeProfile (magic, header `format`, its error).
 *
 * The encrypted file ("framed AES-256-GCM", one fresh KMS data key per file):
 *
 *   file    = magic (8 bytes, e.g. "TPAEXP01") ‖ uint32be(headerLength) ‖ header ‖ frame₀ ‖ … ‖ frameₙ
 *   header  = UTF-8 JSON (EnvelopeHeader): algorithm, the KMS key id, the KMS-encrypted data
 *             key, the encryption context, the framing parameters and a random nonce prefix
 *   frameᵢ  = uint32be(plaintextLengthᵢ) ‖ AES-256-GCM ciphertextᵢ ‖ tagᵢ (16 bytes)
 *   IVᵢ     = noncePrefix (4 bytes) ‖ uint64be(i)                       (12 bytes)
 *   AADᵢ    = SHA-256(header bytes) ‖ uint64be(i) ‖ uint8(i is final)  (41 bytes)
 *
 * Every frame but the last holds exactly `frameSize` plaintext bytes; the last holds fewer
 * (possibly none), so every file, even an empty one, ends with exactly one final frame.
 *
 * Why frames and not one GCM stream with its tag at the end: a single GCM decryption hands
 * out plaintext long before it reaches the tag, so nothing could be trusted until the whole
 * file had been read. Here each frame is authenticated before a byte of it is released, and
 * a tampered byte is found in (and reported for) the frame that holds it. The frame index in
 * the IV and the AAD makes reordering, dropping or duplicating frames fail authentication.
 * A file always ends with one short final frame, so a file cut at a frame boundary has none
 * and is refused; the final flag in the AAD authenticates each frame's finality as well, so no
 * frame sealed as "not final" can pass as the end. The header hash in the AAD binds every frame
 * to this header (key, context, parameters). IVs never repeat under a key: the key is used for one file only
 * and the frame index is unique within it. This is the construction of the AWS Encryption
 * SDK's framed messages and of the STREAM online AEAD (Hoang, Reyhanitabar, Rogaway, Vizár).
 */
export const ALGORITHM = 'AES-256-GCM';
export const DEFAULT_FRAME_SIZE = 64 * 1024;
export const TAG_LENGTH = 16;
const NONCE_PREFIX_LENGTH = 4;
const MAX_HEADER_LENGTH = 64 * 1024;
const MAX_FRAME_SIZE = 16 * 1024 * 1024;

export const EncryptionContextSchema = z.record(z.string(), z.string());
export type EncryptionContext = z.infer<typeof EncryptionContextSchema>;

/** What distinguishes one user's files: their magic, header `format` and integrity error. */
export interface EnvelopeProfile {
  /** 8 ASCII bytes every file starts with. */
  magic: Buffer;
  /** The header's `format`. */
  format: string;
  /** For messages: "an encrypted audit export". */
  description: string;
  /** The error an integrity failure is reported with; `details.truncated` is true when the file ended early. */
  integrityError: (message: string, details: Record<string, unknown>) => Error;
}

export const EnvelopeHeaderSchema = z
  .object({
    format: z.string().regex(/^[a-z][a-z0-9-]*$/),
    version: z.literal(1),
    algorithm: z.literal(ALGORITHM),
    kms: z
      .object({
        keyId: z.string().min(1),
        /** Base64 of the data key as KMS GenerateDataKey encrypted it. */
        encryptedDataKey: z.string().min(1),
        encryptionContext: EncryptionContextSchema,
      })
      .strict(),
    framing: z
      .object({
        frameSize: z.number().int().min(1).max(MAX_FRAME_SIZE),
        tagLength: z.literal(TAG_LENGTH),
        noncePrefix: z.string().regex(/^[0-9a-f]{8}$/),
        iv: z.literal('noncePrefix(4) || uint64be(frameIndex)'),
        aad: z.literal('sha256(header) || uint64be(frameIndex) || uint8(isFinal)'),
        frame: z.literal('uint32be(plaintextLength) || ciphertext || tag(16)'),
      })
      .strict(),
    content: z.object({ type: z.string(), description: z.string().optional() }).strict(),
  })
  .strict();
export type EnvelopeHeader = z.infer<typeof EnvelopeHeaderSchema>;

/** The header for a new file; `noncePrefix` is random unless given (tests). */
export function newEnvelopeHeader(input: {
  format: string;
  keyId: string;
  encryptedDataKey: Uint8Array;
  encryptionContext: EncryptionContext;
  contentType: string;
  description?: string;
  frameSize?: number;
  noncePrefix?: Buffer;
}): EnvelopeHeader {
  return EnvelopeHeaderSchema.parse({
    format: input.format,
    version: 1,
    algorithm: ALGORITHM,
    kms: {
      keyId: input.keyId,
      encryptedDataKey: Buffer.from(input.encryptedDataKey).toString('base64'),
      encryptionContext: input.encryptionContext,
    },
    framing: {
      frameSize: input.frameSize ?? DEFAULT_FRAME_SIZE,
      tagLength: TAG_LENGTH,
      noncePrefix: (input.noncePrefix ?? randomBytes(NONCE_PREFIX_LENGTH)).toString('hex'),
      iv: 'noncePrefix(4) || uint64be(frameIndex)',
      aad: 'sha256(header) || uint64be(frameIndex) || uint8(isFinal)',
      frame: 'uint32be(plaintextLength) || ciphertext || tag(16)',
    },
    content: {
      type: input.contentType,
      ...(input.description !== undefined ? { description: input.description } : {}),
    },
  });
}

function frameIv(noncePrefix: Buffer, index: number): Buffer {
  const iv = Buffer.alloc(12);
  noncePrefix.copy(iv, 0);
  iv.writeBigUInt64BE(BigInt(index), NONCE_PREFIX_LENGTH);
  return iv;
}

function frameAad(headerDigest: Buffer, index: number, final: boolean): Buffer {
  const aad = Buffer.alloc(32 + 8 + 1);
  headerDigest.copy(aad, 0);
  aad.writeBigUInt64BE(BigInt(index), 32);
  aad[40] = final ? 1 : 0;
  return aad;
}

function checkDataKey(key: Uint8Array): Buffer {
  if (key.length !== 32) throw new RangeError(`an AES-256 data key has 32 bytes, not ${key.length}`);
  return Buffer.from(key);
}

/** Plaintext in, the whole encrypted file out (preamble, header, frames), holding at most one frame. */
export class FrameEncryptor extends Transform {
  private readonly key: Buffer;
  private readonly magic: Buffer;
  private readonly headerBytes: Buffer;
  private readonly headerDigest: Buffer;
  private readonly noncePrefix: Buffer;
  private readonly frameSize: number;
  private readonly pending: Buffer;
  private filled = 0;
  private index = 0;
  private wroteHeader = false;
  frames = 0;

  constructor(header: EnvelopeHeader, dataKey: Uint8Array, magic: Buffer) {
    super();
    if (magic.length !== 8) throw new RangeError('an envelope magic has 8 bytes');
    this.magic = magic;
    this.key = checkDataKey(dataKey);
    this.headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
    this.headerDigest = createHash('sha256').update(this.headerBytes).digest();
    this.noncePrefix = Buffer.from(header.framing.noncePrefix, 'hex');
    this.frameSize = header.framing.frameSize;
    this.pending = Buffer.alloc(this.frameSize);
  }

  /** The header bytes exactly as written into the file (their SHA-256 is in every frame's AAD). */
  get header(): Buffer {
    return this.headerBytes;
  }

  private writeHeaderOnce() {
    if (this.wroteHeader) return;
    this.wroteHeader = true;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(this.headerBytes.length);
    this.push(Buffer.concat([this.magic, length, this.headerBytes]));
  }

  private seal(plaintext: Buffer, final: boolean) {
    const cipher = createCipheriv('aes-256-gcm', this.key, frameIv(this.noncePrefix, this.index), {
      authTagLength: TAG_LENGTH,
    });
    cipher.setAAD(frameAad(this.headerDigest, this.index, final));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(plaintext.length);
    const body = cipher.update(plaintext);
    const rest = cipher.final();
    this.push(Buffer.concat([length, body, rest, cipher.getAuthTag()]));
    this.index += 1;
    this.frames += 1;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.writeHeaderOnce();
      let at = 0;
      while (at < chunk.length) {
        const take = Math.min(this.frameSize - this.filled, chunk.length - at);
        chunk.copy(this.pending, this.filled, at, at + take);
        this.filled += take;
        at += take;
        if (this.filled === this.frameSize) {
          this.seal(this.pending, false);
          this.filled = 0;
        }
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.writeHeaderOnce();
      this.seal(this.pending.subarray(0, this.filled), true);
      this.pending.fill(0);
      this.key.fill(0);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

/** Reads the file's preamble and header; the bytes after them are the frames. */
export interface ParsedHeader {
  header: EnvelopeHeader;
  /** The header bytes as stored (hashed into every frame's AAD). */
  bytes: Buffer;
}

export function parseHeaderBytes(bytes: Buffer, source: string, profile: EnvelopeProfile): EnvelopeHeader {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw profile.integrityError(`${source}: the envelope header is not valid JSON`, { source });
  }
  const parsed = EnvelopeHeaderSchema.safeParse(json);
  if (!parsed.success)
    throw profile.integrityError(
      `${source}: the envelope header is not one this tool wrote:\n${formatIssues(parsed.error.issues)}`,
      { source },
    );
  if (parsed.data.format !== profile.format)
    throw profile.integrityError(
      `${source}: the envelope header's format is ${parsed.data.format}, not ${profile.format}`,
      { source },
    );
  return parsed.data;
}

/** Small FIFO of byte chunks: take exactly n bytes once they have arrived. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;
  push(chunk: Buffer) {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }
  peek(n: number): Buffer {
    return this.take(n, false);
  }
  take(n: number, consume = true): Buffer {
    if (n > this.length) throw new RangeError('not enough bytes queued');
    const first = this.chunks[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (consume) {
        if (first.length === n) this.chunks.shift();
        else this.chunks[0] = first.subarray(n);
        this.length -= n;
      }
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const c = this.chunks[i]!;
      const take = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, take);
      filled += take;
      i += 1;
    }
    if (consume) {
      let left = n;
      while (left > 0) {
        const c = this.chunks[0]!;
        if (c.length <= left) {
          left -= c.length;
          this.chunks.shift();
        } else {
          this.chunks[0] = c.subarray(left);
          left = 0;
        }
      }
      this.length -= n;
    }
    return out;
  }
}

export interface FrameDecryptorOptions {
  /** Names the file in errors. */
  source: string;
  profile: EnvelopeProfile;
  /**
   * Called once the header has been read: checks it against what is expected and returns
   * the plaintext data key (KMS Decrypt). Throwing stops the stream with that error.
   */
  unwrapKey: (parsed: ParsedHeader) => Promise<Uint8Array>;
}

/**
 * The whole encrypted file in, authenticated plaintext out. A frame's plaintext is released
 * only after its GCM tag has verified; a bad tag, a frame out of place, a missing final frame
 * or bytes after it stop the stream with the profile's integrity error naming the frame and its
 * byte offset in the file.
 */
export class FrameDecryptor extends Transform {
  private readonly opts: FrameDecryptorOptions;
  private readonly queue = new ByteQueue();
  private state: 'preamble' | 'header' | 'frames' | 'done' = 'preamble';
  private headerLength = 0;
  private parsed?: ParsedHeader;
  private key?: Buffer;
  private headerDigest?: Buffer;
  private noncePrefix?: Buffer;
  private offset = 0;
  private index = 0;
  frames = 0;

  constructor(opts: FrameDecryptorOptions) {
    super();
    this.opts = opts;
  }

  get header(): ParsedHeader | undefined {
    return this.parsed;
  }

  private fail(message: string, details: Record<string, unknown> = {}): Error {
    return this.opts.profile.integrityError(`${this.opts.source}: ${message}`, {
      source: this.opts.source,
      ...details,
    });
  }

  private async step(): Promise<void> {
    for (;;) {
      if (this.state === 'preamble') {
        const { magic: expected, description } = this.opts.profile;
        if (this.queue.length < expected.length + 4) return;
        const magic = this.queue.take(expected.length);
        if (!magic.equals(expected))
          throw this.fail(`not ${description} (the file does not start with ${expected.toString('ascii')})`);
        this.headerLength = this.queue.take(4).readUInt32BE(0);
        if (this.headerLength < 2 || this.headerLength > MAX_HEADER_LENGTH)
          throw this.fail(`implausible envelope header length ${this.headerLength}`);
        this.offset = expected.length + 4;
        this.state = 'header';
      }
      if (this.state === 'header') {
        if (this.queue.length < this.headerLength) return;
        const bytes = Buffer.from(this.queue.take(this.headerLength));
        const header = parseHeaderBytes(bytes, this.opts.source, this.opts.profile);
        this.offset += this.headerLength;
        this.parsed = { header, bytes };
        this.key = checkDataKey(await this.opts.unwrapKey(this.parsed));
        this.headerDigest = createHash('sha256').update(bytes).digest();
        this.noncePrefix = Buffer.from(header.framing.noncePrefix, 'hex');
        this.state = 'frames';
      }
      if (this.state === 'frames') {
        if (this.queue.length < 4) return;
        const length = this.queue.peek(4).readUInt32BE(0);
        const { frameSize } = this.parsed!.header.framing;
        if (length > frameSize)
          throw this.fail(
            `frame ${this.index} at byte ${this.offset} declares ${length} plaintext bytes, more than the frame size ${frameSize}: the file was altered`,
            { frame: this.index, offset: this.offset },
          );
        if (this.queue.length < 4 + length + TAG_LENGTH) return;
        this.queue.take(4);
        const body = this.queue.take(length);
        const tag = this.queue.take(TAG_LENGTH);
        const final = length < frameSize;
        const decipher = createDecipheriv('aes-256-gcm', this.key!, frameIv(this.noncePrefix!, this.index), {
          authTagLength: TAG_LENGTH,
        });
        decipher.setAAD(frameAad(this.headerDigest!, this.index, final));
        decipher.setAuthTag(tag);
        let plaintext: Buffer;
        try {
          plaintext = Buffer.concat([decipher.update(body), decipher.final()]);
        } catch {
          throw this.fail(
            `frame ${this.index} (bytes ${this.offset}–${this.offset + 4 + length + TAG_LENGTH - 1}) failed AES-GCM authentication: the file was altered, truncated at a frame boundary, or its frames reordered`,
            { frame: this.index, offset: this.offset },
          );
        }
        this.offset += 4 + length + TAG_LENGTH;
        this.index += 1;
        this.frames += 1;
        if (plaintext.length > 0) this.push(plaintext);
        if (final) this.state = 'done';
        continue;
      }
      // done
      if (this.queue.length > 0)
        throw this.fail(
          `${this.queue.length} unexpected byte(s) after the final frame at byte ${this.offset}`,
          {
            offset: this.offset,
          },
        );
      return;
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.queue.push(chunk);
    this.step().then(
      () => done(),
      (err: unknown) => done(err as Error),
    );
  }

  override _flush(done: TransformCallback): void {
    this.key?.fill(0);
    if (this.state === 'done') return done();
    const where =
      this.state === 'frames'
        ? `after ${this.index} frame(s) without the final frame (byte ${this.offset}${this.queue.length ? ` + ${this.queue.length} incomplete` : ''})`
        : `inside the ${this.state === 'preamble' ? 'preamble' : 'envelope header'}`;
    done(
      this.fail(`the file is truncated: it ends ${where}`, {
        frame: this.index,
        offset: this.offset,
        truncated: true,
      }),
    );
  }
}
