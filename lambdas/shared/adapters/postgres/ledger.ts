/**
 * Ledger reconciliation aggregates (runbook: "comparing aggregates (counts, sums,
 * balances)") over the canonical tables of schemas/postgres/0001_trading_core.sql, read
 * in one REPEATABLE READ READ ONLY transaction so every figure comes from the same
 * snapshot. Decimals stay exact strings in PostgreSQL's shortest form (trim_scale), never
 * JS numbers.
 *
 * Set-based: one scan per table, grouped by (account, instrument, writer, side of the
 * horizon) in one hash aggregate; totals and the per-account, per-instrument and per-writer
 * figures are added up exactly from those groups (exact-decimal.ts).
 *
 * With a horizon (taken from the baseline being reconciled against) every figure is also
 * split into the rows the baseline could hold and the rows written after it:
 *  - load-generator rows (writer_id + seq) are after when their seq is above the writer's
 *    highest in the baseline, or one of the seqs the baseline did not hold below it (in
 *    flight when it was captured), or when the writer is not in the baseline at all;
 *  - rows of other sources (no writer) are after when timestamped after the baseline's
 *    capture time (created_at; executed_at for fills);
 *  - positions are maintained in place, so their state as of the horizon is the current
 *    one minus the later fills' signed quantities; balance-ledger entries of later fills
 *    are later.
 */
import type pg from 'pg';
import type {
  LedgerAggregates,
  LedgerAggregatesOptions,
  LedgerFigures,
  LedgerFiguresByKey,
  LedgerHorizon,
  LedgerHorizonSplit,
} from '../contracts';
import { addDecimals } from '../../ledger/exact-decimal';
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

export const CANONICAL_TABLE_NAMES: readonly string[] = CANONICAL_TABLES.map((t) => t.table);

export type SequencedTable = 'orders' | 'fills' | 'risk_events';
export const SEQUENCED_TABLES: readonly SequencedTable[] = ['orders', 'fills', 'risk_events'];

/** The timestamp that places a row of another source than the load generator before or after a horizon. */
const TIMESTAMP_OF: Record<SequencedTable, string> = {
  orders: 'created_at',
  fills: 'executed_at',
  risk_events: 'created_at',
};

/**
 * How far below a writer's highest seq the baseline records the seqs it did not hold. A
 * write in flight at capture that commits later lies just below the highest seq; a seq
 * further down that turns up later is not placed after the horizon, so it makes the
 * figures within the horizon exceed the baseline's: a SEV-1 mismatch for a human to judge.
 */
export const GAP_WINDOW = 1000;
/** Sequence ranges reported per writer for the rows after a horizon. */
export const MAX_RANGES_PER_WRITER = 200;

// ---------------------------------------------------------------- SQL

/**
 * One figure row of a sequenced table: its rows of one (account, instrument, writer), on
 * one side of the horizon. Grouping by all three at once is one hash aggregate (parallel)
 * with each sum computed once per row; totals and the per-key figures are added up
 * exactly from these groups (there are about as many as positions × writers).
 */
export interface GroupRow {
  tbl: string;
  account_id: string | null;
  symbol: string | null;
  writer_id: string | null;
  late: boolean;
  rows: string;
  quantity_sum: string | null;
  notional_sum: string | null;
  max_seq: string | null;
}

export interface PositionRow {
  key: string;
  quantity: string;
  notional: string;
  /** Quantity as of the horizon (current minus later fills); equals quantity without a horizon. */
  within_quantity: string;
  /** The position existed within the horizon (some of its fills are not later). */
  within: boolean;
}

export interface BalanceRow {
  key: string;
  late: boolean;
  rows: string;
  amount: string;
}

/** Horizon writers as the SQL reads them: $1 of every horizon query. */
const horizonWriters = (alias: string) =>
  `jsonb_to_recordset($1::jsonb) as ${alias} (writer text, max_seq bigint, gaps bigint[])`;

function lateOfSequenced(table: SequencedTable, defaultMaxSeq: number): string {
  return `case when t.writer_id is null then t.${TIMESTAMP_OF[table]} > $2::timestamptz
               else t.seq > coalesce(h.max_seq, ${defaultMaxSeq}) or coalesce(t.seq = any (h.gaps), false) end`;
}

