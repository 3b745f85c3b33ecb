import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import {
  classifyError,
  DrError,
  FencingFailedError,
  InvalidInputError,
  NotReadyYetError,
  PromotionFailedError,
  TransientError,
} from '../../errors';
import { FEATURE_SNAPSHOT_KIND } from '../../feature-snapshot';
import {
  ManifestInvalidError,
  ManifestMismatchError,
  verifyAgainstManifest,
  type Manifest,
} from '../../manifest';
import type { Topology } from '../../topology';
import type { RedisAdapter } from '../contracts';
import {
  LineSplitter,
  MalformedFeatureRecordError,
  parseFeatureLine,
  replayCommands,
  type RedisCommand,
} from './feature-replay';
import { parseInfo, parseRoleReply, type RoleReading } from './replication-info';
import { latestSnapshotId, type SnapshotFileVersion, type SnapshotSource } from './snapshot-source';
import {
  fenceConfig,
  isFenced,
  isWriteRefusal,
  parseWriteGuardSettings,
  unfenceConfig,
  WRITE_GUARD_PARAMETERS,
  type WriteGuardSettings,
} from './write-fence';

/** No complete feature snapshot exists to hydrate from. */
export class SnapshotNotFoundError extends DrError {
  override name = 'SnapshotNotFoundError';
}

export interface IoredisAdapterProps {
  readonly host: string;
  readonly port: number;
  /** Feature snapshots to hydrate from (needed by hydrateFromSnapshot only). */
  readonly snapshots?: SnapshotSource;
  /** TLS, auth and other ioredis settings. */
  readonly redisOptions?: Omit<RedisOptions, 'host' | 'port' | 'lazyConnect'>;
  /** How long promote() waits for ROLE to report master. @default 10_000 */
  readonly promoteTimeoutMs?: number;
  /** Records per MULTI/EXEC batch when hydrating. @default 500 */
  readonly hydrationBatchSize?: number;
  /** Key recording the snapshot last hydrated (makes hydration idempotent). @default 'dr:hydrated-snapshot' */
  readonly hydratedMarkerKey?: string;
  /** CONFIG REWRITE after (un)fencing so it survives a restart. @default true */
  readonly persistFence?: boolean;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface RedisStatus {
  reachable: boolean;
  role: 'master' | 'replica' | 'unknown';
  replicationOffset: number;
  linkUp: boolean | null;
  keys: number;
  /** Refuses writes because of a fence (or as a read-only replica). */
  fenced?: boolean;
  error?: string;
}

export interface FenceResult {
  alreadyDone: boolean;
  mechanism: 'min-replicas-to-write' | 'replica-read-only';
  /** The settings the fence replaced: pass them to unfence() to restore exactly. */
  previous: WriteGuardSettings;
  /** CONFIG REWRITE succeeded, so the fence survives a restart. */
  persisted: boolean;
  verifiedWriteRefused: true;
}

export interface HydrationResult {
  snapshot: string;
  keysWritten: number;
  verified: boolean;
  alreadyDone: boolean;
  source: string;
  files: number;
  /** Records in the snapshot and, of those, expired since it was taken (left alone). */
  records: number;
  keysExpired: number;
  appliedAt?: string;
}

const WRITE_PROBE_KEY = 'dr:write-probe';

/**
 * RedisAdapter for one Redis node over ioredis: the old primary (status, fence) or the
 * replica taking over (status, promote, hydrate). Cluster mode is not supported.
 */
export class IoredisAdapter implements RedisAdapter {
  private redis: Redis | undefined;
  private readonly now: () => number;
  private readonly markerKey: string;

  constructor(private readonly props: IoredisAdapterProps) {
    this.now = props.now ?? Date.now;
    this.markerKey = props.hydratedMarkerKey ?? 'dr:hydrated-snapshot';
  }

  /** A connected client; a client that gave up reconnecting is replaced. */
  private async client(): Promise<Redis> {
    if (this.redis && this.redis.status !== 'end') {
      if (this.redis.status === 'wait') await this.redis.connect();
      return this.redis;
    }
    const redis = new Redis({
      connectTimeout: 2000,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => (times > 2 ? null : 200),
      ...this.props.redisOptions,
      host: this.props.host,
      port: this.props.port,
      lazyConnect: true,
    });
    redis.on('error', () => {}); // failures surface on the command that hit them
    this.redis = redis;
    await redis.connect();
    return redis;
  }

