-- Reference data: the accounts and instruments TradePulse trades in the sandbox,
-- and each account's opening deposit. Idempotent (on conflict do nothing).
-- Must stay identical to workload/reference-data.ts (a unit test checks it).

insert into accounts (account_id, name, base_currency, status) values
  ('ACC-0001', 'Northwind Macro Fund',    'USD', 'active'),
  ('ACC-0002', 'Bluefin Market Making',   'USD', 'active'),
  ('ACC-0003', 'Cedar Street Equity L/S', 'USD', 'active'),
  ('ACC-0004', 'Harbor Quant Strategies', 'USD', 'active'),
  ('ACC-0005', 'Juniper Digital Assets',  'USD', 'active'),
  ('ACC-0006', 'Legacy Pension Overlay',  'USD', 'suspended')
on conflict (account_id) do nothing;

insert into instruments (symbol, name, asset_class, quote_currency, tick_size, lot_size, reference_price) values
  ('AAPL',    'Apple Inc.',             'equity', 'USD', 0.01,    1,     189.50),
  ('MSFT',    'Microsoft Corporation',  'equity', 'USD', 0.01,    1,     414.20),
  ('NVDA',    'NVIDIA Corporation',     'equity', 'USD', 0.01,    1,     121.75),
  ('SPY',     'SPDR S&P 500 ETF Trust', 'etf',    'USD', 0.01,    1,     521.30),
  ('EURUSD',  'Euro / US Dollar',       'fx',     'USD', 0.00001, 1000,  1.08520),
  ('BTC-USD', 'Bitcoin / US Dollar',    'crypto', 'USD', 0.01,    0.001, 64250.00)
on conflict (symbol) do nothing;

insert into balance_ledger (entry_key, account_id, currency, amount, entry_type, description) values
  ('opening-deposit:ACC-0001', 'ACC-0001', 'USD', 25000000, 'deposit', 'opening deposit'),
  ('opening-deposit:ACC-0002', 'ACC-0002', 'USD', 50000000, 'deposit', 'opening deposit'),
  ('opening-deposit:ACC-0003', 'ACC-0003', 'USD', 15000000, 'deposit', 'opening deposit'),
  ('opening-deposit:ACC-0004', 'ACC-0004', 'USD', 40000000, 'deposit', 'opening deposit'),
  ('opening-deposit:ACC-0005', 'ACC-0005', 'USD', 10000000, 'deposit', 'opening deposit'),
  ('opening-deposit:ACC-0006', 'ACC-0006', 'USD', 5000000,  'deposit', 'opening deposit')
on conflict (entry_key) do nothing;
