import pg from 'pg';
import type { Signal } from './signals';

export interface SmokeOrderResult {
  ordersWritten: number;
  ordersReadBack: number;
  writeMs: number;
}

export interface SmokeSink {
  /** Writes one order per signal as the application role, reads them back, and rolls everything back. */
  placeOrdersAndRollBack(runId: string, signals: Signal[]): Promise<SmokeOrderResult>;
}

export const SMOKE_ACCOUNT = 'DRS-0001';

/** The smoke harness's PostgreSQL sink: the order path on the new primary, leaving no row behind. */
export function postgresSmokeSink(connection: pg.ClientConfig, applicationRole: string): SmokeSink {
  return {
    async placeOrdersAndRollBack(runId, signals) {
      const client = new pg.Client({ ...connection, connectionTimeoutMillis: 5000 });
      await client.connect();
      const started = Date.now();
      try {
        await client.query('begin');
        await client.query(`set local role ${pg.escapeIdentifier(applicationRole)}`);
        await client.query(
          `insert into accounts (account_id, name, base_currency) values ($1, 'DR smoke harness', 'USD') on conflict do nothing`,
          [SMOKE_ACCOUNT],
        );
        const lots = new Map(
          (
            await client.query<{ symbol: string; lot_size: string }>(
              'select symbol, lot_size from instruments',
            )
          ).rows.map((r) => [r.symbol, r.lot_size]),
        );
        let written = 0;
        for (const [i, signal] of signals.entries()) {
          const lot = lots.get(signal.symbol);
          if (!lot)
            throw new Error(`instrument ${signal.symbol} from the dataset is not in the instruments table`);
          const inserted = await client.query(
            `insert into orders (idempotency_key, account_id, symbol, side, order_type, quantity, limit_price)
             values ($1, $2, $3, $4, 'limit', $5, $6) on conflict (idempotency_key) do nothing`,
            [`dr-smoke:${runId}:${i}`, SMOKE_ACCOUNT, signal.symbol, signal.side, lot, signal.price],
          );
          written += inserted.rowCount ?? 0;
        }
        const readBack = await client.query<{ n: string }>(
          'select count(*) as n from orders where account_id = $1 and idempotency_key like $2',
          [SMOKE_ACCOUNT, `dr-smoke:${runId}:%`],
        );
        return {
          ordersWritten: written,
          ordersReadBack: Number(readBack.rows[0]?.n ?? 0),
          writeMs: Date.now() - started,
        };
      } finally {
        await client.query('rollback').catch(() => undefined);
        await client.end();
      }
    },
  };
}
