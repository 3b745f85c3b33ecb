import type { LedgerAggregates, LedgerHorizonSplit } from '../../../lambdas/shared/adapters/contracts';
import {
  assembleAggregates,
  type BalanceRow,
  type GroupRow,
  type PositionRow,
} from '../../../lambdas/shared/adapters/postgres/ledger';
import {
  compareAtHorizon,
  compareLedgerAggregates,
  formatRanges,
  horizonOf,
} from '../../../lambdas/shared/ledger/compare-aggregates';

const CAPTURED = '2026-11-27T00:00:05.123456Z';

/** A baseline as readLedgerAggregates captures it: writer w, seqs 1..12 (one in flight: 11). */
function baseline(): LedgerAggregates {
  return {
    capturedAt: CAPTURED,
    lsn: '0/3000000',
    tables: {
      accounts: { rows: 2 },
      instruments: { rows: 2 },
      orders: { rows: 6, quantitySum: '60', notionalSum: '12000' },
      fills: { rows: 5, quantitySum: '50', notionalSum: '10000' },
      risk_events: { rows: 0 },
      positions: { rows: 2, quantitySum: '10', notionalSum: '10000' },
      balance_ledger: { rows: 12 },
    },
    balancesByAccount: { 'ACC-0001:USD': '990000', 'ACC-0003:USD': '1000000' },
    positionsByAccountInstrument: { 'ACC-0001:AAPL': '30', 'ACC-0003:MSFT': '-20' },
    maxSeq: { orders: 11, fills: 12, risk_events: 0 },
    byAccount: {
      orders: {
        'ACC-0001': { rows: 3, quantitySum: '30', notionalSum: '6000' },
        'ACC-0003': { rows: 3, quantitySum: '30', notionalSum: '6000' },
      },
      fills: {
        'ACC-0001': { rows: 3, quantitySum: '30', notionalSum: '6000' },
        'ACC-0003': { rows: 2, quantitySum: '20', notionalSum: '4000' },
      },
    },
    byInstrument: {
      orders: {
        AAPL: { rows: 3, quantitySum: '30', notionalSum: '6000' },
        MSFT: { rows: 3, quantitySum: '30', notionalSum: '6000' },
      },
      fills: {
        AAPL: { rows: 3, quantitySum: '30', notionalSum: '6000' },
        MSFT: { rows: 2, quantitySum: '20', notionalSum: '4000' },
      },
    },
    byWriter: { orders: { w: { rows: 6, maxSeq: 11 } }, fills: { w: { rows: 5, maxSeq: 12 } } },
    writerGaps: { w: [11] },
  };
}

/** The promoted cluster's split figures: by default exactly the baseline within, nothing after. */
function split(
  overrides: Partial<LedgerHorizonSplit['within']> = {},
  after: Partial<LedgerHorizonSplit['after']> = {},
) {
  const b = baseline();
  const s: LedgerHorizonSplit = {
    capturedAt: CAPTURED,
    writerMaxSeq: { w: 12 },
    within: {
      tables: structuredClone(b.tables),
      byAccount: structuredClone(b.byAccount!),
      byInstrument: structuredClone(b.byInstrument!),
      byWriter: { orders: { w: 6 }, fills: { w: 5 } },
      balancesByAccount: { ...b.balancesByAccount },
      positionsByAccountInstrument: { ...b.positionsByAccountInstrument },
      ...overrides,
    },
    after: {
      tables: {},
      byAccount: {},
      byInstrument: {},
      byWriter: {},
      writerRanges: {},
      untracked: {},
      ...after,
    },
  };
  return s;
}

describe('horizonOf', () => {
  it('takes each writer’s highest seq over the tables, its gaps and its rows', () => {
    expect(horizonOf(baseline())).toEqual({
      capturedAt: CAPTURED,
      writers: { w: { maxSeq: 12, gaps: [11], rows: 11 } },
    });
  });

  it('a baseline without per-writer figures falls back to each table’s highest seq', () => {
    const { byWriter: _w, writerGaps: _g, ...legacy } = baseline();
    expect(horizonOf(legacy)).toEqual({
      capturedAt: CAPTURED,
      writers: {},
      maxSeq: { orders: 11, fills: 12, risk_events: 0 },
    });
  });
});

