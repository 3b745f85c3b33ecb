/**
 * The self-managed PostgreSQL adapter against real servers: a fresh sandbox's primary
 * (region A) and streaming standby (region B), taken through a whole failover in the
 * order the workflow runs it. Within each describe the tests depend on each other's
 * effects and run in order; each describe has a sandbox of its own, one after the other.
 */
import pg from 'pg';
import { SelfManagedPostgresAdapter } from '../../lambdas/shared/adapters/postgres';
import type { LedgerAggregates } from '../../lambdas/shared/adapters/contracts';
import { NotReadyYetError } from '../../lambdas/shared/errors';
import { SANDBOX_HOST } from '../../sandbox/config';
import {
  POSTGRES_APP_USER,
  POSTGRES_DATABASE,
  POSTGRES_OPERATOR,
  postgresClient,
  queryOnce,
} from '../../sandbox/postgres';
import { useFreshSandbox } from './fresh-sandbox';

const adapter = (port: number) =>
  new SelfManagedPostgresAdapter({
    connection: {
      host: SANDBOX_HOST,
      port,
      database: POSTGRES_DATABASE,
      operatorUser: POSTGRES_OPERATOR,
      applicationUser: POSTGRES_APP_USER,
    },
    pollIntervalMs: 50,
  });

const WRITER = 'adapter-test';
/** A non-superuser role other than the application's, e.g. a reporting tool. */
const OTHER_ROLE = 'reporting_probe';