const exactSum = (expr: string | undefined) =>
  expr ? `trim_scale(coalesce(sum(${expr}), 0))::text` : 'null::text';

/** Figures of a sequenced table per account, instrument and writer, split at the horizon. */
export function sequencedTableSql(table: SequencedTable, horizon: LedgerHorizon | undefined): string {
  const spec = CANONICAL_TABLES.find((t) => t.table === table)!;
  const late = horizon ? lateOfSequenced(table, horizonDefaultMaxSeq(horizon, table)) : 'false';
  const join = horizon ? `left join ${horizonWriters('h')} on h.writer = t.writer_id` : '';
  return `select '${table}' as tbl, t.account_id, t.symbol, t.writer_id, ${late} as late, count(*)::text as rows,
       ${exactSum(spec.quantity)} as quantity_sum, ${exactSum(spec.notional)} as notional_sum,
       coalesce(max(t.seq), 0)::text as max_seq
  from ${table} t ${join}
 group by 2, 3, 4, 5
 order by 2, 3, 4, 5`;
}

/** Reference data: row counts, rows created after the horizon's capture time being later. */
export function referenceTablesSql(horizon: LedgerHorizon | undefined): string {
  return ['accounts', 'instruments']
    .map(
      (table) =>
        `select '${table}' as tbl, null as account_id, null as symbol, null as writer_id,
                ${horizon ? 't.created_at > $1::timestamptz' : 'false'} as late, count(*)::text as rows,
                null::text as quantity_sum, null::text as notional_sum, null::text as max_seq
           from ${table} t group by 5`,
    )
    .join('\nunion all\n');
}

/**
 * Which fills lie after the horizon, as the fills' own figures found them: the writers
 * with later fills, and whether fills without a writer are timestamped after it. Later
 * fills are then fetched through the (writer_id, seq) index, not by scanning fills again.
 */
export interface LaterFills {
  /** Writers with fills after the horizon; max_seq null for writers the horizon does not know. */
  writers: { writer: string; max_seq: number | null; gaps: number[] }[];
  untracked: boolean;
}

/** $1: LaterFills.writers as JSON, $2: the horizon's capture time (referenced only with untracked later fills). */
function laterFillsCte(horizon: LedgerHorizon, later: LaterFills): string {
  const signed = `case when t.side = 'buy' then t.quantity else -t.quantity end as q`;
  const parts = [
    `select t.fill_id, t.account_id, t.symbol, ${signed}
       from jsonb_to_recordset($1::jsonb) as w (writer text, max_seq bigint, gaps bigint[])
       cross join lateral (
         select * from fills t where t.writer_id = w.writer
            and (t.seq > coalesce(w.max_seq, ${horizonDefaultMaxSeq(horizon, 'fills')}) or coalesce(t.seq = any (w.gaps), false))
         offset 0) t`,
  ];
  if (later.untracked)
    parts.push(
      `select t.fill_id, t.account_id, t.symbol, ${signed}
         from fills t where t.writer_id is null and t.executed_at > $2::timestamptz`,
    );
  return `lf as materialized (${parts.join('\n  union all\n  ')})`;
}

const hasLaterFills = (later: LaterFills | undefined): later is LaterFills =>
  later !== undefined && (later.writers.length > 0 || later.untracked);

/** Positions, with their quantity as of the horizon: current minus the later fills' signed quantities. */
export function positionsSql(horizon: LedgerHorizon | undefined, later?: LaterFills): string {
  if (!horizon || !hasLaterFills(later))
    return `select account_id || ':' || symbol as key, trim_scale(quantity)::text as quantity,
                   trim_scale(bought_notional + sold_notional)::text as notional,
                   trim_scale(quantity)::text as within_quantity, true as within
              from positions order by 1`;
  return `with ${laterFillsCte(horizon, later)},
pd as (select account_id, symbol, sum(q) as q, count(*) as n from lf group by 1, 2)
select p.account_id || ':' || p.symbol as key, trim_scale(p.quantity)::text as quantity,
       trim_scale(p.bought_notional + p.sold_notional)::text as notional,
       trim_scale(p.quantity - coalesce(pd.q, 0))::text as within_quantity,
       (pd.n is null or p.fill_count > pd.n) as within
  from positions p left join pd using (account_id, symbol) order by 1`;
}