describe('compareAtHorizon', () => {
  it('figures within the horizon equal to the baseline: no finding', () => {
    expect(compareAtHorizon(baseline(), split())).toEqual([]);
  });

  it('an order gone from within the snapshot is SEV-1 missing data, naming table, account, instrument and writer seq', () => {
    const s = split();
    s.within.tables.orders = { rows: 5, quantitySum: '50', notionalSum: '10000' };
    s.within.byAccount.orders!['ACC-0003'] = { rows: 2, quantitySum: '20', notionalSum: '4000' };
    s.within.byInstrument.orders!.MSFT = { rows: 2, quantitySum: '20', notionalSum: '4000' };
    s.within.byWriter.orders!.w = 5;
    s.within.missingSeqs = { w: [9] };
    const findings = compareAtHorizon(baseline(), s);
    expect(findings).toEqual([
      {
        table: 'orders',
        key: 'all rows',
        expected: '6 rows, quantity 60, notional 12000',
        found: '5 rows, quantity 50, notional 10000',
        classification: 'missing-data',
        sev1: true,
      },
      expect.objectContaining({ table: 'orders', key: 'account ACC-0003', classification: 'missing-data' }),
      expect.objectContaining({ table: 'orders', key: 'instrument MSFT', classification: 'missing-data' }),
      {
        table: 'orders',
        key: 'writer w seq 9',
        expected: '6 rows up to seq 12',
        found: '5 rows',
        classification: 'missing-data',
        sev1: true,
      },
    ]);
  });

  it('same row count with a different sum is a SEV-1 mismatch at the key that differs', () => {
    const s = split();
    s.within.byAccount.fills!['ACC-0001'] = { rows: 3, quantitySum: '30', notionalSum: '6000.01' };
    s.within.tables.fills = { rows: 5, quantitySum: '50', notionalSum: '10000.01' };
    const findings = compareAtHorizon(baseline(), s);
    expect(findings.map((f) => [f.table, f.key, f.classification, f.sev1])).toEqual([
      ['fills', 'all rows', 'mismatch', true],
      ['fills', 'account ACC-0001', 'mismatch', true],
    ]);
  });

  it('more rows within the horizon than the snapshot held is a SEV-1 mismatch, not an expected write', () => {
    const s = split();
    s.within.tables.risk_events = { rows: 1 };
    expect(compareAtHorizon(baseline(), s)).toEqual([
      {
        table: 'risk_events',
        key: 'all rows',
        expected: '0 rows',
        found: '1 row within the snapshot horizon',
        classification: 'mismatch',
        sev1: true,
      },
    ]);
  });

  it('balances and positions are compared per key, named by account and currency or instrument', () => {
    const s = split({
      balancesByAccount: { 'ACC-0001:USD': '990000.00', 'ACC-0003:USD': '999999.99' },
      positionsByAccountInstrument: { 'ACC-0001:AAPL': '30', 'ACC-0003:MSFT': '-20', 'ACC-0003:NVDA': '0' },
    });
    expect(compareAtHorizon(baseline(), s)).toEqual([
      {
        table: 'balances',
        key: 'account ACC-0003 currency USD',
        expected: '1000000',
        found: '999999.99',
        classification: 'mismatch',
        sev1: true,
      },
    ]);
  });

  it('rows after the snapshot are expected: one finding per table and writer with its seq ranges', () => {
    const found = {
      ...baseline(),
      tables: { ...baseline().tables, orders: { rows: 9 }, fills: { rows: 7 } },
    };
    const s = split(
      {},
      {
        tables: { orders: 3, fills: 2, balance_ledger: 4 },
        byWriter: { orders: { w: 3 }, fills: { w: 2 } },
        writerRanges: {
          w: {
            ranges: [
              [11, 11],
              [13, 16],
            ],
            truncated: false,
          },
        },
      },
    );
    const findings = compareAtHorizon(baseline(), s, found);
    expect(findings).toEqual([
      {
        table: 'orders',
        key: 'writer w seq 11, 13-16',
        expected: '6 rows in the snapshot (writer seq up to 12)',
        found: '9 rows, 3 written after the snapshot',
        classification: 'write-after-snapshot',
        sev1: false,
      },
      expect.objectContaining({ table: 'fills', key: 'writer w seq 11, 13-16', sev1: false }),
      expect.objectContaining({
        table: 'balance_ledger',
        key: 'rows after the snapshot',
        classification: 'write-after-snapshot',
        sev1: false,
      }),
    ]);
  });

  it('rows of other sources after the capture time are expected, and say so', () => {
    const s = split({}, { tables: { risk_events: 1 }, untracked: { risk_events: 1 } });
    expect(compareAtHorizon(baseline(), s)).toEqual([
      expect.objectContaining({
        table: 'risk_events',
        key: `rows without writer after ${CAPTURED}`,
        classification: 'write-after-snapshot',
        sev1: false,
      }),
    ]);
  });

  it('compareLedgerAggregates uses the horizon split when the cluster was read with one', () => {
    const found = { ...baseline(), tables: { ...baseline().tables, orders: { rows: 1 } }, horizon: split() };
    // The full figures differ wildly; within the horizon they are equal: parity.
    expect(compareLedgerAggregates(baseline(), found)).toEqual([]);
  });
});

