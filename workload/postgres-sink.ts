/**
 * Writes planned orders, fills and risk events to the trading store, one transaction
 * per write, idempotently: `on conflict (idempotency_key) do nothing returning …`
 * turns a retry of a write that already committed into a no-op, detected and
 * reported as `duplicate` (after checking the stored row is really this write).
 *
 * One connection per sink; the endpoint is resolved again on every (re)connect so
 * that a failover can redirect the generator.
 */
import pg from 'pg';
import { IdempotencyConflictError } from './accounting';
import { fromUnits, multiplyUnits, normalizeDecimal, toUnits } from './decimal';
import type { FillWrite, OrderWrite, PlannedWrite, RiskEventWrite } from './write-plan';

export interface PostgresEndpoint {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
}

/** A value, or a function called again on every (re)connect (a failover may change it). */
export type EndpointSource<T> = T | (() => T | Promise<T>);

export const resolveEndpoint = async <T>(source: EndpointSource<T>): Promise<T> =>
  typeof source === 'function' ? await (source as () => T | Promise<T>)() : source;

export interface PostgresAck {
  /** The write was already committed (a retry of a write whose commit outcome was unknown). */
  duplicate: boolean;
}

/** What the generator needs from a sink connection; the real ones talk to servers, tests use fakes. */
export interface SinkConnection<Ack> {
  write(write: PlannedWrite): Promise<Ack>;
  /** Drops the connection; the next write reconnects (resolving the endpoint again). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface PostgresSinkOptions {
  endpoint: EndpointSource<PostgresEndpoint>;
  applicationName: string;
  /** @default 3000 */
  connectTimeoutMs?: number;
  /** Client-side bound on one statement, so a black-holed server cannot hang a write. @default 10000 */
  queryTimeoutMs?: number;
  /** Called after each successful connect. */
  onConnect?: (endpoint: PostgresEndpoint, connectionNumber: number) => void;
}

type Queryable = Pick<pg.Client, 'query'>;

export class PostgresSink implements SinkConnection<PostgresAck> {
  private client: pg.Client | undefined;
  private broken = false;
  private connections = 0;

  constructor(private readonly opts: PostgresSinkOptions) {}

  private async connected(): Promise<pg.Client> {
    if (this.client && !this.broken) return this.client;
    await this.reset();
    const endpoint = await resolveEndpoint(this.opts.endpoint);
    const queryTimeout = this.opts.queryTimeoutMs ?? 10_000;
    const client = new pg.Client({
      host: endpoint.host,
      port: endpoint.port,
      database: endpoint.database,
      user: endpoint.user,
      password: endpoint.password,
      application_name: this.opts.applicationName,
      connectionTimeoutMillis: this.opts.connectTimeoutMs ?? 3_000,
      query_timeout: queryTimeout,
      statement_timeout: Math.max(1, queryTimeout - 1_000),
      idle_in_transaction_session_timeout: queryTimeout,
      keepAlive: true,
    });
    // A server-side termination of an idle connection arrives as an 'error' event;
    // without a listener it would crash the process.
    const markBroken = () => {
      if (this.client === client) this.broken = true;
    };
    client.on('error', markBroken);
    client.on('end', markBroken);
    try {
      await client.connect();
    } catch (err) {
      client.end().catch(() => {});
      throw err;
    }
    this.client = client;
    this.broken = false;
    this.connections += 1;
    this.opts.onConnect?.(endpoint, this.connections);
    return client;
  }

  async write(write: PlannedWrite): Promise<PostgresAck> {
    const client = await this.connected();
    try {
      await client.query('begin');
      const inserted = await insertWrite(client, write);
      if (!inserted) {
        await verifySameWrite(client, write);
        await client.query('rollback');
        return { duplicate: true };
      }
      if (write.kind === 'fill') await applyFill(client, write);
      await client.query('commit');
      return { duplicate: false };
    } catch (err) {
      await this.abandon(client, err);
      throw err;
    }
  }

  /** After a failed statement: roll back on a healthy connection, otherwise drop it. */
  private async abandon(client: pg.Client, err: unknown): Promise<void> {
    const sqlState =
      typeof (err as { code?: unknown }).code === 'string' &&
      /^[0-9A-Z]{5}$/.test((err as { code: string }).code);
    if (!this.broken && sqlState) {
      try {
        await client.query('rollback');
        return;
      } catch {
        // fall through: the connection is not usable
      }
    }
    this.broken = true;
  }

  async reset(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.broken = false;
    if (client) await client.end().catch(() => {});
  }

  async close(): Promise<void> {
    await this.reset();
  }
}

async function insertWrite(client: Queryable, w: PlannedWrite): Promise<boolean> {
  switch (w.kind) {
    case 'order':
      return (
        (
          await client.query(
            `insert into orders (order_id, idempotency_key, writer_id, seq, account_id, symbol, side,
                                 order_type, time_in_force, quantity, limit_price)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             on conflict (idempotency_key) do nothing
             returning order_id`,
            [
              w.orderId,
              w.idempotencyKey,
              w.writerId,
              w.seq,
              w.accountId,
              w.symbol,
              w.side,
              w.orderType,
              w.timeInForce,
              w.quantity,
              w.limitPrice,
            ],
          )
        ).rowCount === 1
      );
    case 'fill':
      return (
        (
          await client.query(
            `insert into fills (fill_id, idempotency_key, writer_id, seq, order_id, account_id, symbol, side,
                                quantity, price, fee, liquidity)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             on conflict (idempotency_key) do nothing
             returning fill_id`,
            [
              w.fillId,
              w.idempotencyKey,
              w.writerId,
              w.seq,
              w.orderId,
              w.accountId,
              w.symbol,
              w.side,
              w.quantity,
              w.price,
              w.fee,
              w.liquidity,
            ],
          )
        ).rowCount === 1
      );
    case 'risk_event':
      return (
        (
          await client.query(
            `insert into risk_events (risk_event_id, idempotency_key, writer_id, seq, account_id, symbol,
                                      event_type, severity, details)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             on conflict (idempotency_key) do nothing
             returning risk_event_id`,
            [
              w.riskEventId,
              w.idempotencyKey,
              w.writerId,
              w.seq,
              w.accountId,
              w.symbol,
              w.eventType,
              w.severity,
              JSON.stringify(w.details),
            ],
          )
        ).rowCount === 1
      );
  }
}

