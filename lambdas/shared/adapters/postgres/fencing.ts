/**
 * Fencing: the old primary must accept no write from the trading applications once the
 * standby may be promoted. Three layers, applied in this order:
 *
 * 1. The application role loses LOGIN. `default_transaction_read_only` alone is only a
 *    default: any client can `BEGIN READ WRITE` or `SET default_transaction_read_only =
 *    off` (a pooled connection that ran a read-only transaction before often does), so
 *    it cannot be the fence for the role that writes trading data.
 * 2. Read-only by default for every role: `ALTER SYSTEM` + reload on self-managed nodes
 *    (stays on this node: postgresql.auto.conf is not WAL-logged), `ALTER DATABASE ...
 *    SET` on RDS/Aurora, where ALTER SYSTEM is not allowed. Other non-superuser roles
 *    (reporting, support tools) keep reading but get a read-only error on a plain write.
 * 3. Every client session of a non-superuser role on the trading database is terminated
 *    (and every session of the application role): a transaction that began before the
 *    reload keeps its read-write mode until it ends, so it is ended. Superuser sessions
 *    (the operator's own, DBAs') are left alone: a superuser can undo any fence anyway.
 *
 * Then the fence is verified from fresh sessions (see verifyFence). The role change (and
 * on RDS/Aurora the database setting) is WAL-logged and reaches the standby; promotion
 * therefore lifts them on the new primary (see SqlPostgresNode.finishPromotion).
 */
import type pg from 'pg';
import { FencingFailedError } from '../../errors';
import { pollUntil } from './poll';
import {
  errorMessage,
  openSession,
  quoteIdent,
  sqlState,
  withSession,
  type PostgresConnection,
} from './session';

/** Where the read-only default is set: the node's own configuration, or the database's settings. */
export type ReadOnlyScope = 'system' | 'database';

export interface FenceState {
  inRecovery: boolean;
  /** A fresh session's default_transaction_read_only, and where it came from (pg_settings.source). */
  readOnlyDefault: boolean;
  readOnlySource: string;
  applicationCanLogin: boolean;
  applicationSessions: number;
}

const READ_ONLY_SQL_TRANSACTION = '25006';
const INVALID_AUTHORIZATION = '28000';
const SETTLE_TIMEOUT_MS = 5_000;

export async function observeFence(conn: PostgresConnection): Promise<FenceState> {
  const row = await withSession(conn, async (client) => {
    const { rows } = await client.query<{
      in_recovery: boolean;
      read_only: string;
      source: string;
      can_login: boolean | null;
      sessions: number;
    }>(
      `select pg_is_in_recovery() as in_recovery,
              current_setting('default_transaction_read_only') as read_only,
              (select source from pg_settings where name = 'default_transaction_read_only') as source,
              (select rolcanlogin from pg_roles where rolname = $1) as can_login,
              (select count(*)::int from pg_stat_activity
                where usename = $1 and backend_type = 'client backend' and pid <> pg_backend_pid()) as sessions`,
      [conn.applicationUser],
    );
    return rows[0]!;
  });
  if (row.can_login === null) {
    // A misspelt role name would leave the real application role unfenced.
    throw new FencingFailedError(
      `application role ${conn.applicationUser} does not exist on ${conn.host}:${conn.port}`,
      {
        applicationUser: conn.applicationUser,
      },
    );
  }
  return {
    inRecovery: row.in_recovery,
    readOnlyDefault: row.read_only === 'on',
    readOnlySource: row.source,
    applicationCanLogin: row.can_login,
    applicationSessions: row.sessions,
  };
}

export const isFenced = (s: FenceState) =>
  s.inRecovery || (s.readOnlyDefault && !s.applicationCanLogin && s.applicationSessions === 0);

export async function fenceNode(
  conn: PostgresConnection,
  scope: ReadOnlyScope,
): Promise<{ alreadyDone: boolean; terminatedSessions: number; verifiedWriteRefused: boolean }> {
  const alreadyDone = isFenced(await observeFence(conn));
  let terminatedSessions = 0;
  if (!alreadyDone) {
    await withSession(
      conn,
      async (client) => {
        await client.query(`alter role ${quoteIdent(conn.applicationUser)} nologin`);
        await setReadOnlyDefault(client, conn, scope, true);
      },
      { admin: true },
    );
    // Sessions that connect before the new default reaches them must be among those terminated.
    await awaitReadOnlyDefault(conn, true);
    terminatedSessions = await terminateWriters(conn);
  }
  const verification = await verifyFence(conn);
  if (!verification.writeRefused) {
    throw new FencingFailedError(`${conn.host}:${conn.port} still accepts writes after fencing`, {
      ...verification,
    });
  }
  return { alreadyDone, terminatedSessions, verifiedWriteRefused: true };
}