  private async run<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.client());
    } catch (err) {
      if (!isConnectionFailure(err)) throw classifyError(err);
      // Start afresh next time instead of queueing behind a client that is reconnecting.
      this.redis?.disconnect();
      this.redis = undefined;
      throw new TransientError(
        `Redis ${this.props.host}:${this.props.port} unreachable: ${(err as Error).message}`,
      );
    }
  }

  private async role(redis: Redis): Promise<RoleReading> {
    return parseRoleReply(await redis.call('ROLE'));
  }

  private async guardSettings(redis: Redis): Promise<WriteGuardSettings> {
    return parseWriteGuardSettings(await redis.call('CONFIG', 'GET', ...WRITE_GUARD_PARAMETERS));
  }

  /** true when a write is accepted; false when refused by a fence or read-only replica. */
  private async tryWrite(redis: Redis): Promise<boolean> {
    try {
      await redis.set(WRITE_PROBE_KEY, new Date(this.now()).toISOString(), 'PX', 60_000);
      return true;
    } catch (err) {
      if (isWriteRefusal(err)) return false;
      throw err;
    }
  }

  async status(): Promise<RedisStatus> {
    try {
      return await this.run(async (redis) => {
        const role = await this.role(redis);
        const info = parseInfo(await redis.info('replication'));
        const keys = await redis.dbsize();
        // CONFIG may be disabled (managed services): then whether it is fenced is unknown.
        const fenced = await this.guardSettings(redis).then(
          (s) => isFenced(role.role, s),
          () => undefined,
        );
        return {
          reachable: true,
          role: role.role,
          replicationOffset: role.replicationOffset,
          linkUp: role.role === 'replica' ? info.master_link_status === 'up' : null,
          keys,
          ...(fenced === undefined ? {} : { fenced }),
        };
      });
    } catch (err) {
      return {
        reachable: false,
        role: 'unknown',
        replicationOffset: 0,
        linkUp: null,
        keys: 0,
        error: (err as Error).message,
      };
    }
  }

  /** REPLICAOF NO ONE, confirmed by ROLE = master and a write accepted. */
  promote(): Promise<{
    alreadyDone: boolean;
    replicationOffsetAtPromotion: number;
    previousMaster: string | null;
    verifiedWritable: true;
  }> {
    return this.run(async (redis) => {
      const before = await this.role(redis);
      const previousMaster = before.master ? `${before.master.host}:${before.master.port}` : null;
      if (before.role === 'unknown')
        throw new PromotionFailedError(`Redis ${this.props.host}:${this.props.port} reports no usable ROLE`);
      if (before.role === 'replica') {
        await redis.call('REPLICAOF', 'NO', 'ONE');
        const deadline = this.now() + (this.props.promoteTimeoutMs ?? 10_000);
        while ((await this.role(redis)).role !== 'master') {
          if (this.now() > deadline)
            throw new PromotionFailedError(
              `Redis ${this.props.host}:${this.props.port} still not master after REPLICAOF NO ONE`,
            );
          await sleep(50);
        }
      }
      if (!(await this.tryWrite(redis))) {
        throw new PromotionFailedError(
          `Redis ${this.props.host}:${this.props.port} is master but refuses writes (fenced? unfence it first)`,
          {
            settings: await this.guardSettings(redis),
          },
        );
      }
      return {
        alreadyDone: before.role === 'master',
        replicationOffsetAtPromotion: before.replicationOffset,
        previousMaster,
        verifiedWritable: true as const,
      };
    });
  }

  /** Stops the node taking writes (see write-fence.ts for the mechanism) and proves a write is refused. */
  fence(): Promise<FenceResult> {
    return this.run(async (redis) => {
      const { role } = await this.role(redis);
      const configRefused = (err: unknown) => {
        if (classifyError(err) !== err) throw err; // transient: let the workflow retry
        throw new FencingFailedError(
          `Redis ${this.props.host}:${this.props.port} refused the fencing configuration: ${(err as Error).message}`,
          { role },
        );
      };
      const previous = await this.guardSettings(redis).catch(configRefused);
      const alreadyDone = isFenced(role, previous);
      let persisted = false;
      if (!alreadyDone) {
        await redis.call('CONFIG', 'SET', ...fenceConfig(role, previous)).catch(configRefused);
        persisted = await this.persistConfig(redis);
      }
      if (await this.tryWrite(redis)) {
        await redis.del(WRITE_PROBE_KEY);
        throw new FencingFailedError(
          `Redis ${this.props.host}:${this.props.port} still accepted a write after fencing`,
          { role, previous },
        );
      }
      return {
        alreadyDone,
        mechanism: role === 'replica' ? 'replica-read-only' : 'min-replicas-to-write',
        previous,
        persisted,
        verifiedWriteRefused: true,
      };
    });
  }

  /** Lifts a fence (failback, or undoing a drill), restoring the settings fence() reported as `previous`. */
  unfence(previous?: Partial<WriteGuardSettings>): Promise<{ alreadyDone: boolean; persisted: boolean }> {
    return this.run(async (redis) => {
      const { role } = await this.role(redis);
      if (!isFenced(role, await this.guardSettings(redis)) || role === 'replica')
        return { alreadyDone: true, persisted: false };
      await redis.call('CONFIG', 'SET', ...unfenceConfig(previous));
      return { alreadyDone: false, persisted: await this.persistConfig(redis) };
    });
  }

  private async persistConfig(redis: Redis): Promise<boolean> {
    if (this.props.persistFence === false) return false;
    try {
      await redis.call('CONFIG', 'REWRITE');
      return true;
    } catch {
      return false; // no config file, or CONFIG REWRITE disabled (managed services)
    }
  }

  /**
   * Replays the latest feature snapshot: first every file is checked against the manifest
   * (size, SHA-256, parts) and every record parsed, writing nothing; then the same file
   * versions are streamed again and written in MULTI/EXEC batches. The snapshot id is
   * recorded last, so a re-run after success is a no-op and after a crash converges.
   */
  hydrateFromSnapshot(opts: { dryRun: boolean }): Promise<HydrationResult> {
    const source = this.props.snapshots;
    if (!source)
      return Promise.reject(new InvalidInputError('no feature snapshot source is configured for this Redis'));
    return this.run(async (redis) => {
      const id = latestSnapshotId(await source.listSnapshots());
      if (!id)
        throw new SnapshotNotFoundError(`no complete feature snapshot in ${source.location}`, {
          location: source.location,
        });
      const base = { snapshot: id, source: source.location };
      const applied = parseMarker(await redis.get(this.markerKey));
      if (applied?.snapshot === id) {
        return {
          ...base,
          keysWritten: 0,
          verified: true,
          alreadyDone: true,
          files: applied.files,
          records: applied.records,
          keysExpired: 0,
          appliedAt: applied.appliedAt,
        };
      }
      const manifest = await source.readManifest(id);
      if (manifest.kind !== FEATURE_SNAPSHOT_KIND)
        throw new ManifestInvalidError(
          `snapshot ${id} is a ${manifest.kind}, not a ${FEATURE_SNAPSHOT_KIND}`,
        );
      if (!opts.dryRun && (await this.role(redis)).role !== 'master')
        throw new NotReadyYetError('Redis is still a replica: promote it before hydrating');

      const checked = await this.verifySnapshot(source, id, manifest);
      if (opts.dryRun)
        return {
          ...base,
          keysWritten: 0,
          verified: true,
          alreadyDone: false,
          files: manifest.files.length,
          records: checked.records,
          keysExpired: checked.expired,
        };

      let keysWritten = 0;
      let keysExpired = 0;
      for (const file of manifest.files) {
        const written = await this.replayFile(
          redis,
          source,
          id,
          manifest,
          file.path,
          checked.pins.get(file.path)!,
        );
        keysWritten += written.keysWritten;
        keysExpired += written.keysExpired;
      }
      const appliedAt = new Date(this.now()).toISOString();
      await redis.set(
        this.markerKey,
        JSON.stringify({
          snapshot: id,
          appliedAt,
          files: manifest.files.length,
          records: checked.records,
          keysWritten,
        }),
      );
      return {
        ...base,
        keysWritten,
        verified: true,
        alreadyDone: false,
        files: manifest.files.length,
        records: checked.records,
        keysExpired,
        appliedAt,
      };
    });
  }

  /** Pass 1: checksums and record syntax of every file; remembers the exact versions read. */
  private async verifySnapshot(source: SnapshotSource, id: string, manifest: Manifest) {
    const pins = new Map<string, SnapshotFileVersion>();
    const createdAtMs = Date.parse(manifest.createdAt);
    const malformed: string[] = [];
    let records = 0;
    let expired = 0;
    const nowMs = this.now();
    await verifyAgainstManifest(manifest, async (file) => {
      const opened = await source.openFile(id, file.path);
      if (!opened) return null;
      pins.set(file.path, opened.version);
      return (async function* parsingAlong() {
        const splitter = new LineSplitter();
        let lineNo = 0;
        const check = (line: string) => {
          lineNo += 1;
          try {
            const record = parseFeatureLine(line, `${file.path}:${lineNo}`);
            records += 1;
            if (replayCommands(record, createdAtMs, nowMs) === 'expired') expired += 1;
          } catch (err) {
            if (malformed.length < 20) malformed.push((err as Error).message);
          }
        };
        for await (const chunk of opened.body) {
          splitter.push(chunk).forEach(check);
          yield chunk;
        }
        splitter.end().forEach(check);
      })();
    });
    if (malformed.length > 0)
      throw new MalformedFeatureRecordError(`snapshot ${id} has malformed records: ${malformed.join('; ')}`, {
        snapshot: id,
        malformed,
      });
    const declared = manifest.metadata.recordCount;
    if (typeof declared === 'number' && declared !== records) {
      throw new ManifestMismatchError(
        `snapshot ${id} declares ${declared} records, its files hold ${records}`,
        [{ path: '*', problem: 'content', expected: declared, actual: records, detail: 'record count' }],
      );
    }
    return { pins, records, expired };
  }

  /** Pass 2: stream one verified file version into Redis in atomic batches. */
  private async replayFile(
    redis: Redis,
    source: SnapshotSource,
    id: string,
    manifest: Manifest,
    path: string,
    pin: SnapshotFileVersion,
  ) {
    const entry = manifest.files.find((f) => f.path === path)!;
    const opened = await source.openFile(id, path, pin);
    if (!opened)
      throw new ManifestMismatchError(`${path} of snapshot ${id} disappeared after verification`, [
        { path, problem: 'missing' },
      ]);
    const createdAtMs = Date.parse(manifest.createdAt);
    const batchSize = this.props.hydrationBatchSize ?? 500;
    const hash = createHash('sha256');
    const splitter = new LineSplitter();
    let batch: RedisCommand[] = [];
    let batchRecords = 0;
    let keysWritten = 0;
    let keysExpired = 0;
    let lineNo = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const multi = redis.multi();
      for (const [command, ...args] of batch) multi.call(command, ...args);
      const replies = await multi.exec();
      const failed = (replies ?? []).find(([err]) => err);
      if (!replies || failed)
        throw new Error(
          `hydration batch of ${path} failed: ${failed?.[0]?.message ?? 'transaction aborted'}`,
        );
      keysWritten += batchRecords;
      batch = [];
      batchRecords = 0;
    };
    const take = async (line: string) => {
      lineNo += 1;
      const commands = replayCommands(parseFeatureLine(line, `${path}:${lineNo}`), createdAtMs, this.now());
      if (commands === 'expired') return void (keysExpired += 1);
      batch.push(...commands);
      batchRecords += 1;
      if (batchRecords >= batchSize) await flush();
    };
    for await (const chunk of opened.body) {
      hash.update(chunk);
      for (const line of splitter.push(chunk)) await take(line);
    }
    for (const line of splitter.end()) await take(line);
    await flush();
    if (hash.digest('hex') !== entry.sha256) {
      throw new ManifestMismatchError(`${path} of snapshot ${id} changed while it was replayed`, [
        { path, problem: 'sha256', expected: entry.sha256, detail: 'changed during replay' },
      ]);
    }
    return { keysWritten, keysExpired };
  }

  async close(): Promise<void> {
    const redis = this.redis;
    this.redis = undefined;
    if (!redis) return;
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** The connection (not the command) failed: refused, reset, timed out, or ioredis gave up retrying. */
function isConnectionFailure(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string };
  return (
    classifyError(err) instanceof TransientError ||
    e?.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|connect ETIMEDOUT|Command timed out/.test(e?.message ?? '')
  );
}

interface HydrationMarker {
  snapshot: string;
  appliedAt?: string;
  files: number;
  records: number;
}

function parseMarker(raw: string | null): HydrationMarker | undefined {
  if (!raw) return undefined;
  try {
    const m = JSON.parse(raw) as Partial<HydrationMarker>;
    return typeof m.snapshot === 'string'
      ? {
          snapshot: m.snapshot,
          appliedAt: m.appliedAt,
          files: Number(m.files ?? 0),
          records: Number(m.records ?? 0),
        }
      : undefined;
  } catch {
    return { snapshot: raw, files: 0, records: 0 };
  }
}

/** The adapter for a region's Redis as the topology describes it. */
export function redisAdapterForRegion(
  topology: Topology,
  region: string,
  options: Omit<IoredisAdapterProps, 'host' | 'port'> = {},
): IoredisAdapter {
  const r = topology.regions[region];
  if (!r) throw new RangeError(`region ${region} is not in the topology`);
  return new IoredisAdapter({ ...options, host: r.redis.host, port: r.redis.port });
}
