import type { Redis } from 'ioredis';
import type { FeatureRecord } from '../../feature-snapshot';

export interface ScanFeatureRecordsOptions {
  /** SCAN MATCH pattern of the hot keys. @default '*' */
  match?: string;
  /** SCAN COUNT hint and pipeline size. @default 500 */
  count?: number;
  /** Keys of other types than hash and string are not snapshotted; told here. */
  onSkipped?: (key: string, type: string) => void;
}

/**
 * The live feature cache as snapshot records (hashes and strings, with their remaining
 * TTL), read with SCAN in pipelined batches: constant memory apart from the set of keys
 * already emitted (SCAN may return a key twice).
 */
export async function* scanFeatureRecords(
  redis: Redis,
  opts: ScanFeatureRecordsOptions = {},
): AsyncGenerator<FeatureRecord> {
  const count = opts.count ?? 500;
  const seen = new Set<string>();
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', opts.match ?? '*', 'COUNT', count);
    cursor = next;
    const keys = found.filter((k) => !seen.has(k));
    if (keys.length === 0) continue;
    const meta = redis.pipeline();
    for (const key of keys) meta.type(key).pttl(key);
    const metaReplies = (await meta.exec()) ?? [];
    const reads = redis.pipeline();
    const wanted: { key: string; type: string; pttl: number }[] = [];
    keys.forEach((key, i) => {
      const type = String(metaReplies[2 * i]?.[1]);
      const pttl = Number(metaReplies[2 * i + 1]?.[1]);
      if (type === 'hash') reads.hgetall(key);
      else if (type === 'string') reads.get(key);
      else {
        if (type !== 'none') opts.onSkipped?.(key, type);
        return;
      }
      wanted.push({ key, type, pttl });
    });
    const values = (await reads.exec()) ?? [];
    for (const [i, { key, type, pttl }] of wanted.entries()) {
      const [err, value] = values[i] ?? [null, null];
      if (err) throw err;
      if (value === null || pttl === -2) continue; // expired meanwhile
      const ttl = pttl > 0 ? pttl / 1000 : undefined;
      seen.add(key);
      if (type === 'hash') {
        const fields = value as Record<string, string>;
        if (Object.keys(fields).length === 0) continue;
        yield { key, fields, ...(ttl !== undefined ? { ttl } : {}) };
      } else {
        yield { key, value: String(value), ...(ttl !== undefined ? { ttl } : {}) };
      }
    }
  } while (cursor !== '0');
}
