import { Redis } from 'ioredis';
import { listKeyDigests } from '../../backup/take-redis';
import type { PostgresAdapter, RestoredPostgres, RestoredRedis } from '../contracts';
import { CANONICAL_TABLE_NAMES } from '../postgres/ledger';
import { SelfManagedPostgresAdapter } from '../postgres/self-managed';
import { withSession, type PasswordSource, type PostgresConnection } from '../postgres/session';

/** One B-tree index checked with amcheck's bt_index_check. */
export interface IndexCheck {
  table: string;
  index: string;
  ok: boolean;
  error?: string;
}

/** What the validation asks of a restored PostgreSQL server. */
export interface RestoredPostgresInspector {
  /** bt_index_check(index, heapallindexed) on every B-tree index of the given tables. */
  checkIndexes(tables: readonly string[], heapAllIndexed: boolean): Promise<IndexCheck[]>;
  /** The ledger engine's view of the restored server (aggregates in one snapshot, missing sequences). */
  ledger: Pick<PostgresAdapter, 'ledgerAggregates' | 'missingSequences'>;
  close(): Promise<void>;
}

/** What the validation asks of a canary Redis. */
export interface RestoredRedisInspector {
  dbsize(): Promise<number>;
  /** TYPE and SHA-256 of the DUMP serialization of each key, as the backup's manifest records them. */
  digests(): Promise<Map<string, { type: string; digest: string }>>;
  close(): Promise<void>;
}

export interface RestoredStoreOptions {
  operatorPassword?: PasswordSource;
  ssl?: PostgresConnection['ssl'];
  /** Statement bound for amcheck and aggregates over big tables. @default 300000 */
  statementTimeoutMs?: number;
}

export const AMCHECK_INDEXES_SQL = `
  select t.relname as table, i.relname as index
    from pg_index x
    join pg_class i on i.oid = x.indexrelid
    join pg_class t on t.oid = x.indrelid
    join pg_namespace n on n.oid = t.relnamespace
    join pg_am a on a.oid = i.relam
   where n.nspname = 'public' and a.amname = 'btree' and t.relname = any($1::text[])
   order by t.relname, i.relname`;

/** The inspector of a restored PostgreSQL target, over the project's session and ledger code. */
export function inspectRestoredPostgres(
  target: RestoredPostgres,
  options: RestoredStoreOptions = {},
): RestoredPostgresInspector {
  const connection: PostgresConnection = {
    host: target.host,
    port: target.port,
    database: target.database,
    operatorUser: target.operatorUser,
    applicationUser: target.applicationUser,
    operatorPassword: options.operatorPassword,
    ssl: options.ssl,
    statementTimeoutMs: options.statementTimeoutMs ?? 300_000,
  };
  const adapter = new SelfManagedPostgresAdapter({ connection });
  return {
    ledger: adapter,
    checkIndexes: (tables, heapAllIndexed) =>
      withSession(connection, async (client) => {
        await client.query('create extension if not exists amcheck');
        const { rows } = await client.query<{ table: string; index: string }>(AMCHECK_INDEXES_SQL, [
          [...tables],
        ]);
        const checks: IndexCheck[] = [];
        for (const row of rows) {
          try {
            await client.query('select bt_index_check($1::regclass, $2)', [
              `public.${JSON.stringify(row.index)}`,
              heapAllIndexed,
            ]);
            checks.push({ ...row, ok: true });
          } catch (err) {
            checks.push({ ...row, ok: false, error: (err as Error).message });
          }
        }
        return checks;
      }),
    close: () => adapter.close(),
  };
}

export const RESTORED_CANONICAL_TABLES = CANONICAL_TABLE_NAMES;

/** The inspector of a canary Redis: DBSIZE and per-key DUMP digests. */
export function inspectRestoredRedis(target: Pick<RestoredRedis, 'host' | 'port'>): RestoredRedisInspector {
  const client = new Redis({
    host: target.host,
    port: target.port,
    lazyConnect: true,
    maxRetriesPerRequest: 2,
  });
  client.on('error', () => undefined);
  const connected = client.connect();
  return {
    async dbsize() {
      await connected;
      return client.dbsize();
    },
    async digests() {
      await connected;
      // The same digest the backup recorded (lambdas/shared/backup/take-redis.ts).
      const digests = await listKeyDigests(client);
      return new Map(digests.map((d) => [d.key, { type: d.type, digest: d.digest }]));
    },
    async close() {
      client.disconnect();
    },
  };
}
