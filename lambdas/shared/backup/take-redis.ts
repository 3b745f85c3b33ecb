import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { RedisKeyDigest } from './contracts';
import { BackupFailedError } from './errors';

/**
 * A Redis snapshot (RDB) whose per-key digests describe exactly what the RDB holds.
 *
 * Writes are held with `CLIENT PAUSE <ms> WRITE` on the primary (reads, replication and
 * this connection's own reads go on; keys neither expire nor get evicted while paused)
 * while every key's TYPE and DUMP digest is listed and BGSAVE forks: the fork IS the
 * snapshot, so the RDB and the digests are the same state. The pause is lifted right after
 * the fork (in a finally, and bounded by its timeout if this process dies), then the RDB
 * file is read once the save has finished. The RDB is read from the server's `dir`, so
 * this runs on the Redis host (the sandbox); a managed service would export its snapshot.
 */
export interface RedisBackupSource {
  host: string;
  port: number;
  /** Upper bound on the write pause (Redis lifts it by itself after this). @default 10_000 */
  pauseTimeoutMs?: number;
  /** @default 60_000 */
  saveTimeoutMs?: number;
}

export interface TakenRedisSnapshot {
  /** The RDB file, opened once the snapshot's save completed (the caller reads and closes it). */
  rdb: fs.promises.FileHandle;
  rdbBytes: number;
  keys: RedisKeyDigest[];
  redisVersion: string;
  rdbSaveTime: number;
  takenAt: Date;
  source: string;
  timingsMs: Record<string, number>;
}

const info = async (redis: Redis, section: string) =>
  Object.fromEntries(
    (await redis.info(section))
      .split(/\r?\n/)
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
  ) as Record<string, string>;

const elapsed = (since: number) => Math.round(performance.now() - since);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitNoFork(redis: Redis, deadline: number): Promise<Record<string, string>> {
  for (;;) {
    const p = await info(redis, 'persistence');
    if (p.rdb_bgsave_in_progress === '0' && p.aof_rewrite_in_progress === '0') return p;
    if (Date.now() > deadline)
      throw new BackupFailedError(
        'timed out waiting for a running background save or AOF rewrite to finish',
        {
          reason: 'redis-busy',
        },
      );
    await sleep(20);
  }
}

/** Every key of db 0 with TYPE and SHA-256 of DUMP, sorted by key bytes. */
export async function listKeyDigests(redis: Redis): Promise<RedisKeyDigest[]> {
  const keys: Buffer[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scanBuffer(cursor, 'COUNT', 1000);
    cursor = String(next);
    keys.push(...batch);
  } while (cursor !== '0');
  const unique = [...new Map(keys.map((k) => [k.toString('hex'), k])).values()].sort(Buffer.compare);
  const digests: RedisKeyDigest[] = [];
  for (let i = 0; i < unique.length; i += 500) {
    const slice = unique.slice(i, i + 500);
    const pipe = redis.pipeline();
    for (const k of slice) {
      pipe.type(k);
      pipe.dumpBuffer(k);
    }
    const results = (await pipe.exec()) ?? [];
    slice.forEach((k, j) => {
      const [typeErr, type] = results[2 * j]!;
      const [dumpErr, dump] = results[2 * j + 1]!;
      if (typeErr || dumpErr) throw typeErr ?? dumpErr;
      if (dump === null) throw new BackupFailedError(`key ${k.toString()} vanished while writes were paused`);
      digests.push({
        key: k.toString('utf8'),
        type: String(type),
        digest: createHash('sha256')
          .update(dump as Buffer)
          .digest('hex'),
      });
    });
  }
  return digests;
}