/**
 * Balances per account and currency, split at the horizon, in one scan of the ledger:
 * entries without a fill by their timestamp; entries of later fills (found through the
 * ledger's fill_id index) moved from the within side to the later side.
 */
export function balancesSql(horizon: LedgerHorizon | undefined, later?: LaterFills): string {
  if (!horizon)
    return `select account_id || ':' || currency as key, false as late, count(*)::text as rows,
                   trim_scale(sum(amount))::text as amount
              from balance_ledger group by account_id, currency order by 1`;
  // $2 here is the capture time; without later fills it is the only parameter, $1.
  const untimely = (capturedAt: string) => `select account_id || ':' || currency as key,
         (fill_id is null and created_at > ${capturedAt}::timestamptz) as late, count(*) as rows, sum(amount) as amount
    from balance_ledger group by 1, 2`;
  if (!hasLaterFills(later))
    return `select key, late, rows::text, trim_scale(amount)::text as amount from (${untimely('$1')}) u order by 1, 2`;
  return `with ${laterFillsCte(horizon, later)},
le as materialized (
  select e.account_id || ':' || e.currency as key, e.amount
    from lf cross join lateral (select l.account_id, l.currency, l.amount from balance_ledger l where l.fill_id = lf.fill_id offset 0) e),
u as (
  ${untimely('$2')}
  union all select key, false, -count(*), -sum(amount) from le group by 1
  union all select key, true, count(*), sum(amount) from le group by 1)
select key, late, sum(rows)::text as rows, trim_scale(sum(amount))::text as amount
  from u group by key, late having sum(rows) <> 0 order by 1, 2`;
}

/**
 * Seqs in the window below each writer's highest that no sequenced table holds, leaving out
 * the given gaps. $1: [{writer, max_seq, gaps}]. Capturing (no gaps given): the seqs a
 * baseline does not hold. Against a horizon (its gaps given): the seqs the baseline held
 * that are gone.
 */
export const ABSENT_SEQS_SQL = `select w.writer, array_agg(g order by g)::text[] as seqs
  from jsonb_to_recordset($1::jsonb) as w (writer text, max_seq bigint, gaps bigint[]),
       lateral generate_series(greatest(1, w.max_seq - ${GAP_WINDOW - 1}), w.max_seq) as g
 where not coalesce(g = any (w.gaps), false)
   and ${SEQUENCED_TABLES.map((t) => `not exists (select 1 from ${t} t where t.writer_id = w.writer and t.seq = g)`).join('\n   and ')}
 group by w.writer`;

/**
 * Consecutive seq ranges of the rows after the horizon, per writer, over the three
 * sequenced tables (one index range scan per writer and table). $1: [{writer, max_seq, gaps}]
 * of the writers that have later rows (max_seq null for writers the horizon does not know).
 */
export function laterRangesSql(horizon: LedgerHorizon): string {
  const laterIn = (t: SequencedTable) =>
    `select t.seq from ${t} t where t.writer_id = w.writer
        and (t.seq > coalesce(w.max_seq, ${horizonDefaultMaxSeq(horizon, t)}) or coalesce(t.seq = any (w.gaps), false))`;
  return `select writer, min(seq)::text as lo, max(seq)::text as hi
  from (select w.writer, u.seq, u.seq - row_number() over (partition by w.writer order by u.seq) as island
          from jsonb_to_recordset($1::jsonb) as w (writer text, max_seq bigint, gaps bigint[])
          cross join lateral (${SEQUENCED_TABLES.map(laterIn).join('\n            union all ')}) u) s
 group by writer, island
 order by writer, min(seq)`;
}

function horizonDefaultMaxSeq(horizon: LedgerHorizon, table: string): number {
  const value = horizon.maxSeq?.[table] ?? 0;
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`horizon maxSeq of ${table} is not a seq`);
  return value;
}

function horizonWritersJson(horizon: LedgerHorizon): string {
  return JSON.stringify(
    Object.entries(horizon.writers).map(([writer, w]) => ({ writer, max_seq: w.maxSeq, gaps: w.gaps })),
  );
}

// ---------------------------------------------------------------- read

export async function readLedgerAggregates(
  conn: PostgresConnection,
  options: LedgerAggregatesOptions = {},
): Promise<LedgerAggregates> {
  return withSession(conn, async (client) => {
    await client.query('begin isolation level repeatable read read only');
    try {
      return await aggregatesInSnapshot(client, options.horizon);
    } finally {
      await client.query('rollback').catch(() => {});
    }
  });
}

