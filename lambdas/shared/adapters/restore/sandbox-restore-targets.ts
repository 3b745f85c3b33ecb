import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { BackupManifest, BackupReader } from '../../backup/contracts';
import { InvalidInputError, RestoreFailedError } from '../../errors';
import type { RestoreTargets, RestoredPostgres, RestoredRedis, RestoreTeardown } from '../contracts';
import { restoreTargetPrefix } from './target-names';

/**
 * What the sandbox's process supervisor offers (sandbox/supervisor.ts ProcessSupervisor
 * satisfies it): restored servers are registered there, so `sandbox down` stops them too
 * and nothing is ever orphaned.
 */
export interface SupervisedProcesses {
  start(
    name: string,
    command: string,
    args: string[],
    options?: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv },
  ): { pid: number; logFile: string };
  stop(name: string, graceMs?: number): Promise<void>;
  isRunning(name: string): boolean;
  assertRunning(name: string): void;
  list(): { name: string; pid: number; logFile: string }[];
}

export interface SandboxRestoreTargetsOptions {
  supervisor: SupervisedProcesses;
  /** The sandbox's data directory: restored data directories are created (and removed) here. */
  dataRoot: string;
  /** PostgreSQL binaries and the OS user to run them as (root cannot run PostgreSQL). */
  postgres: { bindir: string; runAs?: { uid: number; gid: number } };
  redisServer: string;
  /** Verified manifests and decrypted, verified archive streams (lambdas/shared/backup). */
  backups: BackupReader;
  database: string;
  operatorUser: string;
  applicationUser: string;
  /** @default 127.0.0.1 */
  host?: string;
  /** Bound on a restored server becoming ready. @default 120000 */
  timeoutMs?: number;
}

const HOST = '127.0.0.1';