/** Lifts this module's fence; `alreadyDone` when writes were not fenced. A standby cannot be unfenced. */
export async function unfenceNode(
  conn: PostgresConnection,
  scope: ReadOnlyScope,
): Promise<{ alreadyDone: boolean }> {
  const before = await observeFence(conn);
  if (before.inRecovery) {
    throw new Error(
      `${conn.host}:${conn.port} is a standby; lift the fence on the primary it replicates from`,
    );
  }
  if (!before.readOnlyDefault && before.applicationCanLogin) return { alreadyDone: true };
  await withSession(
    conn,
    async (client) => {
      await client.query(`alter role ${quoteIdent(conn.applicationUser)} login`);
      await setReadOnlyDefault(client, conn, scope, false);
    },
    { admin: true },
  );
  await awaitReadOnlyDefault(conn, false);
  return { alreadyDone: false };
}

async function setReadOnlyDefault(
  client: pg.Client,
  conn: PostgresConnection,
  scope: ReadOnlyScope,
  on: boolean,
): Promise<void> {
  if (scope === 'system') {
    await client.query(
      on
        ? `alter system set default_transaction_read_only = on`
        : `alter system reset default_transaction_read_only`,
    );
    await client.query(`select pg_reload_conf()`);
  } else {
    const db = quoteIdent(conn.database);
    await client.query(
      on
        ? `alter database ${db} set default_transaction_read_only = on`
        : `alter database ${db} reset default_transaction_read_only`,
    );
  }
}

/** A reload reaches the postmaster asynchronously: wait until a fresh session sees the new default. */
async function awaitReadOnlyDefault(conn: PostgresConnection, on: boolean): Promise<void> {
  await pollUntil<true, FenceState>(
    async () => {
      const state = await observeFence(conn);
      return state.readOnlyDefault === on ? { done: true } : { observed: state };
    },
    {
      timeoutMs: SETTLE_TIMEOUT_MS,
      intervalMs: 50,
      onTimeout: (state) => {
        const message = `default_transaction_read_only is still ${on ? 'off' : 'on'} on ${conn.host}:${conn.port} (set by: ${state.readOnlySource})`;
        return on ? new FencingFailedError(message, { ...state }) : new Error(message);
      },
    },
  );
}

async function terminateWriters(conn: PostgresConnection): Promise<number> {
  return withSession(conn, async (client) => {
    const { rows } = await client.query<{ terminated: number }>(
      `select count(*) filter (where pg_terminate_backend(a.pid, 5000))::int as terminated
         from pg_stat_activity a join pg_roles r on r.oid = a.usesysid
        where a.backend_type = 'client backend' and a.pid <> pg_backend_pid()
          and ((a.datname = current_database() and not r.rolsuper) or r.rolname = $1)`,
      [conn.applicationUser],
    );
    return rows[0]!.terminated;
  });
}

export type WriteProbe =
  | { outcome: 'accepted' }
  | { outcome: 'refused'; sqlState: string; message: string }
  | { outcome: 'error'; message: string };

/** Attempts a write in a transaction that is always rolled back; creating even a temporary table is refused when read-only. */
export async function probeWrite(client: pg.Client): Promise<WriteProbe> {
  try {
    await client.query('begin');
    await client.query('create temporary table tradepulse_dr_write_probe (probe int)');
    return { outcome: 'accepted' };
  } catch (err) {
    const state = sqlState(err);
    return state === READ_ONLY_SQL_TRANSACTION
      ? { outcome: 'refused', sqlState: state, message: errorMessage(err) }
      : { outcome: 'error', message: errorMessage(err) };
  } finally {
    await client.query('rollback').catch(() => {});
  }
}

/**
 * From fresh sessions: an operator's plain write is refused as read-only, the application
 * role can no longer log in (catalog, and a real login attempt), and none of its sessions
 * is left. A login attempt that fails for another reason (no password for the application
 * role outside the sandbox) proves nothing either way; the catalog check then stands.
 */
export async function verifyFence(conn: PostgresConnection) {
  const operatorWrite = await withSession(conn, probeWrite);
  const state = await observeFence(conn);
  const applicationLogin = await tryApplicationLogin(conn);
  const writeRefused =
    operatorWrite.outcome === 'refused' &&
    (state.inRecovery || (!state.applicationCanLogin && state.applicationSessions === 0)) &&
    applicationLogin !== 'accepted';
  return { writeRefused, operatorWrite, applicationLogin, state };
}

async function tryApplicationLogin(
  conn: PostgresConnection,
): Promise<'accepted' | 'refused' | 'inconclusive'> {
  let client: pg.Client;
  try {
    client = await openSession(conn, { as: 'application' });
  } catch (err) {
    return sqlState(err) === INVALID_AUTHORIZATION ? 'refused' : 'inconclusive';
  }
  try {
    // Logged in despite the fence: only a standby could still refuse this role's writes.
    return (await probeWrite(client)).outcome === 'refused' && (await isInRecovery(client))
      ? 'refused'
      : 'accepted';
  } finally {
    await client.end().catch(() => {});
  }
}

export async function isInRecovery(client: pg.Client): Promise<boolean> {
  return (await client.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r;
}