export async function takeRedisSnapshot(source: RedisBackupSource): Promise<TakenRedisSnapshot> {
  const pauseMs = source.pauseTimeoutMs ?? 10_000;
  const saveTimeoutMs = source.saveTimeoutMs ?? 60_000;
  const at = `${source.host}:${source.port}`;
  const redis = new Redis({
    host: source.host,
    port: source.port,
    lazyConnect: true,
    maxRetriesPerRequest: 2,
  });
  redis.on('error', () => {});
  const timings: Record<string, number> = {};
  try {
    await redis.connect();
    const server = await info(redis, 'server');
    const replication = await info(redis, 'replication');
    if (replication.role !== 'master')
      throw new BackupFailedError(`${at} is a ${replication.role}, not the primary: back up the primary`, {
        reason: 'not-primary',
      });
    const [, dir] = (await redis.config('GET', 'dir')) as [string, string];
    const [, dbfilename] = (await redis.config('GET', 'dbfilename')) as [string, string];
    await waitNoFork(redis, Date.now() + saveTimeoutMs);

    let t = performance.now();
    let keys: RedisKeyDigest[];
    let savesBefore: number;
    let takenAt: Date;
    await redis.call('CLIENT', 'PAUSE', String(pauseMs), 'WRITE');
    try {
      takenAt = new Date();
      const pauseDeadline = Date.now() + pauseMs;
      keys = await listKeyDigests(redis);
      const dbsize = await redis.dbsize();
      if (dbsize !== keys.length)
        throw new BackupFailedError(`DBSIZE is ${dbsize} but ${keys.length} keys were listed while paused`);
      timings.digestsMs = elapsed(t);
      t = performance.now();
      // BGSAVE forks now; a save the server started on its own (save rules) is waited out first.
      for (;;) {
        const p = await waitNoFork(redis, pauseDeadline);
        savesBefore = Number(p.rdb_saves ?? 'NaN');
        try {
          await redis.bgsave();
          break;
        } catch (err) {
          if (!/in progress/i.test((err as Error).message)) throw err;
        }
      }
      if (Date.now() > pauseDeadline)
        throw new BackupFailedError(
          `listing ${keys.length} keys and forking took longer than the ${pauseMs} ms write pause: the snapshot may include later writes`,
          { reason: 'pause-expired' },
        );
    } finally {
      await redis.call('CLIENT', 'UNPAUSE').catch(() => {});
    }
    timings.forkMs = elapsed(t);
    timings.pausedMs = timings.digestsMs + timings.forkMs;

    t = performance.now();
    const deadline = Date.now() + saveTimeoutMs;
    let p: Record<string, string>;
    for (;;) {
      p = await info(redis, 'persistence');
      if (p.rdb_bgsave_in_progress === '0' && Number(p.rdb_saves) > savesBefore) break;
      if (Date.now() > deadline)
        throw new BackupFailedError(`the background save on ${at} did not finish in ${saveTimeoutMs} ms`, {
          reason: 'save-timeout',
        });
      await sleep(20);
    }
    if (p.rdb_last_bgsave_status !== 'ok')
      throw new BackupFailedError(
        `the background save on ${at} failed (rdb_last_bgsave_status ${p.rdb_last_bgsave_status})`,
        {
          reason: 'save-failed',
        },
      );
    const rdb = await fs.promises.open(path.join(dir, dbfilename), 'r');
    // Opened: a later save replaces the file by rename, this handle keeps our snapshot. Make
    // sure no other save completed between ours and the open.
    const after = await info(redis, 'persistence');
    if (Number(after.rdb_saves) !== savesBefore + 1) {
      await rdb.close();
      throw new BackupFailedError(`another save on ${at} replaced the RDB before it was opened; retry`, {
        reason: 'save-raced',
      });
    }
    const stat = await rdb.stat();
    timings.saveMs = elapsed(t);
    return {
      rdb,
      rdbBytes: stat.size,
      keys,
      redisVersion: server.redis_version ?? 'unknown',
      rdbSaveTime: Number(after.rdb_last_save_time),
      takenAt,
      source: at,
      timingsMs: timings,
    };
  } finally {
    redis.disconnect();
  }
}
