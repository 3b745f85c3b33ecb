/**
 * A large trading ledger loaded straight into PostgreSQL with set-based SQL (not the load
 * generator): N limit orders, each filled once, with their cash-ledger postings and the
 * positions they add up to, as the application would have written them. Keys ascend with
 * the order number so the unique indexes are appended to; foreign-key triggers are off for
 * the load (the rows are consistent by construction). For benchmarks only.
 */
import { queryOnce } from '../sandbox/postgres';

export const BULK_WRITER = 'bulk';

export interface BulkLedgerOptions {
  /** Orders (each with one fill). */
  orders: number;
  /** First order number (to append a second batch). @default 1 */
  from?: number;
  /** Writer id on the rows; order n has seq 2n-1, its fill 2n. @default BULK_WRITER */
  writer?: string;
}

const uuid = (kind: '8' | '9', n: string) =>
  `('00000000-0000-4000-${kind}000-' || lpad(to_hex(${n}), 12, '0'))::uuid`;

/** The SQL statements that append orders from..to, their fills and ledger postings (independent of each other), then the positions they add up to. */
export function bulkLedgerSql({ orders, from = 1, writer = BULK_WRITER }: BulkLedgerOptions): {
  rows: string[];
  positions: string;
} {
  if (!Number.isSafeInteger(orders) || orders < 1) throw new RangeError('orders must be a positive integer');
  const to = from + orders - 1;
  const w = writer.replace(/'/g, "''");
  const series = `generate_series(${from}, ${to}) as g`;
  const account = `'ACC-000' || (1 + g % 5)`;
  const symbol = `(array['AAPL', 'MSFT', 'NVDA', 'SPY'])[1 + g % 4]`;
  const side = `case when (g / 7) % 2 = 0 then 'buy' else 'sell' end`;
  const quantity = `(1 + g % 100)::numeric`;
  const price = `(100 + (g % 50) * 0.25)::numeric`;
  const rows = [
    `insert into orders (order_id, idempotency_key, writer_id, seq, account_id, symbol, side, order_type, quantity,
                    limit_price, filled_quantity, status)
select ${uuid('8', 'g')}, '${w}-o-' || lpad(g::text, 10, '0'), '${w}', 2 * g - 1, ${account}, ${symbol}, ${side},
       'limit', ${quantity}, ${price}, ${quantity}, 'filled'
  from ${series}`,
    `insert into fills (fill_id, idempotency_key, writer_id, seq, order_id, account_id, symbol, side, quantity, price,
                   fee, liquidity)
select ${uuid('9', 'g')}, '${w}-f-' || lpad(g::text, 10, '0'), '${w}', 2 * g, ${uuid('8', 'g')}, ${account}, ${symbol},
       ${side}, ${quantity}, ${price}, 0.5, case when g % 3 = 0 then 'maker' else 'taker' end
  from ${series}`,
    `insert into balance_ledger (entry_key, account_id, currency, amount, entry_type, fill_id)
select 'fill:' || ${uuid('9', 'g')} || ':settlement', ${account}, 'USD',
       case when ${side} = 'buy' then -1 else 1 end * round(${quantity} * ${price}, 8), 'trade_settlement', ${uuid('9', 'g')}
  from ${series}`,
    `insert into balance_ledger (entry_key, account_id, currency, amount, entry_type, fill_id)
select 'fill:' || ${uuid('9', 'g')} || ':fee', ${account}, 'USD', -0.5, 'fee', ${uuid('9', 'g')}
  from ${series}`,
  ];
  const positions = `insert into positions as p (account_id, symbol, quantity, bought_quantity, sold_quantity, bought_notional,
                            sold_notional, fill_count)
select account_id, symbol,
       sum(case when side = 'buy' then quantity else -quantity end),
       coalesce(sum(quantity) filter (where side = 'buy'), 0), coalesce(sum(quantity) filter (where side = 'sell'), 0),
       coalesce(sum(round(quantity * price, 8)) filter (where side = 'buy'), 0),
       coalesce(sum(round(quantity * price, 8)) filter (where side = 'sell'), 0), count(*)
  from fills where writer_id = '${w}' and seq between ${2 * from} and ${2 * to}
 group by account_id, symbol
on conflict (account_id, symbol) do update
   set quantity = p.quantity + excluded.quantity, bought_quantity = p.bought_quantity + excluded.bought_quantity,
       sold_quantity = p.sold_quantity + excluded.sold_quantity,
       bought_notional = p.bought_notional + excluded.bought_notional,
       sold_notional = p.sold_notional + excluded.sold_notional, fill_count = p.fill_count + excluded.fill_count`;
  return { rows, positions };
}

/**
 * Loads the ledger into the PostgreSQL at `port` as the operator, the four row inserts two
 * at a time on their own sessions (they do not depend on each other with foreign-key
 * triggers off), then the positions; analyzes what it loaded.
 */
export async function loadBulkLedger(
  port: number,
  options: BulkLedgerOptions,
  parallel = 2,
): Promise<{ ms: number }> {
  const started = Date.now();
  const { rows, positions } = bulkLedgerSql(options);
  const run = (sql: string) => queryOnce(port, `set session_replication_role = replica;\n${sql}`);
  const queue = [...rows];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let sql = queue.shift(); sql !== undefined; sql = queue.shift()) await run(sql);
    }),
  );
  await run(positions);
  await queryOnce(port, 'analyze orders; analyze fills; analyze balance_ledger; analyze positions');
  return { ms: Date.now() - started };
}
