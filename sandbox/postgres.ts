import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { SANDBOX_HOST } from './config';
import type { PostgresHostControl } from '../lambdas/shared/adapters/postgres/rebuild-host';
import type { PostgresInstall } from './install';
import { runCommand } from './run-command';
import { waitUntil, type ProcessSupervisor } from './supervisor';

export const POSTGRES_DATABASE = 'tradepulse';
/** Superuser the DR steps use: fencing, promotion, replication status. */
export const POSTGRES_OPERATOR = 'dr_operator';
/** Ordinary role the trading workload writes as; fencing terminates its sessions. */
export const POSTGRES_APP_USER = 'tradepulse_app';
export const POSTGRES_REPLICATION_USER = 'replicator';
/** application_name of the standby, as named in synchronous_standby_names. */
export const STANDBY_NAME = 'standby_secondary';

export interface PostgresServer {
  name: string;
  dataDir: string;
  port: number;
}

export interface PostgresPairOptions {
  install: PostgresInstall;
  supervisor: ProcessSupervisor;
  dataRoot: string;
  primaryPort: number;
  standbyPort: number;
  synchronous: boolean;
  schemaFiles: string[];
  timeoutMs: number;
}

const owner = (install: PostgresInstall) =>
  install.runAs ? { uid: install.runAs.uid, gid: install.runAs.gid } : {};

function makeOwnedDir(dir: string, install: PostgresInstall): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (install.runAs) fs.chownSync(dir, install.runAs.uid, install.runAs.gid);
}

/** The sandbox's own server settings, appended to the generated postgresql.conf. */
function serverSettings(port: number): string {
  return [
    `listen_addresses = '${SANDBOX_HOST}'`,
    `port = ${port}`,
    `unix_socket_directories = ''`,
    `wal_level = replica`,
    `max_wal_senders = 10`,
    `max_replication_slots = 10`,
    `wal_keep_size = '512MB'`,
    `hot_standby = on`,
    `hot_standby_feedback = on`,
    // pg_rewind (failback) needs hint bits WAL-logged.
    `wal_log_hints = on`,
    `shared_buffers = '128MB'`,
    `max_connections = 100`,
    `wal_receiver_status_interval = '1s'`,
    // Set once the standby streams (see startPostgresPair): before that, every commit would wait for it.
    `synchronous_standby_names = ''`,
    `logging_collector = off`,
    `log_line_prefix = '%m [%p] %u@%d '`,
    '',
  ].join('\n');
}

export function postgresClient(
  port: number,
  user = POSTGRES_OPERATOR,
  database = POSTGRES_DATABASE,
): pg.Client {
  return new pg.Client({ host: SANDBOX_HOST, port, user, database, connectionTimeoutMillis: 2000 });
}

