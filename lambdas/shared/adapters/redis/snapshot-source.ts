import type { Manifest } from '../../manifest';
import { SNAPSHOT_ID_PATTERN } from '../../feature-snapshot';

/**
 * Where feature snapshots are read from: list the complete ones, read a manifest, stream
 * a file. One implementation per object store (S3 here); fakes in unit tests.
 */
export interface SnapshotFileVersion {
  versionId?: string;
  etag?: string;
}

export interface OpenedSnapshotFile {
  body: AsyncIterable<Uint8Array>;
  /** Identifies the bytes read, so a second read can insist on the very same ones. */
  version: SnapshotFileVersion;
}

export interface SnapshotSource {
  /** Where the snapshots live, for evidence (e.g. `s3://bucket/feature-snapshots/`). */
  readonly location: string;
  /** Ids of complete snapshots (their manifest exists), in any order. */
  listSnapshots(): Promise<string[]>;
  readManifest(snapshotId: string): Promise<Manifest>;
  /** null when the file does not exist. With `pin`, the exact version read before, or an error. */
  openFile(snapshotId: string, file: string, pin?: SnapshotFileVersion): Promise<OpenedSnapshotFile | null>;
}

/** Ids start with their UTC creation time, so the latest sorts last; anything else is ignored. */
export function latestSnapshotId(ids: Iterable<string>): string | undefined {
  let latest: string | undefined;
  for (const id of ids)
    if (SNAPSHOT_ID_PATTERN.test(id) && (latest === undefined || id > latest)) latest = id;
  return latest;
}