async function connectAs(port: number, user: string): Promise<pg.Client> {
  const client = postgresClient(port, user);
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** One limit buy of 10 AAPL at 190.25, filled at once, written as the application writes it. */
async function writeTrade(client: pg.Client, n: number): Promise<void> {
  await client.query('begin');
  const order = await client.query<{ order_id: string }>(
    `insert into orders (idempotency_key, writer_id, seq, account_id, symbol, side, order_type, quantity, limit_price, filled_quantity, status)
     values ($1, $2, $3, 'ACC-0001', 'AAPL', 'buy', 'limit', 10, 190.25, 10, 'filled') returning order_id`,
    [`order-${n}`, WRITER, 2 * n - 1],
  );
  const orderId = order.rows[0]!.order_id;
  const fill = await client.query<{ fill_id: string }>(
    `insert into fills (idempotency_key, writer_id, seq, order_id, account_id, symbol, side, quantity, price, liquidity)
     values ($1, $2, $3, $4, 'ACC-0001', 'AAPL', 'buy', 10, 190.25, 'taker') returning fill_id`,
    [`fill-${n}`, WRITER, 2 * n, orderId],
  );
  const fillId = fill.rows[0]!.fill_id;
  await client.query(
    `insert into positions as p (account_id, symbol, quantity, bought_quantity, bought_notional, fill_count, last_fill_id)
     values ('ACC-0001', 'AAPL', 10, 10, 1902.5, 1, $1)
     on conflict (account_id, symbol) do update
       set quantity = p.quantity + 10, bought_quantity = p.bought_quantity + 10,
           bought_notional = p.bought_notional + 1902.5, fill_count = p.fill_count + 1, last_fill_id = $1`,
    [fillId],
  );
  await client.query(
    `insert into balance_ledger (entry_key, account_id, currency, amount, entry_type, fill_id)
     values ($1, 'ACC-0001', 'USD', -1902.5, 'trade_settlement', $2)`,
    [`fill:${fillId}:settlement`, fillId],
  );
  await client.query('commit');
}

async function writeTradesAsApp(port: number, from: number, to: number): Promise<void> {
  const client = await connectAs(port, POSTGRES_APP_USER);
  try {
    for (let n = from; n <= to; n++) await writeTrade(client, n);
  } finally {
    await client.end();
  }
}

const withoutSnapshotPosition = ({ capturedAt: _c, lsn: _l, ...figures }: LedgerAggregates) => figures;

describe('self-managed PostgreSQL adapter, through a failover on a fresh sandbox', () => {
  const endpoints = useFreshSandbox('postgres-adapter', 26000);
  const primaryPort = () => endpoints().primary.postgres.port;
  const standbyPort = () => endpoints().secondary.postgres.port;

  test('status of the primary: writable, its WAL position and timeline, and the open application transactions', async () => {
    const app = await connectAs(primaryPort(), POSTGRES_APP_USER);
    try {
      await app.query('begin');
      await app.query('select 1');
      const status = await adapter(primaryPort()).status();
      expect(status).toMatchObject({
        reachable: true,
        role: 'primary',
        readOnly: false,
        timeline: 1,
        activeApplicationTransactions: 1,
      });
      expect(status.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      await app.query('commit');
      expect((await adapter(primaryPort()).status()).activeApplicationTransactions).toBe(0);
    } finally {
      await app.end();
    }
  });

  test('status of the standby: streaming, nothing pending, and no replay delay although the primary is idle', async () => {
    await writeTradesAsApp(primaryPort(), 1, 1);
    await adapter(standbyPort()).waitForReplay(10_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    const status = await adapter(standbyPort()).status();
    expect(status).toMatchObject({
      reachable: true,
      role: 'standby',
      readOnly: true,
      walReceiverStatus: 'streaming',
      timeline: 1,
    });
    expect(status.replayPendingBytes).toBe(0);
    expect(status.lsn).toBe(status.replayLsn);
    expect(status.replayDelaySeconds).toBe(0);
    // What the naive figure would have said: the last replayed commit keeps ageing.
    const [naive] = await queryOnce<{ age: number }>(
      standbyPort(),
      'select extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 as age',
    );
    expect(naive!.age).toBeGreaterThan(1);
  });

  test('status of a node nobody listens on reports it unreachable instead of throwing', async () => {
    const status = await adapter(26009).status();
    expect(status).toMatchObject({ reachable: false, role: 'unknown', readOnly: false, lsn: null });
    expect(status.error).toMatch(/ECONNREFUSED/);
  });

  test('ledger aggregates are exact and equal on the primary and on the standby once it has replayed', async () => {
    await writeTradesAsApp(primaryPort(), 2, 3);
    await adapter(standbyPort()).waitForReplay(10_000);

    const onPrimary = await adapter(primaryPort()).ledgerAggregates();
    const onStandby = await adapter(standbyPort()).ledgerAggregates();
    expect(withoutSnapshotPosition(onStandby)).toEqual(withoutSnapshotPosition(onPrimary));
    expect(onStandby.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(onPrimary.tables.orders).toEqual({ rows: 3, quantitySum: '30', notionalSum: '5707.5' });
    expect(onPrimary.tables.fills).toEqual({ rows: 3, quantitySum: '30', notionalSum: '5707.5' });
    expect(onPrimary.tables.positions).toEqual({ rows: 1, quantitySum: '30', notionalSum: '5707.5' });
    expect(onPrimary.tables.balance_ledger).toEqual({ rows: 9 });
    expect(onPrimary.balancesByAccount['ACC-0001:USD']).toBe('24994292.5');
    expect(onPrimary.balancesByAccount['ACC-0002:USD']).toBe('50000000');
    expect(onPrimary.positionsByAccountInstrument).toEqual({ 'ACC-0001:AAPL': '30' });
    expect(onPrimary.maxSeq).toEqual({ orders: 5, fills: 6, risk_events: 0 });
  });

  test('missingSequences names exactly the acknowledged writes a node does not hold', async () => {
    const standby = adapter(standbyPort());
    expect(await standby.missingSequences('orders', WRITER, [1, 3, 5, 7, 9])).toEqual([7, 9]);
    expect(await standby.missingSequences('fills', WRITER, [2, 4, 6])).toEqual([]);
    expect(await standby.missingSequences('orders', 'another-writer', [1])).toEqual([1]);
  });

  test('waitForReplay reports NotReadyYetError with both LSNs while replay is held back, and returns once it catches up', async () => {
    await queryOnce(standbyPort(), 'select pg_wal_replay_pause()');
    try {
      await writeTradesAsApp(primaryPort(), 4, 4);
      const error = await adapter(standbyPort())
        .waitForReplay(1_000)
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(NotReadyYetError);
      const details = (error as NotReadyYetError).details as {
        receiveLsn: string;
        replayLsn: string;
        pendingBytes: number;
      };
      expect(details.pendingBytes).toBeGreaterThan(0);
      expect(details.receiveLsn).not.toBe(details.replayLsn);
    } finally {
      await queryOnce(standbyPort(), 'select pg_wal_replay_resume()');
    }
    const caughtUp = await adapter(standbyPort()).waitForReplay(10_000);
    expect(caughtUp.replayLsn).toBe(caughtUp.receiveLsn);
    expect(await adapter(standbyPort()).missingSequences('orders', WRITER, [7])).toEqual([]);
  });

  test('fence: the application role is locked out, open sessions are terminated, and a fresh write is refused as read-only', async () => {
    await queryOnce(
      primaryPort(),
      `create role ${OTHER_ROLE} login; grant select, insert on risk_events to ${OTHER_ROLE}`,
    );
    const openApp = await connectAs(primaryPort(), POSTGRES_APP_USER);
    const idleOther = await connectAs(primaryPort(), OTHER_ROLE);
    await openApp.query('begin');
    await openApp.query(
      `insert into orders (idempotency_key, writer_id, seq, account_id, symbol, side, order_type, quantity)
       values ('in-flight-at-fence', $1, 1001, 'ACC-0002', 'MSFT', 'sell', 'market', 5)`,
      [WRITER],
    );

    const fenced = await adapter(primaryPort()).fence();
    expect(fenced).toEqual({ alreadyDone: false, terminatedSessions: 2, verifiedWriteRefused: true });

    await expect(openApp.query('commit')).rejects.toThrow();
    await openApp.end().catch(() => {});
    await idleOther.end().catch(() => {});
    const [inFlight] = await queryOnce<{ n: number }>(
      primaryPort(),
      `select count(*)::int as n from orders where idempotency_key = 'in-flight-at-fence'`,
    );
    expect(inFlight!.n).toBe(0);

    await expect(connectAs(primaryPort(), POSTGRES_APP_USER)).rejects.toThrow(/not permitted to log in/);
    const other = await connectAs(primaryPort(), OTHER_ROLE);
    try {
      await expect(
        other.query(
          `insert into risk_events (idempotency_key, account_id, event_type, severity) values ('after-fence', 'ACC-0001', 'margin_call', 'info')`,
        ),
      ).rejects.toThrow(/read-only transaction/);
    } finally {
      await other.end();
    }
    await expect(
      queryOnce(
        primaryPort(),
        `insert into risk_events (idempotency_key, account_id, event_type, severity) values ('operator-after-fence', 'ACC-0001', 'margin_call', 'info')`,
      ),
    ).rejects.toThrow(/read-only transaction/);
    expect(await adapter(primaryPort()).status()).toMatchObject({
      role: 'primary',
      readOnly: true,
      activeApplicationTransactions: 0,
    });
  });

  test('fencing an already fenced primary is a verified no-op', async () => {
    expect(await adapter(primaryPort()).fence()).toEqual({
      alreadyDone: true,
      terminatedSessions: 0,
      verifiedWriteRefused: true,
    });
  });

  test('promote: the standby replays the fenced primary’s last WAL, becomes a writable primary on a new timeline, and takes the application’s writes', async () => {
    const standby = adapter(standbyPort());
    const replay = await standby.waitForReplay(10_000);
    expect(replay.replayLsn).toBe(replay.receiveLsn);
    const beforePromotion = await standby.ledgerAggregates();

    expect(await standby.promote()).toEqual({ alreadyDone: false, timeline: 2, mechanism: 'pg_promote' });

    const [row] = await queryOnce<{ in_recovery: boolean }>(
      standbyPort(),
      'select pg_is_in_recovery() as in_recovery',
    );
    expect(row!.in_recovery).toBe(false);
    expect(await standby.status()).toMatchObject({ role: 'primary', readOnly: false, timeline: 2 });
    // The application role's lost LOGIN replicated from the fenced primary; promotion gave it back.
    expect(withoutSnapshotPosition(await standby.ledgerAggregates())).toEqual(
      withoutSnapshotPosition(beforePromotion),
    );
    await writeTradesAsApp(standbyPort(), 5, 5);
    expect(await standby.missingSequences('orders', WRITER, [1, 3, 5, 7, 9])).toEqual([]);
  });

  test('promoting the new primary again is a no-op', async () => {
    expect(await adapter(standbyPort()).promote()).toEqual({
      alreadyDone: true,
      timeline: 2,
      mechanism: 'pg_promote',
    });
  });

  test('unfence gives the old primary back its application writes; unfencing again is a no-op', async () => {
    const oldPrimary = adapter(primaryPort());
    expect(await oldPrimary.unfence()).toEqual({ alreadyDone: false });
    await writeTradesAsApp(primaryPort(), 100, 100);
    expect(await oldPrimary.missingSequences('orders', WRITER, [199])).toEqual([]);
    expect(await oldPrimary.status()).toMatchObject({ role: 'primary', readOnly: false });
    expect(await oldPrimary.unfence()).toEqual({ alreadyDone: true });
  });

  test('ledger aggregates of 1,000,000 orders take well under the step budget', async () => {
    // Fixture, not under test: keys in index order and no per-row foreign-key triggers make the bulk load quicker.
    await queryOnce(
      standbyPort(),
      `set session_replication_role = replica;
       insert into orders (order_id, idempotency_key, writer_id, seq, account_id, symbol, side, order_type, quantity, limit_price)
       select ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'bulk-' || lpad(g::text, 7, '0'), 'bulk', g,
              'ACC-000' || (1 + g % 5), (array['AAPL', 'MSFT', 'NVDA', 'SPY'])[1 + g % 4], 'buy', 'limit', 1 + g % 100, 10.5
         from generate_series(1, 1000000) as g;
       analyze orders;`,
    );
    const started = Date.now();
    const aggregates = await adapter(standbyPort()).ledgerAggregates();
    const elapsedMs = Date.now() - started;
    expect(aggregates.tables.orders!.rows).toBe(1_000_005);
    // sum of 1 + g % 100 over g = 1..1e6 is 50,500,000; plus the five 10-lot test orders at 190.25.
    expect(aggregates.tables.orders!.quantitySum).toBe('50500050');
    expect(aggregates.tables.orders!.notionalSum).toBe('530259512.5');
    expect(elapsedMs).toBeLessThan(5_000);
  });
});

describe('self-managed PostgreSQL adapter with synchronous replication', () => {
  const endpoints = useFreshSandbox('postgres-adapter-sync', 26010, { postgres: { synchronous: true } });
  const primaryPort = () => endpoints().primary.postgres.port;
  const standbyPort = () => endpoints().secondary.postgres.port;

  test('after failover, lifting the old primary’s fence does not wait for the synchronous standby it lost', async () => {
    await writeTradesAsApp(primaryPort(), 1, 2);
    const oldPrimary = adapter(primaryPort());
    const standby = adapter(standbyPort());
    expect((await oldPrimary.fence()).verifiedWriteRefused).toBe(true);
    await standby.waitForReplay(10_000);
    expect((await standby.promote()).alreadyDone).toBe(false);
    expect(await standby.missingSequences('fills', WRITER, [2, 4])).toEqual([]);

    // Its synchronous standby now follows nobody: a commit there would wait for it forever.
    const started = Date.now();
    expect(await oldPrimary.unfence()).toEqual({ alreadyDone: false });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await oldPrimary.status()).toMatchObject({ role: 'primary', readOnly: false });
  });
});