describe('formatRanges', () => {
  it('shows single seqs and ranges, capped', () => {
    expect(
      formatRanges([
        [4, 6],
        [9, 9],
      ]),
    ).toBe('4-6, 9');
    expect(
      formatRanges(
        [
          [1, 1],
          [3, 3],
          [5, 5],
        ],
        2,
      ),
    ).toBe('1, 3, … (1 more ranges)');
    expect(formatRanges([[1, 2]], 20, true)).toBe('1-2, … (more ranges)');
  });
});

describe('assembleAggregates', () => {
  const group = (g: Partial<GroupRow>): GroupRow => ({
    tbl: 'orders',
    account_id: 'ACC-0001',
    symbol: 'AAPL',
    writer_id: 'w',
    late: false,
    rows: '1',
    quantity_sum: '10',
    notional_sum: '1902.5',
    max_seq: '1',
    ...g,
  });

  it('adds the groups up exactly per table, account, instrument and writer, on both sides of the horizon', () => {
    const rows: GroupRow[] = [
      group({ rows: '2', quantity_sum: '0.1', notional_sum: '0.2', max_seq: '3' }),
      group({ symbol: 'MSFT', rows: '1', quantity_sum: '0.2', notional_sum: '0.1', max_seq: '5' }),
      group({
        account_id: 'ACC-0003',
        late: true,
        rows: '1',
        quantity_sum: '5',
        notional_sum: '5',
        max_seq: '9',
      }),
      group({
        tbl: 'risk_events',
        symbol: null,
        writer_id: null,
        late: true,
        quantity_sum: null,
        notional_sum: null,
        max_seq: '0',
      }),
      group({
        tbl: 'accounts',
        account_id: null,
        symbol: null,
        writer_id: null,
        quantity_sum: null,
        notional_sum: null,
        max_seq: null,
        rows: '6',
      }),
    ];
    const positions: PositionRow[] = [
      { key: 'ACC-0001:AAPL', quantity: '30', notional: '5707.5', within_quantity: '30', within: true },
      { key: 'ACC-0003:AAPL', quantity: '5', notional: '950', within_quantity: '0', within: false },
    ];
    const balances: BalanceRow[] = [
      { key: 'ACC-0001:USD', late: false, rows: '4', amount: '24994292.5' },
      { key: 'ACC-0003:USD', late: false, rows: '1', amount: '100' },
      { key: 'ACC-0003:USD', late: true, rows: '1', amount: '-950' },
    ];
    const a = assembleAggregates(rows, positions, balances);
    expect(a.full.tables).toEqual({
      accounts: { rows: 6 },
      instruments: { rows: 0 },
      orders: { rows: 4, quantitySum: '5.3', notionalSum: '5.3' },
      fills: { rows: 0, quantitySum: '0', notionalSum: '0' },
      risk_events: { rows: 1 },
      positions: { rows: 2, quantitySum: '35', notionalSum: '6657.5' },
      balance_ledger: { rows: 6 },
    });
    expect(a.full.maxSeq).toEqual({ orders: 9, fills: 0, risk_events: 0 });
    expect(a.full.byAccount.orders).toEqual({
      'ACC-0001': { rows: 3, quantitySum: '0.3', notionalSum: '0.3' },
      'ACC-0003': { rows: 1, quantitySum: '5', notionalSum: '5' },
    });
    expect(a.full.byWriter).toEqual({ orders: { w: { rows: 4, maxSeq: 9 } } });
    expect(a.full.balancesByAccount).toEqual({ 'ACC-0001:USD': '24994292.5', 'ACC-0003:USD': '-850' });
    expect(a.within.tables.orders).toEqual({ rows: 3, quantitySum: '0.3', notionalSum: '0.3' });
    expect(a.within.tables.positions).toEqual({ rows: 1, quantitySum: '30' });
    expect(a.within.byInstrument.orders).toEqual({
      AAPL: { rows: 2, quantitySum: '0.1', notionalSum: '0.2' },
      MSFT: { rows: 1, quantitySum: '0.2', notionalSum: '0.1' },
    });
    expect(a.within.balancesByAccount).toEqual({ 'ACC-0001:USD': '24994292.5', 'ACC-0003:USD': '100' });
    expect(a.within.positionsByAccountInstrument).toEqual({ 'ACC-0001:AAPL': '30' });
    expect(a.after).toMatchObject({
      tables: { orders: 1, risk_events: 1, positions: 1, balance_ledger: 1 },
      byAccount: { orders: { 'ACC-0003': 1 }, risk_events: { 'ACC-0001': 1 } },
      byWriter: { orders: { w: 1 } },
      untracked: { risk_events: 1 },
    });
    expect(a.writerTotals).toEqual({ w: { rows: 4, maxSeq: 9 } });
    expect(a.laterByWriterTotal).toEqual({ w: 1 });
  });
});