/** A free loopback port, chosen by the kernel (the server binds it right after). */
export function freePort(host = HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Processes whose command line mentions `needle` (a data directory or config path): the proof nothing is left. */
export function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return found;
  }
  for (const pid of entries) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && cmdline.includes(needle)) found.push(`pid ${pid}: ${cmdline.slice(0, 160)}`);
    } catch {
      // gone while we looked
    }
  }
  return found;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  opts: { timeoutMs: number; alive: () => void },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    opts.alive();
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new RestoreFailedError(
        `timed out after ${opts.timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    await sleep(100);
  }
}

/** Streams `source` into `tar -x` (as `owner`) in `dir`; the data is bad unless both the stream and tar end cleanly. */
async function untar(
  source: NodeJS.ReadableStream,
  dir: string,
  owner: { uid?: number; gid?: number },
): Promise<{ bytes: number }> {
  const tar = spawn('tar', ['-x', '-f', '-', '-C', dir], {
    stdio: ['pipe', 'ignore', 'pipe'],
    ...owner,
  });
  let stderr = '';
  tar.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<number>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) => resolve(code ?? -1));
  });
  let bytes = 0;
  const counted = source as NodeJS.ReadableStream & { on(e: 'data', l: (c: Buffer) => void): unknown };
  counted.on('data', (c: Buffer) => (bytes += c.length));
  try {
    await pipeline(source, tar.stdin);
  } catch (err) {
    tar.kill('SIGKILL');
    await exited.catch(() => undefined);
    throw err;
  }
  const code = await exited;
  if (code !== 0) throw new RestoreFailedError(`tar -x exited with code ${code}: ${stderr.trim()}`);
  return { bytes };
}

const pgSettings = (port: number, host: string, target: NonNullable<BackupManifest['postgres']>['restore']) =>
  [
    '# backup validation: a disposable copy, restored to the backup point and promoted',
    `listen_addresses = '${host}'`,
    `port = ${port}`,
    `unix_socket_directories = ''`,
    `primary_conninfo = ''`,
    `primary_slot_name = ''`,
    `synchronous_standby_names = ''`,
    `archive_mode = off`,
    // max_connections, max_wal_senders, … stay as backed up: recovery refuses lower settings than the source's.
    `shared_buffers = '128MB'`,
    `hot_standby = on`,
    `logging_collector = off`,
    // Archive recovery needs a restore_command; every WAL segment is inside the archive's pg_wal.
    `restore_command = 'false'`,
    ...(target
      ? [
          `recovery_target_lsn = '${target.recoveryTargetLsn}'`,
          `recovery_target_inclusive = ${target.recoveryTargetInclusive ? 'on' : 'off'}`,
          `recovery_target_action = '${target.recoveryTargetAction}'`,
        ]
      : []),
    '',
  ].join('\n');

/**
 * Restore targets on the sandbox: a new PostgreSQL data directory and port (the verified
 * archive stream untarred as the `postgres` user, recovered to the backup's LSN and
 * promoted) and a canary redis-server loading the verified RDB, both started under the
 * sandbox's supervisor. Names carry the run id (`restore-<run>-postgres`), so a teardown
 * finds everything of a run, including what a failed restore half-made.
 */
export class SandboxRestoreTargets implements RestoreTargets {
  private readonly host: string;
  private readonly timeoutMs: number;

  constructor(private readonly opts: SandboxRestoreTargetsOptions) {
    this.host = opts.host ?? HOST;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  private names(runId: string, store: 'postgres' | 'redis') {
    const name = `${restoreTargetPrefix(runId)}${store}`;
    return { name, dir: path.join(this.opts.dataRoot, name) };
  }

  private async manifestOf(kind: 'postgres' | 'redis', backupId: string): Promise<BackupManifest> {
    return (await this.opts.backups.loadVerifiedManifest({ kind, backupId })).manifest;
  }

  /** A leftover of an earlier attempt of the same run (re-drive) is removed first: every restore starts clean. */
  private async clear(name: string, dir: string): Promise<void> {
    await this.opts.supervisor.stop(name, 5000);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  async restorePostgres({ runId, backupId }: { runId: string; backupId: string }): Promise<RestoredPostgres> {
    const started = Date.now();
    const manifest = await this.manifestOf('postgres', backupId);
    const backup = manifest.postgres!;
    if (backup.method !== 'pg_basebackup-paused-standby')
      throw new InvalidInputError(
        `backup ${backupId} is an ${backup.method}; the sandbox restores pg_basebackup archives only`,
      );
    const archive = manifest.objects.find((o) => o.name === 'base.tar');
    if (!archive) throw new InvalidInputError(`backup ${backupId} has no base.tar object`);
    const { name, dir } = this.names(runId, 'postgres');
    await this.clear(name, dir);
    const owner = this.opts.postgres.runAs
      ? { uid: this.opts.postgres.runAs.uid, gid: this.opts.postgres.runAs.gid }
      : {};
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (owner.uid !== undefined) fs.chownSync(dir, owner.uid, owner.gid!);
    const timings: Record<string, number> = {};
    let mark = Date.now();
    const stream = await this.opts.backups.openVerifiedArchiveStream(manifest, 'base.tar');
    const { bytes } = await untar(stream, dir, owner);
    timings.decryptAndUntarMs = Date.now() - mark;

    const port = await freePort(this.host);
    for (const leftover of ['standby.signal', 'postmaster.pid', 'postmaster.opts'])
      fs.rmSync(path.join(dir, leftover), { force: true });
    fs.appendFileSync(path.join(dir, 'postgresql.auto.conf'), pgSettings(port, this.host, backup.restore));
    if (backup.restore) fs.writeFileSync(path.join(dir, 'recovery.signal'), '');
    for (const file of ['postgresql.auto.conf', 'recovery.signal'])
      if (owner.uid !== undefined && fs.existsSync(path.join(dir, file)))
        fs.chownSync(path.join(dir, file), owner.uid, owner.gid!);

    mark = Date.now();
    this.opts.supervisor.start(name, path.join(this.opts.postgres.bindir, 'postgres'), ['-D', dir], owner);
    const state = await waitFor(
      `${name} to finish recovery and be promoted on port ${port}`,
      async () => {
        const client = new pg.Client({
          host: this.host,
          port,
          user: this.opts.operatorUser,
          database: this.opts.database,
          connectionTimeoutMillis: 2000,
        });
        client.on('error', () => undefined);
        await client.connect();
        try {
          const { rows } = await client.query<{ in_recovery: boolean; lsn: string; timeline: number }>(
            `select pg_is_in_recovery() as in_recovery, pg_current_wal_lsn()::text as lsn,
                    (select timeline_id from pg_control_checkpoint()) as timeline`,
          );
          const row = rows[0]!;
          return row.in_recovery ? undefined : row;
        } catch (err) {
          // pg_current_wal_lsn() is refused during recovery: not ready yet.
          if (/recovery is in progress/.test((err as Error).message)) return undefined;
          throw err;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      { timeoutMs: this.timeoutMs, alive: () => this.restartFailure(name) },
    );
    timings.recoveryMs = Date.now() - mark;
    return {
      kind: 'sandbox-postgres',
      targetId: name,
      backupId,
      host: this.host,
      port,
      database: this.opts.database,
      operatorUser: this.opts.operatorUser,
      applicationUser: this.opts.applicationUser,
      restoreMs: Date.now() - started,
      details: {
        dataDirectory: dir,
        archiveBytes: bytes,
        // The verified stream ended without error: every frame authenticated, both SHA-256 equal the manifest's.
        streamVerified: true,
        recoveryTargetLsn: backup.restore?.recoveryTargetLsn ?? null,
        promotedAtLsn: state.lsn,
        timeline: state.timeline,
        timingsMs: timings,
      },
    };
  }

  /** A server that died while starting: RestoreFailedError with its log's last lines. */
  private restartFailure(name: string): void {
    try {
      this.opts.supervisor.assertRunning(name);
    } catch (err) {
      throw new RestoreFailedError((err as Error).message, { target: name });
    }
  }

  async restoreRedis({ runId, backupId }: { runId: string; backupId: string }): Promise<RestoredRedis> {
    const started = Date.now();
    const manifest = await this.manifestOf('redis', backupId);
    if (!manifest.objects.some((o) => o.name === 'dump.rdb'))
      throw new InvalidInputError(`backup ${backupId} has no dump.rdb object`);
    const { name, dir } = this.names(runId, 'redis');
    await this.clear(name, dir);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const rdb = path.join(dir, 'dump.rdb');
    let mark = Date.now();
    await pipeline(
      await this.opts.backups.openVerifiedArchiveStream(manifest, 'dump.rdb'),
      fs.createWriteStream(rdb),
    );
    const decryptMs = Date.now() - mark;
    const port = await freePort(this.host);
    const conf = path.join(dir, 'redis.conf');
    fs.writeFileSync(
      conf,
      [
        `bind ${this.host}`,
        `port ${port}`,
        'protected-mode yes',
        'daemonize no',
        `dir ${dir}`,
        'dbfilename dump.rdb',
        'appendonly no',
        'save ""',
        '',
      ].join('\n'),
    );
    mark = Date.now();
    this.opts.supervisor.start(name, this.opts.redisServer, [conf]);
    const keys = await waitFor(
      `${name} to load the RDB on port ${port}`,
      async () => {
        const client = new Redis({
          host: this.host,
          port,
          lazyConnect: true,
          maxRetriesPerRequest: 1,
          retryStrategy: () => null,
        });
        client.on('error', () => undefined);
        try {
          await client.connect();
          const info = await client.info('persistence');
          if (!/loading:0/.test(info)) return undefined;
          return { dbsize: await client.dbsize() };
        } finally {
          client.disconnect();
        }
      },
      { timeoutMs: this.timeoutMs, alive: () => this.restartFailure(name) },
    );
    return {
      kind: 'sandbox-redis',
      targetId: name,
      backupId,
      host: this.host,
      port,
      restoreMs: Date.now() - started,
      details: {
        dataDirectory: dir,
        rdbBytes: fs.statSync(rdb).size,
        streamVerified: true,
        keysLoaded: keys.dbsize,
        timingsMs: { decryptMs, loadMs: Date.now() - mark },
      },
    };
  }

  private leftovers(prefix: string): RestoreTeardown['leftBehind'] {
    const processes = [
      ...this.opts.supervisor
        .list()
        .filter((p) => p.name.startsWith(prefix) && this.opts.supervisor.isRunning(p.name))
        .map((p) => `${p.name} (pid ${p.pid})`),
      ...processesMentioning(path.join(this.opts.dataRoot, prefix)),
    ];
    const dataDirectories = fs.existsSync(this.opts.dataRoot)
      ? fs
          .readdirSync(this.opts.dataRoot)
          .filter((d) => d.startsWith(prefix))
          .map((d) => path.join(this.opts.dataRoot, d))
      : [];
    return { processes, dataDirectories, objects: [] };
  }

  async teardown(runId: string): Promise<RestoreTeardown> {
    const prefix = restoreTargetPrefix(runId);
    const removed: string[] = [];
    for (const proc of this.opts.supervisor.list().filter((p) => p.name.startsWith(prefix))) {
      const wasRunning = this.opts.supervisor.isRunning(proc.name);
      // A disposable copy needs no shutdown checkpoint: immediate shutdown (SIGQUIT), then the supervisor's stop.
      if (wasRunning && proc.name.endsWith('postgres')) {
        try {
          process.kill(proc.pid, 'SIGQUIT');
        } catch {
          // already gone
        }
      }
      await this.opts.supervisor.stop(proc.name);
      if (wasRunning) removed.push(`stopped ${proc.name} (pid ${proc.pid})`);
    }
    for (const dir of this.leftovers(prefix).dataDirectories) {
      fs.rmSync(dir, { recursive: true, force: true });
      removed.push(`removed data directory ${dir}`);
    }
    // Stray processes (none expected: the supervisor stops whole process groups) are waited for briefly.
    let leftBehind = this.leftovers(prefix);
    for (let i = 0; i < 50 && leftBehind.processes.length > 0; i += 1) {
      await sleep(100);
      leftBehind = this.leftovers(prefix);
    }
    return { removed, alreadyDone: removed.length === 0, leftBehind };
  }
}
