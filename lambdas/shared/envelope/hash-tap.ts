import { createHash, type Hash } from 'node:crypto';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import type { ManifestPart } from '../manifest';

/**
 * Passes bytes through unchanged, counting them and computing their SHA-256 on the way;
 * with a part size, also each part's SHA-256 (the manifest's `parts`, the multipart upload's parts).
 */
export class HashTap extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private readonly partSizeAt?: (index: number) => number | undefined;
  private part = { index: 0, offset: 0, filled: 0, hash: createHash('sha256') };
  private readonly closedParts: ManifestPart[] = [];
  size = 0;
  private hex?: string;

  constructor(opts: { partSize?: number; partSizes?: readonly number[] } = {}) {
    super();
    if (opts.partSizes) this.partSizeAt = (i) => opts.partSizes![i];
    else if (opts.partSize !== undefined) {
      if (!(Number.isInteger(opts.partSize) && opts.partSize > 0))
        throw new RangeError('partSize must be a positive integer');
      this.partSizeAt = () => opts.partSize;
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.partSizeAt) {
      let at = 0;
      while (at < chunk.length) {
        const limit = this.partSizeAt(this.part.index);
        if (limit === undefined) break;
        const take = Math.min(limit - this.part.filled, chunk.length - at);
        this.part.hash.update(chunk.subarray(at, at + take));
        this.part.filled += take;
        at += take;
        if (this.part.filled === limit) this.closePart();
      }
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.partSizeAt && (this.part.filled > 0 || this.closedParts.length === 0)) this.closePart();
    done();
  }

  private closePart() {
    const { index, offset, filled, hash } = this.part;
    this.closedParts.push({ index, offset, size: filled, sha256: hash.digest('hex') });
    this.part = { index: index + 1, offset: offset + filled, filled: 0, hash: createHash('sha256') };
  }

  /** Each part's digest (only with a part size); once the stream has finished. */
  get parts(): ManifestPart[] {
    if (!this.writableFinished) throw new Error('HashTap: the stream has not finished');
    return this.closedParts;
  }

  /** The hex SHA-256 of everything that passed; only once the stream has finished. */
  get sha256(): string {
    if (!this.writableFinished) throw new Error('HashTap: the stream has not finished');
    this.hex ??= this.hash.digest('hex');
    return this.hex;
  }
}

/** A sink that drops everything (verifying without writing the plaintext anywhere). */
export const discard = () =>
  new Writable({
    write(_chunk, _enc, done) {
      done();
    },
  });
