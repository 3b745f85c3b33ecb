/**
 * Ledger reconciliation aggregates (runbook: "comparing aggregates (counts, sums,
 * balances)") over the canonical tables of schemas/postgres/0001_trading_core.sql, read
 * in one REPEATABLE READ READ ONLY transaction so every figure comes from the same
 * snapshot. Set-based: one scan per table. Decimals stay exact strings in PostgreSQL's
 * shortest form (trim_scale), never JS numbers.
 */
import type pg from 'pg';
import type { LedgerAggregates } from '../contracts';
import { withSession, type PostgresConnection } from './session';

interface TableAggregate {
  table: string;
  /** Expression summed as quantitySum. */
  quantity?: string;
  /** Expression summed as notionalSum. */
  notional?: string;
  /** Has the load generator's per-writer seq column. */
  seq?: boolean;
}

export const CANONICAL_TABLES: readonly TableAggregate[] = [
  { table: 'accounts' },
  { table: 'instruments' },
  // Market orders have no limit price: their notional is unknown until filled.
  { table: 'orders', quantity: 'quantity', notional: 'quantity * limit_price', seq: true },
  { table: 'fills', quantity: 'quantity', notional: 'quantity * price', seq: true },
  { table: 'risk_events', seq: true },
  // Net quantity, and gross traded notional (bought + sold).
  { table: 'positions', quantity: 'quantity', notional: 'bought_notional + sold_notional' },
  // Amounts are reconciled per account and currency in balancesByAccount.
  { table: 'balance_ledger' },
];

const exactSum = (expr: string | undefined) =>
  expr ? `trim_scale(coalesce(sum(${expr}), 0))::text` : 'null';

const tableAggregatesSql = CANONICAL_TABLES.map(
  (t) =>
    `select '${t.table}' as name, count(*)::text as rows, ${exactSum(t.quantity)} as quantity_sum, ` +
    `${exactSum(t.notional)} as notional_sum, ${t.seq ? 'coalesce(max(seq), 0)::text' : 'null'} as max_seq from ${t.table}`,
).join('\nunion all\n');

interface TableRow {
  name: string;
  rows: string;
  quantity_sum: string | null;
  notional_sum: string | null;
  max_seq: string | null;
}

export async function readLedgerAggregates(conn: PostgresConnection): Promise<LedgerAggregates> {
  return withSession(conn, async (client) => {
    await client.query('begin isolation level repeatable read read only');
    try {
      return await aggregatesInSnapshot(client);
    } finally {
      await client.query('rollback').catch(() => {});
    }
  });
}

async function aggregatesInSnapshot(client: pg.Client): Promise<LedgerAggregates> {
  // The first statement takes the snapshot: record the WAL position with it.
  const snapshot = (
    await client.query<{ captured_at: Date; lsn: string | null }>(
      `select now() as captured_at,
              (case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end)::text as lsn`,
    )
  ).rows[0]!;
  const tables: LedgerAggregates['tables'] = {};
  const maxSeq: LedgerAggregates['maxSeq'] = {};
  for (const row of (await client.query<TableRow>(tableAggregatesSql)).rows) {
    tables[row.name] = {
      rows: Number(row.rows),
      ...(row.quantity_sum === null ? {} : { quantitySum: row.quantity_sum }),
      ...(row.notional_sum === null ? {} : { notionalSum: row.notional_sum }),
    };
    if (row.max_seq !== null) maxSeq[row.name] = Number(row.max_seq);
  }
  const balances = await client.query<{ key: string; value: string }>(
    `select account_id || ':' || currency as key, trim_scale(balance)::text as value from balances order by 1`,
  );
  const positions = await client.query<{ key: string; value: string }>(
    `select account_id || ':' || symbol as key, trim_scale(quantity)::text as value from positions order by 1`,
  );
  return {
    capturedAt: snapshot.captured_at.toISOString(),
    lsn: snapshot.lsn,
    tables,
    balancesByAccount: Object.fromEntries(balances.rows.map((r) => [r.key, r.value])),
    positionsByAccountInstrument: Object.fromEntries(positions.rows.map((r) => [r.key, r.value])),
    maxSeq,
  };
}

export type SequencedTable = 'orders' | 'fills' | 'risk_events';
const SEQUENCED_TABLES: readonly SequencedTable[] = ['orders', 'fills', 'risk_events'];

/** Of the given (writer, seq) writes, those the table does not hold; one index probe each (unique writer_id, seq). */
export async function readMissingSequences(
  conn: PostgresConnection,
  table: SequencedTable,
  writerId: string,
  seqs: number[],
): Promise<number[]> {
  if (!SEQUENCED_TABLES.includes(table)) throw new Error(`not a sequenced canonical table: ${table}`);
  if (seqs.length === 0) return [];
  return withSession(conn, async (client) => {
    const { rows } = await client.query<{ seq: string }>(
      `select s.seq::text from unnest($2::bigint[]) as s (seq)
        where not exists (select 1 from ${table} t where t.writer_id = $1 and t.seq = s.seq)
        order by s.seq`,
      [writerId, seqs],
    );
    return rows.map((r) => Number(r.seq));
  });
}
