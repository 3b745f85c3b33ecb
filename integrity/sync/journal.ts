import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * What a sync has sent for one target object: the multipart upload it belongs to and,
 * per part, the MD5 (= the ETag S3 returns for an unencrypted or SSE-S3 part) and SHA-256
 * of the bytes sent. A resumed sync checks every part S3 lists against these before it
 * counts the part as done, so a part that was damaged, replaced or belongs to other
 * content is sent again. Without a journal entry the sync falls back to re-reading the
 * source part (no re-send when it matches).
 */
export interface JournalPart {
  size: number;
  md5: string;
  sha256: string;
}

export interface JournalEntry {
  version: 1;
  bucket: string;
  key: string;
  /** SHA-256 and size of the whole file (from the manifest): an entry never applies to other content. */
  fileSha256: string;
  size: number;
  /** Sizes of the planned parts, so a different part layout does not reuse the entry. */
  layout: string;
  uploadId: string;
  checksumAlgorithm: 'SHA256';
  /** The target returns MD5 ETags (no SSE-KMS / SSE-C), so an ETag vouches for a part's bytes. */
  etagIsMd5: boolean;
  parts: Record<string, JournalPart>;
  updatedAt: string;
}

export interface JournalKey {
  bucket: string;
  key: string;
  fileSha256: string;
  size: number;
  layout: string;
}

export interface SyncJournal {
  /** Where it lives, for messages. */
  readonly location: string;
  load(key: JournalKey): Promise<JournalEntry | undefined>;
  save(entry: JournalEntry): Promise<void>;
  remove(key: JournalKey): Promise<void>;
}

/** A short fingerprint of a part layout: the part sizes in order. */
export function layoutFingerprint(partSizes: readonly number[]): string {
  return createHash('sha256').update(partSizes.join(',')).digest('hex').slice(0, 16);
}

const entryId = (k: JournalKey) =>
  createHash('sha256')
    .update(JSON.stringify([k.bucket, k.key, k.fileSha256, k.size, k.layout]))
    .digest('hex');

const matches = (entry: JournalEntry, k: JournalKey) =>
  entry.bucket === k.bucket &&
  entry.key === k.key &&
  entry.fileSha256 === k.fileSha256 &&
  entry.size === k.size &&
  entry.layout === k.layout;

/** In memory: resumes within one process (an interrupted call retried by its caller). */
export class MemorySyncJournal implements SyncJournal {
  readonly location = 'memory';
  private readonly entries = new Map<string, JournalEntry>();

  async load(key: JournalKey) {
    const entry = this.entries.get(entryId(key));
    return entry ? structuredClone(entry) : undefined;
  }
  async save(entry: JournalEntry) {
    this.entries.set(entryId(entry), structuredClone(entry));
  }
  async remove(key: JournalKey) {
    this.entries.delete(entryId(key));
  }
}

/**
 * One JSON file per target object in a directory, replaced atomically (write + rename),
 * so a crash mid-write leaves the previous state. Survives the process: a second
 * `data-sync` run resumes where the first stopped.
 */
export class FileSyncJournal implements SyncJournal {
  constructor(readonly location: string) {}

  private file(key: JournalKey) {
    return path.join(this.location, `${entryId(key)}.json`);
  }

  async load(key: JournalKey) {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const entry = JSON.parse(text) as JournalEntry;
      return entry.version === 1 && matches(entry, key) ? entry : undefined;
    } catch {
      // A damaged journal only costs re-reading the source parts, never correctness.
      return undefined;
    }
  }

  async save(entry: JournalEntry) {
    await fs.promises.mkdir(this.location, { recursive: true });
    const target = this.file(entry);
    const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await fs.promises.writeFile(tmp, JSON.stringify(entry));
    await fs.promises.rename(tmp, target);
  }

  async remove(key: JournalKey) {
    await fs.promises.rm(this.file(key), { force: true });
  }
}
