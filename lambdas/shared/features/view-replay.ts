import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FeatureRecord } from '../feature-snapshot';
import { ManifestMismatchError, type Manifest } from '../manifest';
import {
  LineSplitter,
  parseFeatureLine,
  replayCommands,
  type RedisCommand,
} from '../adapters/redis/feature-replay';
import type { SnapshotFileVersion, SnapshotSource } from '../adapters/redis/snapshot-source';

/**
 * Streams the records of a verified snapshot, file by file, from the exact versions that
 * were verified (`pins`), re-hashing each file as it goes: a file that changed since it was
 * verified fails with ManifestMismatchError. Lines are parsed with the hydration's parser.
 */
export async function* snapshotRecords(
  source: SnapshotSource,
  snapshotId: string,
  manifest: Manifest,
  pins: ReadonlyMap<string, SnapshotFileVersion>,
): AsyncGenerator<FeatureRecord> {
  for (const file of manifest.files) {
    const pin = pins.get(file.path);
    const opened = await source.openFile(snapshotId, file.path, pin);
    if (!opened)
      throw new ManifestMismatchError(
        `${file.path} of snapshot ${snapshotId} disappeared after verification`,
        [{ path: file.path, problem: 'missing' }],
      );
    const hash = createHash('sha256');
    const splitter = new LineSplitter();
    let lineNo = 0;
    for await (const chunk of opened.body) {
      hash.update(chunk);
      for (const line of splitter.push(chunk)) yield parseFeatureLine(line, `${file.path}:${(lineNo += 1)}`);
    }
    for (const line of splitter.end()) yield parseFeatureLine(line, `${file.path}:${(lineNo += 1)}`);
    if (hash.digest('hex') !== file.sha256)
      throw new ManifestMismatchError(
        `${file.path} of snapshot ${snapshotId} changed after it was verified`,
        [{ path: file.path, problem: 'sha256', expected: file.sha256, detail: 'changed after verification' }],
      );
  }
}

/**
 * Re-hydrates the keys of one feature view from a verified snapshot with the hydration's
 * replay commands (replayCommands: a hash is replaced whole, a string set, the TTL it had
 * left at the snapshot applied; keys whose TTL has run out are left alone), in MULTI/EXEC
 * batches. Keys of other views are not touched.
 */
export async function replayView(opts: {
  redis: Redis;
  source: SnapshotSource;
  snapshotId: string;
  manifest: Manifest;
  pins: ReadonlyMap<string, SnapshotFileVersion>;
  belongs: (key: string) => boolean;
  nowMs: number;
  /** Records per MULTI/EXEC. @default 500 */
  batchSize?: number;
}): Promise<{ keysWritten: number; keysExpired: number }> {
  const createdAtMs = Date.parse(opts.manifest.createdAt);
  const batchSize = opts.batchSize ?? 500;
  let batch: RedisCommand[] = [];
  let batchRecords = 0;
  let keysWritten = 0;
  let keysExpired = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const multi = opts.redis.multi();
    for (const [command, ...args] of batch) multi.call(command, ...args);
    const replies = await multi.exec();
    const failed = (replies ?? []).find(([err]) => err);
    if (!replies || failed)
      throw new Error(`re-hydration batch failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
    keysWritten += batchRecords;
    batch = [];
    batchRecords = 0;
  };
  for await (const record of snapshotRecords(opts.source, opts.snapshotId, opts.manifest, opts.pins)) {
    if (!opts.belongs(record.key)) continue;
    const commands = replayCommands(record, createdAtMs, opts.nowMs);
    if (commands === 'expired') {
      keysExpired += 1;
      continue;
    }
    batch.push(...commands);
    batchRecords += 1;
    if (batchRecords >= batchSize) await flush();
  }
  await flush();
  return { keysWritten, keysExpired };
}
