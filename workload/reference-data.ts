/**
 * The reference data the trading store is seeded with (schemas/postgres/0002_reference_data.sql)
 * and that the load generator and the DR validation dataset (data/sample.csv) draw from.
 * A unit test keeps this module and the SQL seed identical.
 */

export type AssetClass = 'equity' | 'etf' | 'fx' | 'crypto';

export interface Instrument {
  readonly symbol: string;
  readonly name: string;
  readonly assetClass: AssetClass;
  readonly quoteCurrency: string;
  /** Smallest price increment, as a decimal string. */
  readonly tickSize: string;
  /** Smallest quantity increment, as a decimal string. */
  readonly lotSize: string;
  /** Price the sample dataset's random walk and the load generator start from. */
  readonly referencePrice: string;
}

export type AccountStatus = 'active' | 'suspended' | 'closed';

export interface Account {
  readonly accountId: string;
  readonly name: string;
  readonly baseCurrency: string;
  readonly status: AccountStatus;
  /** Opening cash deposit in the base currency, recorded in balance_ledger. */
  readonly openingDeposit: string;
}

export const INSTRUMENTS: readonly Instrument[] = [
  {
    symbol: 'AAPL',
    name: 'Apple Inc.',
    assetClass: 'equity',
    quoteCurrency: 'USD',
    tickSize: '0.01',
    lotSize: '1',
    referencePrice: '189.50',
  },
  {
    symbol: 'MSFT',
    name: 'Microsoft Corporation',
    assetClass: 'equity',
    quoteCurrency: 'USD',
    tickSize: '0.01',
    lotSize: '1',
    referencePrice: '414.20',
  },
  {
    symbol: 'NVDA',
    name: 'NVIDIA Corporation',
    assetClass: 'equity',
    quoteCurrency: 'USD',
    tickSize: '0.01',
    lotSize: '1',
    referencePrice: '121.75',
  },
  {
    symbol: 'SPY',
    name: 'SPDR S&P 500 ETF Trust',
    assetClass: 'etf',
    quoteCurrency: 'USD',
    tickSize: '0.01',
    lotSize: '1',
    referencePrice: '521.30',
  },
  {
    symbol: 'EURUSD',
    name: 'Euro / US Dollar',
    assetClass: 'fx',
    quoteCurrency: 'USD',
    tickSize: '0.00001',
    lotSize: '1000',
    referencePrice: '1.08520',
  },
  {
    symbol: 'BTC-USD',
    name: 'Bitcoin / US Dollar',
    assetClass: 'crypto',
    quoteCurrency: 'USD',
    tickSize: '0.01',
    lotSize: '0.001',
    referencePrice: '64250.00',
  },
];

export const ACCOUNTS: readonly Account[] = [
  {
    accountId: 'ACC-0001',
    name: 'Northwind Macro Fund',
    baseCurrency: 'USD',
    status: 'active',
    openingDeposit: '25000000',
  },
  {
    accountId: 'ACC-0002',
    name: 'Bluefin Market Making',
    baseCurrency: 'USD',
    status: 'active',
    openingDeposit: '50000000',
  },
  {
    accountId: 'ACC-0003',
    name: 'Cedar Street Equity L/S',
    baseCurrency: 'USD',
    status: 'active',
    openingDeposit: '15000000',
  },
  {
    accountId: 'ACC-0004',
    name: 'Harbor Quant Strategies',
    baseCurrency: 'USD',
    status: 'active',
    openingDeposit: '40000000',
  },
  {
    accountId: 'ACC-0005',
    name: 'Juniper Digital Assets',
    baseCurrency: 'USD',
    status: 'active',
    openingDeposit: '10000000',
  },
  {
    accountId: 'ACC-0006',
    name: 'Legacy Pension Overlay',
    baseCurrency: 'USD',
    status: 'suspended',
    openingDeposit: '5000000',
  },
];

/** Accounts allowed to trade (the load generator only writes for these). */
export const TRADABLE_ACCOUNTS: readonly Account[] = ACCOUNTS.filter((a) => a.status === 'active');

export function instrumentBySymbol(symbol: string): Instrument {
  const found = INSTRUMENTS.find((i) => i.symbol === symbol);
  if (!found) throw new Error(`unknown instrument ${symbol}`);
  return found;
}