export async function queryOnce<T extends pg.QueryResultRow>(
  port: number,
  sql: string,
  params: unknown[] = [],
  database = POSTGRES_DATABASE,
): Promise<T[]> {
  const client = postgresClient(port, POSTGRES_OPERATOR, database);
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function startServer(opts: PostgresPairOptions, server: PostgresServer) {
  opts.supervisor.start(
    server.name,
    path.join(opts.install.bindir, 'postgres'),
    ['-D', server.dataDir],
    owner(opts.install),
  );
}

async function waitReady(opts: PostgresPairOptions, server: PostgresServer, database: string) {
  await waitUntil(
    `${server.name} to accept connections on port ${server.port}`,
    async () => (await queryOnce(server.port, 'select 1 as ok', [], database)).length === 1,
    { timeoutMs: opts.timeoutMs, alive: () => opts.supervisor.assertRunning(server.name) },
  );
}

/**
 * Region A's primary (initdb, roles, schema) and region B's physical streaming standby
 * (pg_basebackup -R with a replication slot), each in a data directory the sandbox owns.
 */
export async function startPostgresPair(
  opts: PostgresPairOptions,
): Promise<{ primary: PostgresServer; standby: PostgresServer }> {
  const primary = {
    name: 'postgres-primary',
    dataDir: path.join(opts.dataRoot, 'postgres-primary'),
    port: opts.primaryPort,
  };
  const standby = {
    name: 'postgres-standby',
    dataDir: path.join(opts.dataRoot, 'postgres-standby'),
    port: opts.standbyPort,
  };
  const bin = (tool: string) => path.join(opts.install.bindir, tool);

  makeOwnedDir(primary.dataDir, opts.install);
  await runCommand(
    bin('initdb'),
    [
      '-D',
      primary.dataDir,
      '-U',
      POSTGRES_OPERATOR,
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--data-checksums',
    ],
    owner(opts.install),
  );
  fs.appendFileSync(path.join(primary.dataDir, 'postgresql.conf'), serverSettings(primary.port));
  fs.writeFileSync(
    path.join(primary.dataDir, 'pg_hba.conf'),
    [
      '# sandbox: loopback only, trust (no secrets on a throwaway local cluster)',
      `host all all ${SANDBOX_HOST}/32 trust`,
      `host replication ${POSTGRES_REPLICATION_USER} ${SANDBOX_HOST}/32 trust`,
      `host replication ${POSTGRES_OPERATOR} ${SANDBOX_HOST}/32 trust`,
      '',
    ].join('\n'),
  );
  startServer(opts, primary);
  await waitReady(opts, primary, 'postgres');

  await queryOnce(primary.port, `create database ${POSTGRES_DATABASE}`, [], 'postgres');
  await queryOnce(primary.port, `create role ${POSTGRES_REPLICATION_USER} with login replication`);
  await queryOnce(primary.port, `create role ${POSTGRES_APP_USER} with login`);
  for (const file of opts.schemaFiles) await queryOnce(primary.port, fs.readFileSync(file, 'utf8'));
  await queryOnce(
    primary.port,
    `grant select, insert, update, delete on all tables in schema public to ${POSTGRES_APP_USER};
     grant usage, select on all sequences in schema public to ${POSTGRES_APP_USER};
     create extension if not exists amcheck;`,
  );
  await queryOnce(primary.port, `select pg_create_physical_replication_slot($1)`, [STANDBY_NAME]);

  makeOwnedDir(standby.dataDir, opts.install);
  await runCommand(
    bin('pg_basebackup'),
    [
      '-h',
      SANDBOX_HOST,
      '-p',
      String(primary.port),
      '-U',
      POSTGRES_REPLICATION_USER,
      '-D',
      standby.dataDir,
      '-R',
      '-S',
      STANDBY_NAME,
      '-X',
      'stream',
      '-c',
      'fast',
    ],
    owner(opts.install),
  );
  fs.appendFileSync(
    path.join(standby.dataDir, 'postgresql.auto.conf'),
    `port = ${standby.port}\n` +
      `primary_conninfo = 'host=${SANDBOX_HOST} port=${primary.port} user=${POSTGRES_REPLICATION_USER} application_name=${STANDBY_NAME}'\n` +
      `primary_slot_name = '${STANDBY_NAME}'\n` +
      // The standby must not wait for itself once promoted.
      `synchronous_standby_names = ''\n`,
  );
  startServer(opts, standby);
  await waitReady(opts, standby, POSTGRES_DATABASE);
  if (opts.synchronous) {
    await queryOnce(primary.port, `alter system set synchronous_standby_names = 'FIRST 1 (${STANDBY_NAME})'`);
    await queryOnce(primary.port, 'select pg_reload_conf()');
  }
  await waitUntil(
    `${standby.name} to stream WAL from the primary`,
    async () => {
      const rows = await queryOnce<{ state: string; sync_state: string }>(
        primary.port,
        'select state, sync_state from pg_stat_replication where application_name = $1',
        [STANDBY_NAME],
      );
      return rows[0]?.state === 'streaming' && (!opts.synchronous || rows[0].sync_state === 'sync');
    },
    { timeoutMs: opts.timeoutMs, alive: () => opts.supervisor.assertRunning(standby.name) },
  );
  return { primary, standby };
}

export interface PostgresHealth {
  primary: { up: boolean; inRecovery?: boolean; error?: string };
  standby: { up: boolean; inRecovery?: boolean; replayLagBytes?: number; error?: string };
  replication?: { state: string; syncState: string };
}

export async function postgresHealth(primaryPort: number, standbyPort: number): Promise<PostgresHealth> {
  const probe = async (port: number) => {
    try {
      const [row] = await queryOnce<{ in_recovery: boolean }>(
        port,
        'select pg_is_in_recovery() as in_recovery',
      );
      return { up: true, inRecovery: row?.in_recovery };
    } catch (err) {
      return { up: false, error: (err as Error).message };
    }
  };
  const health: PostgresHealth = { primary: await probe(primaryPort), standby: await probe(standbyPort) };
  if (health.primary.up) {
    const [rep] = await queryOnce<{ state: string; sync_state: string; lag: string | null }>(
      primaryPort,
      `select state, sync_state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::text as lag
         from pg_stat_replication where application_name = $1`,
      [STANDBY_NAME],
    ).catch(() => []);
    if (rep) {
      health.replication = { state: rep.state, syncState: rep.sync_state };
      health.standby.replayLagBytes = Number(rep.lag ?? 0);
    }
  }
  return health;
}

/** The supervisor name and data directory of each region's PostgreSQL server (they keep their names after a failover). */
export const POSTGRES_SERVERS = { primary: 'postgres-primary', secondary: 'postgres-standby' } as const;

export interface PostgresHostOptions {
  install: PostgresInstall;
  supervisor: ProcessSupervisor;
  server: PostgresServer;
  timeoutMs: number;
}

/**
 * Control of one sandbox PostgreSQL server for a rebuild (see PostgresHostControl): stopped
 * with a fast shutdown signal to the postmaster (a clean shutdown, unlike the supervisor's
 * SIGTERM to the whole process group), restarted as the same managed process, so `sandbox
 * down` still stops it. Tools and files run and are written as the server's OS user.
 */
export function postgresHostControl(o: PostgresHostOptions): PostgresHostControl {
  const { server, supervisor, install } = o;
  const inDataDir = (relative: string) => {
    const full = path.resolve(server.dataDir, relative);
    if (!full.startsWith(path.resolve(server.dataDir) + path.sep))
      throw new Error(`${relative} is outside the data directory ${server.dataDir}`);
    return full;
  };
  const pair = { install, supervisor, timeoutMs: o.timeoutMs } as PostgresPairOptions;
  return {
    dataDir: server.dataDir,
    isRunning: async () => supervisor.isRunning(server.name),
    async stop() {
      const managed = supervisor.list().find((p) => p.name === server.name);
      if (!managed || !supervisor.isRunning(server.name)) {
        await supervisor.stop(server.name);
        return { wasRunning: false };
      }
      process.kill(managed.pid, 'SIGINT'); // fast shutdown: disconnect clients, shutdown checkpoint
      await waitUntil(`${server.name} to shut down`, async () => !supervisor.isRunning(server.name), {
        timeoutMs: o.timeoutMs,
        intervalMs: 50,
      });
      await supervisor.stop(server.name); // forget it in the registry
      return { wasRunning: true };
    },
    async start() {
      startServer(pair, server);
      await waitReady(pair, server, 'postgres');
    },
    runTool: (tool, args, env) =>
      runCommand(path.join(install.bindir, tool), args, { ...owner(install), ...(env ? { env } : {}) }),
    async readFile(relative) {
      try {
        return fs.readFileSync(inDataDir(relative), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    async writeFile(relative, content) {
      const file = inDataDir(relative);
      fs.writeFileSync(file, content, { mode: 0o600 });
      if (install.runAs) fs.chownSync(file, install.runAs.uid, install.runAs.gid);
    },
    async emptyDataDir() {
      makeOwnedDir(server.dataDir, install);
      for (const entry of fs.readdirSync(server.dataDir))
        fs.rmSync(path.join(server.dataDir, entry), { recursive: true, force: true });
    },
  };
}
