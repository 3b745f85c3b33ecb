-- TradePulse trading core: the canonical tables the DR runbook reconciles after a
-- failover ("Ledger reconciliation") and exports for compliance (orders, fills,
-- risk_events).
--
-- PostgreSQL 15. Applied by the sandbox as the superuser dr_operator on database
-- tradepulse; the workload writes as tradepulse_app (DML on all tables, sequence
-- usage). Re-running this file is harmless (IF NOT EXISTS / OR REPLACE).
--
-- Conventions
--   * Money and quantities are numeric(20,8) (exact); sums use wider numerics.
--   * Every client-submitted write (order, fill, risk event) carries a UNIQUE
--     idempotency_key: a retried submission is `on conflict (idempotency_key) do
--     nothing`, so a retry of a write that already committed is a no-op.
--   * writer_id + seq: the load generator's identity and its per-writer sequence
--     number (1, 2, 3, ... across orders, fills and risk events together), so
--     acknowledged-but-lost writes can be counted exactly after a failover. Both
--     are NULL for writes from other sources.
--   * Timestamps are timestamptz, defaulting to now() (commit-transaction time).

create table if not exists accounts (
  account_id    text primary key check (account_id ~ '^[A-Z]{3}-[0-9]{4}$'),
  name          text not null check (length(name) between 1 and 200),
  base_currency char(3) not null check (base_currency ~ '^[A-Z]{3}$'),
  status        text not null default 'active' check (status in ('active', 'suspended', 'closed')),
  created_at    timestamptz not null default now()
);

create table if not exists instruments (
  symbol          text primary key check (symbol ~ '^[A-Z0-9][A-Z0-9.-]{0,15}$'),
  name            text not null check (length(name) between 1 and 200),
  asset_class     text not null check (asset_class in ('equity', 'etf', 'fx', 'crypto', 'future')),
  quote_currency  char(3) not null check (quote_currency ~ '^[A-Z]{3}$'),
  tick_size       numeric(20, 8) not null check (tick_size > 0),
  lot_size        numeric(20, 8) not null check (lot_size > 0),
  reference_price numeric(20, 8) not null check (reference_price > 0),
  active          boolean not null default true,
  created_at      timestamptz not null default now()
);

create table if not exists orders (
  order_id        uuid primary key default gen_random_uuid(),
  idempotency_key text not null check (length(idempotency_key) between 1 and 200),
  writer_id       text check (length(writer_id) between 1 and 100),
  seq             bigint check (seq > 0),
  account_id      text not null references accounts (account_id),
  symbol          text not null references instruments (symbol),
  side            text not null check (side in ('buy', 'sell')),
  order_type      text not null check (order_type in ('market', 'limit')),
  time_in_force   text not null default 'day' check (time_in_force in ('day', 'gtc', 'ioc', 'fok')),
  quantity        numeric(20, 8) not null check (quantity > 0),
  limit_price     numeric(20, 8) check (limit_price > 0),
  filled_quantity numeric(20, 8) not null default 0 check (filled_quantity >= 0),
  status          text not null default 'new'
                  check (status in ('new', 'partially_filled', 'filled', 'cancelled', 'rejected')),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  constraint orders_idempotency_key_key unique (idempotency_key),
  constraint orders_writer_seq_key unique (writer_id, seq),
  constraint orders_writer_seq_together check ((writer_id is null) = (seq is null)),
  constraint orders_limit_price_iff_limit check ((order_type = 'limit') = (limit_price is not null)),
  constraint orders_not_overfilled check (filled_quantity <= quantity),
  constraint orders_status_matches_fills check (
    (status <> 'new' or filled_quantity = 0)
    and (status <> 'partially_filled' or (filled_quantity > 0 and filled_quantity < quantity))
    and (status <> 'filled' or filled_quantity = quantity)
  ),
  -- Target of the fills foreign key: a fill must agree with its order on these.
  constraint orders_fill_target_key unique (order_id, account_id, symbol, side)
);

create table if not exists fills (
  fill_id         uuid primary key default gen_random_uuid(),
  idempotency_key text not null check (length(idempotency_key) between 1 and 200),
  writer_id       text check (length(writer_id) between 1 and 100),
  seq             bigint check (seq > 0),
  order_id        uuid not null,
  account_id      text not null,
  symbol          text not null,
  side            text not null check (side in ('buy', 'sell')),
  quantity        numeric(20, 8) not null check (quantity > 0),
  price           numeric(20, 8) not null check (price > 0),
  fee             numeric(20, 8) not null default 0 check (fee >= 0),
  liquidity       text not null check (liquidity in ('maker', 'taker')),
  executed_at     timestamptz not null default now(),
  constraint fills_idempotency_key_key unique (idempotency_key),
  constraint fills_writer_seq_key unique (writer_id, seq),
  constraint fills_writer_seq_together check ((writer_id is null) = (seq is null)),
  constraint fills_order_fkey foreign key (order_id, account_id, symbol, side)
    references orders (order_id, account_id, symbol, side)
);