async function aggregatesInSnapshot(
  client: pg.Client,
  horizon: LedgerHorizon | undefined,
): Promise<LedgerAggregates> {
  // The first statement takes the snapshot: record the WAL position and the time with it,
  // to the microsecond (rows of other sources are placed before or after it by timestamp).
  const snapshot = (
    await client.query<{ captured_at: string; lsn: string | null }>(
      `select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as captured_at,
              (case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end)::text as lsn`,
    )
  ).rows[0]!;
  const params = horizon ? [horizonWritersJson(horizon), horizon.capturedAt] : [];
  const rows: GroupRow[] = [];
  for (const table of SEQUENCED_TABLES)
    rows.push(...(await client.query<GroupRow>(sequencedTableSql(table, horizon), params)).rows);
  rows.push(
    ...(await client.query<GroupRow>(referenceTablesSql(horizon), horizon ? [horizon.capturedAt] : [])).rows,
  );
  let later: LaterFills | undefined;
  if (horizon) {
    const laterFillRows = rows.filter((r) => r.tbl === 'fills' && r.late);
    later = {
      writers: [...new Set(laterFillRows.flatMap((r) => (r.writer_id === null ? [] : [r.writer_id])))].map(
        (writer) => ({
          writer,
          max_seq: horizon.writers[writer]?.maxSeq ?? null,
          gaps: horizon.writers[writer]?.gaps ?? [],
        }),
      ),
      untracked: laterFillRows.some((r) => r.writer_id === null),
    };
  }
  const laterParams = later ? [JSON.stringify(later.writers), horizon!.capturedAt] : [];
  const positions = (
    await client.query<PositionRow>(
      positionsSql(horizon, later),
      hasLaterFills(later) ? laterParams.slice(0, later.untracked ? 2 : 1) : [],
    )
  ).rows;
  const balances = (
    await client.query<BalanceRow>(
      balancesSql(horizon, later),
      hasLaterFills(later) ? laterParams : horizon ? [horizon.capturedAt] : [],
    )
  ).rows;

  const assembled = assembleAggregates(rows, positions, balances);
  // Seqs a writer had not (yet) committed below its highest: only when its rows do not fill 1..max.
  const incomplete = Object.entries(assembled.writerTotals)
    .filter(([, w]) => w.rows !== w.maxSeq)
    .map(([writer, w]) => ({ writer, max_seq: w.maxSeq }));
  const writerGaps: Record<string, number[]> = {};
  for (const w of incomplete) writerGaps[w.writer] = [];
  if (incomplete.length > 0) {
    const { rows: gapRows } = await client.query<{ writer: string; seqs: string[] }>(ABSENT_SEQS_SQL, [
      JSON.stringify(incomplete.map((w) => ({ ...w, gaps: [] }))),
    ]);
    for (const r of gapRows) writerGaps[r.writer] = r.seqs.map(Number);
  }

  let split: LedgerHorizonSplit | undefined;
  if (horizon) {
    const laterWriters = Object.keys(assembled.laterByWriterTotal).map((writer) => ({
      writer,
      max_seq: horizon.writers[writer]?.maxSeq ?? null,
      gaps: horizon.writers[writer]?.gaps ?? [],
    }));
    const writerRanges: LedgerHorizonSplit['after']['writerRanges'] = {};
    if (laterWriters.length > 0) {
      const { rows: rangeRows } = await client.query<{ writer: string; lo: string; hi: string }>(
        laterRangesSql(horizon),
        [JSON.stringify(laterWriters)],
      );
      for (const r of rangeRows) {
        const entry = (writerRanges[r.writer] ??= { ranges: [], truncated: false });
        if (entry.ranges.length < MAX_RANGES_PER_WRITER) entry.ranges.push([Number(r.lo), Number(r.hi)]);
        else entry.truncated = true;
      }
    }
    // Writers with fewer rows within the horizon than the baseline held: which seqs are gone.
    const short = Object.entries(horizon.writers).filter(([writer, w]) => {
      const within = Object.values(assembled.within.byWriter).reduce((n, byW) => n + (byW[writer] ?? 0), 0);
      return w.rows !== undefined && within < w.rows;
    });
    const missingSeqs: Record<string, number[]> = {};
    if (short.length > 0) {
      const { rows: absent } = await client.query<{ writer: string; seqs: string[] }>(ABSENT_SEQS_SQL, [
        JSON.stringify(short.map(([writer, w]) => ({ writer, max_seq: w.maxSeq, gaps: w.gaps }))),
      ]);
      for (const r of absent) missingSeqs[r.writer] = r.seqs.map(Number);
    }
    split = {
      capturedAt: horizon.capturedAt,
      writerMaxSeq: Object.fromEntries(Object.entries(horizon.writers).map(([w, v]) => [w, v.maxSeq])),
      within: { ...assembled.within, missingSeqs },
      after: { ...assembled.after, writerRanges },
    };
  }
  return {
    capturedAt: snapshot.captured_at,
    lsn: snapshot.lsn,
    ...assembled.full,
    writerGaps,
    ...(split ? { horizon: split } : {}),
  };
}

