import fs from 'node:fs';
import path from 'node:path';
import { normalizeDecimal } from '../../../workload/decimal';
import { ACCOUNTS, INSTRUMENTS } from '../../../workload/reference-data';

const schemaDir = path.resolve(import.meta.dirname, '../../../schemas/postgres');
const read = (file: string) => fs.readFileSync(path.join(schemaDir, file), 'utf8');

/** The value tuples of `insert into <table> (...) values (...), (...) on conflict`. */
function seededTuples(sql: string, table: string): string[][] {
  const m = new RegExp(`insert into ${table} \\([^)]*\\) values([\\s\\S]*?)on conflict`, 'i').exec(sql);
  if (!m) throw new Error(`no seed insert for ${table}`);
  return [...(m[1] as string).matchAll(/\(([^()]*)\)/g)].map((t) =>
    (t[1] as string).split(/,(?=(?:[^']*'[^']*')*[^']*$)/).map((v) => v.trim().replace(/^'(.*)'$/, '$1')),
  );
}

describe('schema seed matches workload/reference-data.ts', () => {
  const seed = read('0002_reference_data.sql');

  it('seeds exactly the accounts the workload trades', () => {
    expect(seededTuples(seed, 'accounts')).toEqual(
      ACCOUNTS.map((a) => [a.accountId, a.name, a.baseCurrency, a.status]),
    );
  });

  it('seeds exactly the instruments the workload and the sample dataset use', () => {
    const rows = seededTuples(seed, 'instruments').map(
      ([symbol, name, assetClass, currency, tick, lot, price]) => [
        symbol,
        name,
        assetClass,
        currency,
        normalizeDecimal(tick as string),
        normalizeDecimal(lot as string),
        normalizeDecimal(price as string),
      ],
    );
    expect(rows).toEqual(
      INSTRUMENTS.map((i) => [
        i.symbol,
        i.name,
        i.assetClass,
        i.quoteCurrency,
        normalizeDecimal(i.tickSize),
        normalizeDecimal(i.lotSize),
        normalizeDecimal(i.referencePrice),
      ]),
    );
  });

  it('records every opening deposit once, idempotently keyed', () => {
    const rows = seededTuples(seed, 'balance_ledger');
    expect(
      rows.map(([key, account, currency, amount, type]) => [
        key,
        account,
        currency,
        normalizeDecimal(amount as string),
        type,
      ]),
    ).toEqual(
      ACCOUNTS.map((a) => [
        `opening-deposit:${a.accountId}`,
        a.accountId,
        a.baseCurrency,
        normalizeDecimal(a.openingDeposit),
        'deposit',
      ]),
    );
  });

  it('every seed insert is idempotent', () => {
    const inserts = seed.match(/insert into/gi) ?? [];
    const guarded = seed.match(/on conflict \([a-z_]+\) do nothing;/gi) ?? [];
    expect(inserts.length).toBeGreaterThan(0);
    expect(guarded).toHaveLength(inserts.length);
  });
});

describe('trading core schema', () => {
  const core = read('0001_trading_core.sql');

  it.each(['accounts', 'instruments', 'orders', 'fills', 'risk_events', 'positions', 'balance_ledger'])(
    'creates table %s',
    (table) => {
      expect(core).toMatch(new RegExp(`create table if not exists ${table} \\(`));
    },
  );

  it('has the idempotency keys and writer sequence keys the load generator relies on', () => {
    for (const table of ['orders', 'fills', 'risk_events']) {
      expect(core).toContain(`constraint ${table}_idempotency_key_key unique (idempotency_key)`);
      expect(core).toContain(`constraint ${table}_writer_seq_key unique (writer_id, seq)`);
    }
    expect(core).toMatch(/create or replace view balances as/);
  });
});