/** The fill's effects, in the fill's transaction: order progress, position, cash ledger. */
async function applyFill(client: Queryable, f: FillWrite): Promise<void> {
  const quantity = toUnits(f.quantity);
  const notional = multiplyUnits(quantity, toUnits(f.price));
  const buy = f.side === 'buy';
  const updated = await client.query(
    `update orders
        set filled_quantity = filled_quantity + $2,
            status = case when filled_quantity + $2 = quantity then 'filled' else 'partially_filled' end,
            updated_at = now()
      where order_id = $1
      returning order_id`,
    [f.orderId, f.quantity],
  );
  if (updated.rowCount !== 1) throw new Error(`order ${f.orderId} of fill ${f.fillId} not found`);
  await client.query(
    `insert into positions as p (account_id, symbol, quantity, bought_quantity, sold_quantity,
                                 bought_notional, sold_notional, fill_count, last_fill_id, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, 1, $8, now())
     on conflict (account_id, symbol) do update
       set quantity        = p.quantity + excluded.quantity,
           bought_quantity = p.bought_quantity + excluded.bought_quantity,
           sold_quantity   = p.sold_quantity + excluded.sold_quantity,
           bought_notional = p.bought_notional + excluded.bought_notional,
           sold_notional   = p.sold_notional + excluded.sold_notional,
           fill_count      = p.fill_count + 1,
           last_fill_id    = excluded.last_fill_id,
           updated_at      = now()`,
    [
      f.accountId,
      f.symbol,
      fromUnits(buy ? quantity : -quantity),
      buy ? f.quantity : '0',
      buy ? '0' : f.quantity,
      buy ? fromUnits(notional) : '0',
      buy ? '0' : fromUnits(notional),
      f.fillId,
    ],
  );
  const description = `${f.side} ${f.quantity} ${f.symbol} @ ${f.price}`;
  await client.query(
    `insert into balance_ledger (entry_key, account_id, currency, amount, entry_type, fill_id, description)
     values ($1, $2, $3, $4, 'trade_settlement', $5, $6)`,
    [
      `fill:${f.fillId}:settlement`,
      f.accountId,
      f.currency,
      fromUnits(buy ? -notional : notional),
      f.fillId,
      description,
    ],
  );
  const fee = toUnits(f.fee);
  if (fee > 0n) {
    await client.query(
      `insert into balance_ledger (entry_key, account_id, currency, amount, entry_type, fill_id, description)
       values ($1, $2, $3, $4, 'fee', $5, $6)`,
      [`fill:${f.fillId}:fee`, f.accountId, f.currency, fromUnits(-fee), f.fillId, `fee on ${description}`],
    );
  }
}

const same = (a: unknown, b: string | null) =>
  a === null || b === null ? a === b : normalizeDecimal(String(a)) === normalizeDecimal(b);

/** The idempotency key exists: it must be this very write, else the key was reused. */
async function verifySameWrite(client: Queryable, w: PlannedWrite): Promise<void> {
  const table = w.kind === 'order' ? 'orders' : w.kind === 'fill' ? 'fills' : 'risk_events';
  const { rows } = await client.query<Record<string, unknown>>(
    `select * from ${table} where idempotency_key = $1`,
    [w.idempotencyKey],
  );
  const row = rows[0];
  if (!row)
    throw new IdempotencyConflictError(
      `idempotency key ${w.idempotencyKey} conflicted but no ${table} row has it`,
    );
  const mismatches: string[] = [];
  const check = (field: string, ok: boolean) => {
    if (!ok) mismatches.push(field);
  };
  check('writer_id', row.writer_id === w.writerId);
  check('seq', String(row.seq) === String(w.seq));
  check('account_id', row.account_id === w.accountId);
  if (w.kind === 'order') checkOrder(row, w, check);
  else if (w.kind === 'fill') checkFill(row, w, check);
  else checkRiskEvent(row, w, check);
  if (mismatches.length > 0) {
    throw new IdempotencyConflictError(
      `idempotency key ${w.idempotencyKey} already used by a different ${w.kind} (${mismatches.join(', ')} differ)`,
    );
  }
}

type Check = (field: string, ok: boolean) => void;

function checkOrder(row: Record<string, unknown>, w: OrderWrite, check: Check): void {
  check('order_id', row.order_id === w.orderId);
  check('symbol', row.symbol === w.symbol);
  check('side', row.side === w.side);
  check('quantity', same(row.quantity, w.quantity));
  check('limit_price', same(row.limit_price, w.limitPrice));
}

function checkFill(row: Record<string, unknown>, w: FillWrite, check: Check): void {
  check('fill_id', row.fill_id === w.fillId);
  check('order_id', row.order_id === w.orderId);
  check('quantity', same(row.quantity, w.quantity));
  check('price', same(row.price, w.price));
}

function checkRiskEvent(row: Record<string, unknown>, w: RiskEventWrite, check: Check): void {
  check('risk_event_id', row.risk_event_id === w.riskEventId);
  check('event_type', row.event_type === w.eventType);
}