// ---------------------------------------------------------------- assembly (pure)

const setFigures = (
  target: Record<string, LedgerFigures>,
  key: string,
  row: { rows: number; quantitySum?: string | null; notionalSum?: string | null },
) => {
  const have = target[key];
  const rows = (have?.rows ?? 0) + row.rows;
  const quantitySum =
    row.quantitySum == null ? have?.quantitySum : addDecimals(have?.quantitySum, row.quantitySum);
  const notionalSum =
    row.notionalSum == null ? have?.notionalSum : addDecimals(have?.notionalSum, row.notionalSum);
  target[key] = {
    rows,
    ...(quantitySum === undefined ? {} : { quantitySum }),
    ...(notionalSum === undefined ? {} : { notionalSum }),
  };
};

const bump = (target: Record<string, Record<string, number>>, table: string, key: string, n: number) => {
  const byKey = (target[table] ??= {});
  byKey[key] = (byKey[key] ?? 0) + n;
};

/**
 * Figure rows → aggregates: the full figures (both sides of the horizon added exactly), the
 * figures within the horizon, and the counts after it.
 */
export function assembleAggregates(rows: GroupRow[], positions: PositionRow[], balances: BalanceRow[]) {
  const tables: Record<string, LedgerFigures> = {};
  const maxSeq: Record<string, number> = {};
  const byAccount: LedgerFiguresByKey = {};
  const byInstrument: LedgerFiguresByKey = {};
  const byWriter: Record<string, Record<string, { rows: number; maxSeq: number }>> = {};
  const writerTotals: Record<string, { rows: number; maxSeq: number }> = {};
  const within = {
    tables: {} as Record<string, LedgerFigures>,
    byAccount: {} as LedgerFiguresByKey,
    byInstrument: {} as LedgerFiguresByKey,
    byWriter: {} as Record<string, Record<string, number>>,
    balancesByAccount: {} as Record<string, string>,
    positionsByAccountInstrument: {} as Record<string, string>,
  };
  const after = {
    tables: {} as Record<string, number>,
    byAccount: {} as Record<string, Record<string, number>>,
    byInstrument: {} as Record<string, Record<string, number>>,
    byWriter: {} as Record<string, Record<string, number>>,
    untracked: {} as Record<string, number>,
  };
  const laterByWriterTotal: Record<string, number> = {};

  for (const row of rows) {
    const figures = { rows: Number(row.rows), quantitySum: row.quantity_sum, notionalSum: row.notional_sum };
    const table = row.tbl;
    setFigures(tables, table, figures);
    if (!row.late) setFigures(within.tables, table, figures);
    else after.tables[table] = (after.tables[table] ?? 0) + figures.rows;
    if (row.max_seq !== null) maxSeq[table] = Math.max(maxSeq[table] ?? 0, Number(row.max_seq));
    for (const [key, full, inside, later] of [
      [row.account_id, byAccount, within.byAccount, after.byAccount],
      // Rows without an instrument (some risk events) are counted per table and account only.
      [row.symbol, byInstrument, within.byInstrument, after.byInstrument],
    ] as const) {
      if (key === null) continue;
      setFigures((full[table] ??= {}), key, figures);
      if (!row.late) setFigures((inside[table] ??= {}), key, figures);
      else bump(later, table, key, figures.rows);
    }
    if (!SEQUENCED_TABLES.includes(table as SequencedTable)) continue;
    if (row.writer_id === null) {
      if (row.late) after.untracked[table] = (after.untracked[table] ?? 0) + figures.rows;
      continue;
    }
    const writer = row.writer_id;
    const seq = Number(row.max_seq ?? 0);
    for (const w of [
      ((byWriter[table] ??= {})[writer] ??= { rows: 0, maxSeq: 0 }),
      (writerTotals[writer] ??= { rows: 0, maxSeq: 0 }),
    ]) {
      w.rows += figures.rows;
      w.maxSeq = Math.max(w.maxSeq, seq);
    }
    if (!row.late) bump(within.byWriter, table, writer, figures.rows);
    else {
      bump(after.byWriter, table, writer, figures.rows);
      laterByWriterTotal[writer] = (laterByWriterTotal[writer] ?? 0) + figures.rows;
    }
  }

  const positionsByAccountInstrument: Record<string, string> = {};
  for (const p of positions) {
    positionsByAccountInstrument[p.key] = p.quantity;
    setFigures(tables, 'positions', { rows: 1, quantitySum: p.quantity, notionalSum: p.notional });
    if (p.within) {
      within.positionsByAccountInstrument[p.key] = p.within_quantity;
      // Notional is the writer's rounding of each fill's; exact notional is reconciled in fills.
      setFigures(within.tables, 'positions', { rows: 1, quantitySum: p.within_quantity });
    } else after.tables.positions = (after.tables.positions ?? 0) + 1;
  }
  // A table without rows has no group: its figures are zero.
  for (const spec of CANONICAL_TABLES) {
    tables[spec.table] ??= zeroFigures(spec);
    within.tables[spec.table] ??= zeroFigures(
      spec.table === 'positions' ? { table: spec.table, quantity: 'q' } : spec,
    );
  }

  const balancesByAccount: Record<string, string> = {};
  for (const b of balances) {
    balancesByAccount[b.key] = addDecimals(balancesByAccount[b.key], b.amount);
    setFigures(tables, 'balance_ledger', { rows: Number(b.rows) });
    if (!b.late) {
      within.balancesByAccount[b.key] = addDecimals(within.balancesByAccount[b.key], b.amount);
      setFigures(within.tables, 'balance_ledger', { rows: Number(b.rows) });
    } else after.tables.balance_ledger = (after.tables.balance_ledger ?? 0) + Number(b.rows);
  }
  for (const t of SEQUENCED_TABLES) maxSeq[t] ??= 0;

  return {
    full: {
      tables: orderTables(tables),
      balancesByAccount,
      positionsByAccountInstrument,
      maxSeq,
      byAccount: sortKeys(byAccount),
      byInstrument: sortKeys(byInstrument),
      byWriter: sortKeys(byWriter),
    },
    within: {
      ...within,
      tables: orderTables(within.tables),
      byAccount: sortKeys(within.byAccount),
      byInstrument: sortKeys(within.byInstrument),
      byWriter: sortKeys(within.byWriter),
    },
    after: {
      ...after,
      byAccount: sortKeys(after.byAccount),
      byInstrument: sortKeys(after.byInstrument),
      byWriter: sortKeys(after.byWriter),
    },
    writerTotals,
    laterByWriterTotal,
  };
}

const zeroFigures = (spec: TableAggregate): LedgerFigures => ({
  rows: 0,
  ...(spec.quantity ? { quantitySum: '0' } : {}),
  ...(spec.notional ? { notionalSum: '0' } : {}),
});

/** table → key → value with the keys in sorted order (stable JSON for evidence). */
function sortKeys<T>(byTable: Record<string, Record<string, T>>): Record<string, Record<string, T>> {
  return Object.fromEntries(
    Object.entries(byTable).map(([table, byKey]) => [
      table,
      Object.fromEntries(Object.entries(byKey).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    ]),
  );
}

/** Tables in canonical order (stable JSON for evidence). */
function orderTables<T>(tables: Record<string, T>): Record<string, T> {
  const ordered: Record<string, T> = {};
  for (const name of CANONICAL_TABLE_NAMES) if (tables[name] !== undefined) ordered[name] = tables[name];
  for (const [name, value] of Object.entries(tables)) if (!(name in ordered)) ordered[name] = value;
  return ordered;
}

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
