import pg from 'pg';
import { DrError, TransientError, classifyError } from '../../errors';

/** A password, or a function that fetches it (e.g. from Secrets Manager) when a session opens. */
export type PasswordSource = string | (() => Promise<string>);

/** Where one PostgreSQL node listens and which roles the adapter uses there. */
export interface PostgresConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** Role that fences, promotes and reads replication state (superuser on self-managed, the master user on RDS/Aurora). */
  readonly operatorUser: string;
  /** @default no password (trust authentication, as in the sandbox) */
  readonly operatorPassword?: PasswordSource;
  /** Role the trading applications write as; fencing locks it out. */
  readonly applicationUser: string;
  /** Only used to prove, by logging in, that a fenced node refuses the application role. @default no password */
  readonly applicationPassword?: PasswordSource;
  /** @default false (the sandbox); pass `{ rejectUnauthorized: true, ca }` for RDS/Aurora */
  readonly ssl?: pg.ClientConfig['ssl'];
  /** @default 3000 */
  readonly connectTimeoutMs?: number;
  /** Server-side bound on each statement; ledger aggregates over large tables need most of it. @default 60000 */
  readonly statementTimeoutMs?: number;
}

export type SessionRole = 'operator' | 'application';

export interface SessionOptions {
  as?: SessionRole;
  /**
   * An operator session that must write on a fenced node (unfence, promotion clean-up):
   * overrides a read-only default for this session only, commits locally without
   * waiting for a synchronous standby, and gives up on locks instead of queueing.
   */
  admin?: boolean;
}

const resolve = async (source: PasswordSource | undefined) =>
  typeof source === 'function' ? await source() : source;

/** A fresh session: it sees the node's current defaults, not those of an older session. */
export async function openSession(conn: PostgresConnection, opts: SessionOptions = {}): Promise<pg.Client> {
  const asApp = opts.as === 'application';
  const statementTimeout = conn.statementTimeoutMs ?? 60_000;
  const client = new pg.Client({
    host: conn.host,
    port: conn.port,
    database: conn.database,
    user: asApp ? conn.applicationUser : conn.operatorUser,
    password: await resolve(asApp ? conn.applicationPassword : conn.operatorPassword),
    ssl: conn.ssl,
    application_name: 'tradepulse-dr',
    connectionTimeoutMillis: conn.connectTimeoutMs ?? 3_000,
    statement_timeout: statementTimeout,
    query_timeout: statementTimeout + 5_000,
  });
  // A server that terminates or loses the connection reports it as an 'error' event,
  // which would crash the process without a listener; the pending query rejects anyway.
  client.on('error', () => {});
  try {
    await client.connect();
    if (opts.admin) {
      await client.query(
        `set default_transaction_read_only = off; set synchronous_commit = local; set lock_timeout = '5s'`,
      );
    }
  } catch (err) {
    await client.end().catch(() => {});
    throw err;
  }
  return client;
}

export async function withSession<T>(
  conn: PostgresConnection,
  fn: (client: pg.Client) => Promise<T>,
  opts: SessionOptions = {},
): Promise<T> {
  const client = await openSession(conn, opts);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** node-postgres reports its own timeouts and lost connections without an error code. */
const PG_CLIENT_CONNECTION_FAILURE = /^(Connection terminated|Query read timeout|timeout expired)/;

/** Runs an adapter operation, turning connection failures and throttles into TransientError. */
export async function mapErrors<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (!(err instanceof DrError) && !sqlState(err) && PG_CLIENT_CONNECTION_FAILURE.test(errorMessage(err))) {
      throw new TransientError(`PostgreSQL connection failed: ${errorMessage(err)}`);
    }
    throw classifyError(err);
  }
}

/** The SQLSTATE of a server error (e.g. 25006 read_only_sql_transaction), if it is one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export const quoteIdent = (name: string) => pg.escapeIdentifier(name);

export const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
