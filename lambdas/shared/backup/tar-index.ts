import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { ArchiveFile } from './contracts';
import { BackupFailedError } from './errors';

const BLOCK = 512;

/** An entry added at the end of the archive (before its end-of-archive blocks). */
export interface AppendedEntry {
  path: string;
  bytes: number;
  chunks: AsyncIterable<Buffer>;
}

function parseOctalOrBinary(field: Buffer): number {
  if (field[0]! & 0x80) {
    // base-256 (GNU/PostgreSQL for sizes ≥ 8 GiB)
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = field.toString('ascii').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

const cString = (field: Buffer) => field.toString('utf8').replace(/\0.*$/s, '');

function headerChecksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return parseOctalOrBinary(header.subarray(148, 156)) === sum;
}

/** A ustar header for a regular file (mode 0600). */
export function tarFileHeader(path: string, bytes: number, mtime: Date): Buffer {
  const header = Buffer.alloc(BLOCK);
  const name = Buffer.from(path, 'utf8');
  if (name.length > 100) throw new RangeError(`tar path longer than 100 bytes: ${path}`);
  name.copy(header, 0);
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, '0') + '\0';
  header.write(octal(0o600, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(bytes, 12), 124, 'ascii');
  header.write(octal(Math.floor(mtime.getTime() / 1000), 12), 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += header[i]!;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return header;
}

/**
 * Passes a tar archive through unchanged while listing every regular file with its size and
 * SHA-256 (one file's hash state at a time: memory does not grow with the archive). The
 * archive's end-of-archive blocks are held back so entries can be appended (`append`,
 * called at the end with the files seen) before a fresh end-of-archive is written.
 * A header with a bad checksum or an archive that ends inside an entry fails the stream.
 */
export class TarIndexer extends Transform {
  readonly files: ArchiveFile[] = [];
  /** Paths appended at the end (also in `files`). */
  readonly appended: string[] = [];
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private state: 'header' | 'data' | 'padding' | 'end' = 'header';
  private remaining = 0;
  private current?: { path: string; bytes: number; hash: Hash | null };
  private longName?: string;
  private longNameBuffer?: Buffer[];
  private paxPath?: string;
  private metaKind?: 'gnu-long' | 'pax';

  constructor(private readonly append?: (files: readonly ArchiveFile[]) => AsyncIterable<AppendedEntry>) {
    super();
  }

  private takeBytes(n: number): Buffer {
    const all =
      this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingLength);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingLength = rest.length;
    return out;
  }

  private onHeader(header: Buffer): void {
    if (header.every((b) => b === 0)) {
      this.state = 'end';
      return;
    }
    if (!headerChecksumOk(header))
      throw new BackupFailedError('the base backup tar stream has a header with a bad checksum', {
        reason: 'tar',
        afterFiles: this.files.length,
      });
    const type = String.fromCharCode(header[156]!);
    const size = parseOctalOrBinary(header.subarray(124, 136));
    const prefix =
      header.subarray(257, 262).toString('ascii') === 'ustar' ? cString(header.subarray(345, 500)) : '';
    const name = cString(header.subarray(0, 100));
    const path = this.paxPath ?? this.longName ?? (prefix ? `${prefix}/${name}` : name);
    this.remaining = size;
    if (type === 'L' || type === 'x') {
      this.metaKind = type === 'L' ? 'gnu-long' : 'pax';
      this.longNameBuffer = [];
      this.current = { path: '', bytes: size, hash: null };
    } else {
      this.longName = undefined;
      this.paxPath = undefined;
      this.metaKind = undefined;
      const regular = type === '0' || type === '\0';
      this.current = { path, bytes: size, hash: regular ? createHash('sha256') : null };
    }
    this.state = size > 0 ? 'data' : 'padding';
    if (size === 0) this.closeEntry();
  }

  private closeEntry(): void {
    const entry = this.current!;
    if (this.metaKind && this.longNameBuffer) {
      const text = Buffer.concat(this.longNameBuffer).toString('utf8');
      if (this.metaKind === 'gnu-long') this.longName = text.replace(/\0.*$/s, '');
      else {
        const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text);
        if (m) this.paxPath = m[1];
      }
      this.longNameBuffer = undefined;
    } else if (entry.hash) {
      this.files.push({ path: entry.path, bytes: entry.bytes, sha256: entry.hash.digest('hex') });
    }
  }

  private consume(): void {
    for (;;) {
      if (this.state === 'end') {
        // Everything after the end marker (its second block, record padding) is dropped.
        this.pending = [];
        this.pendingLength = 0;
        return;
      }
      if (this.state === 'header') {
        if (this.pendingLength < BLOCK) return;
        const header = this.takeBytes(BLOCK);
        this.onHeader(header);
        if ((this.state as string) !== 'end') this.push(Buffer.from(header));
        continue;
      }
      if (this.state === 'data') {
        if (this.pendingLength === 0) return;
        const n = Math.min(this.remaining, this.pendingLength);
        const data = this.takeBytes(n);
        this.current!.hash?.update(data);
        this.longNameBuffer?.push(Buffer.from(data));
        this.push(data);
        this.remaining -= n;
        if (this.remaining === 0) {
          this.closeEntry();
          this.state = 'padding';
          this.remaining = (BLOCK - (this.current!.bytes % BLOCK)) % BLOCK;
        }
        continue;
      }
      // padding
      if (this.remaining > 0) {
        if (this.pendingLength === 0) return;
        const n = Math.min(this.remaining, this.pendingLength);
        this.push(this.takeBytes(n));
        this.remaining -= n;
        if (this.remaining > 0) return;
      }
      this.state = 'header';
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (chunk.length > 0) {
        this.pending.push(chunk);
        this.pendingLength += chunk.length;
      }
      this.consume();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.state !== 'end') {
      done(
        new BackupFailedError(
          `the base backup tar stream ended inside an entry or without its end-of-archive blocks (after ${this.files.length} files)`,
          { reason: 'tar' },
        ),
      );
      return;
    }
    void this.appendAll().then(
      () => {
        this.push(Buffer.alloc(2 * BLOCK));
        done();
      },
      (err: unknown) => done(err as Error),
    );
  }

  private async appendAll(): Promise<void> {
    if (!this.append) return;
    const now = new Date();
    for await (const entry of this.append(this.files)) {
      this.push(tarFileHeader(entry.path, entry.bytes, now));
      const hash = createHash('sha256');
      let written = 0;
      for await (const chunk of entry.chunks) {
        hash.update(chunk);
        written += chunk.length;
        this.push(chunk);
      }
      if (written !== entry.bytes)
        throw new BackupFailedError(
          `appending ${entry.path}: read ${written} bytes, expected ${entry.bytes}`,
          {
            reason: 'tar',
          },
        );
      const pad = (BLOCK - (written % BLOCK)) % BLOCK;
      if (pad > 0) this.push(Buffer.alloc(pad));
      this.files.push({ path: entry.path, bytes: written, sha256: hash.digest('hex') });
      this.appended.push(entry.path);
    }
  }
}