create table if not exists risk_events (
  risk_event_id   uuid primary key default gen_random_uuid(),
  idempotency_key text not null check (length(idempotency_key) between 1 and 200),
  writer_id       text check (length(writer_id) between 1 and 100),
  seq             bigint check (seq > 0),
  account_id      text not null references accounts (account_id),
  symbol          text references instruments (symbol),
  order_id        uuid references orders (order_id),
  event_type      text not null check (
                    event_type in ('position_limit_breach', 'exposure_warning', 'margin_call',
                                   'price_band_violation', 'kill_switch')),
  severity        text not null check (severity in ('info', 'warning', 'critical')),
  details         jsonb not null default '{}'::jsonb check (jsonb_typeof(details) = 'object'),
  created_at      timestamptz not null default now(),
  constraint risk_events_idempotency_key_key unique (idempotency_key),
  constraint risk_events_writer_seq_key unique (writer_id, seq),
  constraint risk_events_writer_seq_together check ((writer_id is null) = (seq is null))
);

-- Net position per account and instrument, maintained in the same transaction as
-- each fill: quantity = bought_quantity - sold_quantity (negative = short).
create table if not exists positions (
  account_id      text not null references accounts (account_id),
  symbol          text not null references instruments (symbol),
  quantity        numeric(28, 8) not null default 0,
  bought_quantity numeric(28, 8) not null default 0 check (bought_quantity >= 0),
  sold_quantity   numeric(28, 8) not null default 0 check (sold_quantity >= 0),
  bought_notional numeric(38, 8) not null default 0 check (bought_notional >= 0),
  sold_notional   numeric(38, 8) not null default 0 check (sold_notional >= 0),
  fill_count      bigint not null default 0 check (fill_count >= 0),
  last_fill_id    uuid references fills (fill_id),
  updated_at      timestamptz not null default now(),
  primary key (account_id, symbol),
  constraint positions_net_quantity check (quantity = bought_quantity - sold_quantity)
);

-- Append-only cash ledger. Balances are derived (view `balances`), never stored,
-- so they cannot drift from their entries. entry_key makes every posting idempotent.
create table if not exists balance_ledger (
  entry_id    bigint generated always as identity primary key,
  entry_key   text not null check (length(entry_key) between 1 and 200),
  account_id  text not null references accounts (account_id),
  currency    char(3) not null check (currency ~ '^[A-Z]{3}$'),
  amount      numeric(38, 8) not null check (amount <> 0),
  entry_type  text not null check (entry_type in ('deposit', 'withdrawal', 'trade_settlement', 'fee', 'adjustment')),
  fill_id     uuid references fills (fill_id),
  description text,
  created_at  timestamptz not null default now(),
  constraint balance_ledger_entry_key_key unique (entry_key),
  constraint balance_ledger_sign check (
    (entry_type <> 'deposit' or amount > 0)
    and (entry_type <> 'withdrawal' or amount < 0)
    and (entry_type <> 'fee' or amount < 0)
  ),
  constraint balance_ledger_fill_postings check (
    (entry_type in ('trade_settlement', 'fee')) = (fill_id is not null)
  )
);

create or replace view balances as
  select account_id,
         currency,
         sum(amount)     as balance,
         count(*)        as entries,
         max(created_at) as last_entry_at
    from balance_ledger
   group by account_id, currency;

-- Reconciliation and access paths (by account / instrument / order).
create index if not exists orders_account_symbol_idx on orders (account_id, symbol);
create index if not exists orders_symbol_created_idx on orders (symbol, created_at);
create index if not exists orders_open_idx on orders (account_id) where status in ('new', 'partially_filled');
create index if not exists fills_order_idx on fills (order_id);
create index if not exists fills_account_symbol_idx on fills (account_id, symbol);
create index if not exists fills_symbol_executed_idx on fills (symbol, executed_at);
create index if not exists risk_events_account_created_idx on risk_events (account_id, created_at);
create index if not exists risk_events_order_idx on risk_events (order_id) where order_id is not null;
create index if not exists balance_ledger_account_currency_idx on balance_ledger (account_id, currency);
create index if not exists balance_ledger_fill_idx on balance_ledger (fill_id) where fill_id is not null;
create index if not exists positions_symbol_idx on positions (symbol);
