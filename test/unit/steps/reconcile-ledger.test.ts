import type { LedgerAggregates } from '../../../lambdas/shared/adapters/contracts';
import {
  compareLedgerAggregates,
  sameDecimal,
  seqRanges,
} from '../../../lambdas/shared/ledger/compare-aggregates';
import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import { reconcileLedgerStep } from '../../../lambdas/reconcile-ledger/logic';
import {
  SOURCE,
  TARGET,
  dryRun,
  fakeDeps,
  sampleAggregates,
  sampleRun,
  writeCalls,
  type FakeWorld,
} from './fakes';

const withTables = (
  base: LedgerAggregates,
  tables: Partial<LedgerAggregates['tables']>,
  extra: Partial<LedgerAggregates> = {},
): LedgerAggregates => ({
  ...base,
  ...extra,
  tables: { ...base.tables, ...tables } as LedgerAggregates['tables'],
});

describe('sameDecimal', () => {
  it.each([
    ['1.50', '1.5'],
    ['-0', '0'],
    ['0.00', '0'],
    ['+2', '2'],
    ['007.10', '7.1'],
    ['-120000.250', '-120000.25'],
  ])('%s equals %s', (a, b) => expect(sameDecimal(a, b)).toBe(true));

  it.each([
    ['10', '1'],
    ['1.5', '-1.5'],
    ['0.1', '0.01'],
    ['100', '1.00'],
  ])('%s differs from %s', (a, b) => expect(sameDecimal(a, b)).toBe(false));

  it('an absent value is zero', () => {
    expect(sameDecimal(undefined, '0.000')).toBe(true);
    expect(sameDecimal(undefined, '0.001')).toBe(false);
  });
});

describe('seqRanges', () => {
  it('compresses consecutive sequence numbers, sorting first', () => {
    expect(seqRanges([9, 4, 6, 5])).toBe('4-6, 9');
    expect(seqRanges([7])).toBe('7');
    expect(seqRanges([])).toBe('');
  });

  it('caps the number of ranges shown', () => {
    expect(seqRanges([1, 3, 5, 7, 9], 2)).toBe('1, 3, … (3 more ranges)');
  });
});

describe('compareLedgerAggregates', () => {
  const baseline = sampleAggregates();

  it('identical aggregates: no finding (decimal formatting aside)', () => {
    const found = {
      ...sampleAggregates(),
      balancesByAccount: { 'ACC-0001': '1000000', 'ACC-0002': '500000.0' },
    };
    expect(compareLedgerAggregates(baseline, found)).toEqual([]);
  });

  it('missing rows in a canonical table are SEV-1 missing data', () => {
    const found = withTables(baseline, {
      orders: { rows: 98, quantitySum: '1480', notionalSum: '148000.50' },
    });
    expect(compareLedgerAggregates(baseline, found)).toContainEqual({
      table: 'orders',
      key: 'row count',
      expected: '100',
      found: '98',
      classification: 'missing-data',
      sev1: true,
    });
  });

  it('newer writes after the snapshot are not SEV-1, and the derived tables they maintain are not SEV-1 either', () => {
    const found = withTables(
      baseline,
      {
        orders: { rows: 103, quantitySum: '1530', notionalSum: '153000.50' },
        positions: { rows: 11, quantitySum: '330' },
        balance_ledger: { rows: 83, notionalSum: '-123000.25' },
      },
      {
        maxSeq: { orders: 103, fills: 80, risk_events: 5 },
        balancesByAccount: { 'ACC-0001': '997000.00', 'ACC-0002': '500000.00' },
      },
    );
    const findings = compareLedgerAggregates(baseline, found);
    expect(findings).toContainEqual({
      table: 'orders',
      key: 'seq > 100',
      expected: '100',
      found: '103',
      classification: 'write-after-snapshot',
      sev1: false,
    });
    expect(
      findings
        .filter((f) => f.table === 'positions' || f.table === 'balance_ledger')
        .map((f) => [f.table, f.classification, f.sev1]),
    ).toEqual([
      ['positions', 'write-after-snapshot', false],
      ['balance_ledger', 'write-after-snapshot', false],
    ]);
    expect(findings.some((f) => f.sev1)).toBe(false);
  });

  it('fewer rows in a derived table stay SEV-1 even after newer writes', () => {
    const found = withTables(
      baseline,
      {
        orders: { rows: 101, quantitySum: '1510', notionalSum: '151000.50' },
        positions: { rows: 9, quantitySum: '290' },
      },
      { maxSeq: { orders: 101, fills: 80, risk_events: 5 } },
    );
    expect(compareLedgerAggregates(baseline, found)).toContainEqual({
      table: 'positions',
      key: 'row count',
      expected: '10',
      found: '9',
      classification: 'missing-data',
      sev1: true,
    });
  });

  it('more rows without newer sequence numbers is a SEV-1 mismatch', () => {
    const found = withTables(baseline, {
      fills: { rows: 81, quantitySum: '1210', notionalSum: '121000.25' },
    });
    expect(compareLedgerAggregates(baseline, found)).toContainEqual(
      expect.objectContaining({ table: 'fills', classification: 'mismatch', sev1: true }),
    );
  });

  it('a derived table that differs without newer writes is a SEV-1 mismatch', () => {
    const found = withTables(baseline, { positions: { rows: 10, quantitySum: '299' } });
    expect(compareLedgerAggregates(baseline, found)).toEqual([
      {
        table: 'positions',
        key: 'quantitySum',
        expected: '300',
        found: '299',
        classification: 'mismatch',
        sev1: true,
      },
    ]);
  });

  it('same row count with different sums is a SEV-1 mismatch', () => {
    const found = withTables(baseline, {
      orders: { rows: 100, quantitySum: '1500', notionalSum: '150000.49' },
    });
    expect(compareLedgerAggregates(baseline, found)).toEqual([
      {
        table: 'orders',
        key: 'notionalSum',
        expected: '150000.50',
        found: '150000.49',
        classification: 'mismatch',
        sev1: true,
      },
    ]);
  });

  it('a balance mismatch is SEV-1 and names the account', () => {
    const found = {
      ...sampleAggregates(),
      balancesByAccount: { 'ACC-0001': '1000000.00', 'ACC-0002': '499999.99' },
    };
    expect(compareLedgerAggregates(baseline, found)).toEqual([
      {
        table: 'balances',
        key: 'ACC-0002',
        expected: '500000.00',
        found: '499999.99',
        classification: 'mismatch',
        sev1: true,
      },
    ]);
  });

  it('an account missing on the promoted cluster is a SEV-1 balance mismatch against zero', () => {
    const found = { ...sampleAggregates(), balancesByAccount: { 'ACC-0001': '1000000.00' } };
    expect(compareLedgerAggregates(baseline, found)).toEqual([
      {
        table: 'balances',
        key: 'ACC-0002',
        expected: '500000.00',
        found: '0',
        classification: 'mismatch',
        sev1: true,
      },
    ]);
  });

  it('a position mismatch is SEV-1 and names account and instrument', () => {
    const found = {
      ...sampleAggregates(),
      positionsByAccountInstrument: { 'ACC-0001/AAPL': '90', 'ACC-0002/NVDA': '-50' },
    };
    expect(compareLedgerAggregates(baseline, found)).toEqual([
      expect.objectContaining({ table: 'positions', key: 'ACC-0001/AAPL', sev1: true }),
    ]);
  });
});

describe('reconcile-ledger', () => {
  const baselineAggregates = sampleAggregates();
  const reconcile = (
    world: FakeWorld,
    run: Run = sampleRun(),
    baseline: LedgerAggregates = baselineAggregates,
  ) =>
    executeStep(
      reconcileLedgerStep,
      { run, steps: { waitForDrain: { result: { baseline: { region: SOURCE, aggregates: baseline } } } } },
      world.deps,
      world.clock,
    );

  /** A promoted target with the baseline's ledger and every acknowledged write present. */
  function promoted(): FakeWorld {
    const world = fakeDeps();
    Object.assign(world.postgres[TARGET]!.state, { role: 'primary', readOnly: false });
    world.postgres[TARGET]!.aggregates = sampleAggregates({ lsn: '0/3000100' });
    world.journal.writes = [
      { table: 'orders', writerId: 'w1', seqs: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
      { table: 'fills', writerId: 'w2', seqs: [1, 2] },
    ];
    world.postgres[TARGET]!.present = { orders: { w1: [1, 2, 3, 4, 5, 6, 7, 8, 9] }, fills: { w2: [1, 2] } };
    return world;
  }

  it('parity: aggregates match the baseline and every acknowledged write is present', async () => {
    const world = promoted();
    const { evidence, result } = await reconcile(world);
    expect(result).toEqual({
      parity: true,
      sev1: false,
      findings: [],
      journal: { acknowledged: 11, missing: 0 },
      aggregates: { tables: baselineAggregates.tables },
    });
    expect(evidence).toMatchObject({
      action: 'observed',
      observed: { baselineRegion: SOURCE, baselineLsn: '0/3000000', foundLsn: '0/3000100' },
    });
    expect(world.postgres[TARGET]!.callsTo('missingSequences')).toEqual([
      ['orders', 'w1', [1, 2, 3, 4, 5, 6, 7, 8, 9]],
      ['fills', 'w2', [1, 2]],
    ]);
    expect(world.runRecords.entriesOf('unit-run-1')).toEqual([
      {
        kind: 'ledger.reconciliation',
        at: '2026-11-27T00:00:10.000Z',
        data: { findings: [], journal: { acknowledged: 11, missing: 0 } },
      },
    ]);
  });

  it('an acknowledged write missing on the promoted cluster is SEV-1, naming table, writer and seq range', async () => {
    const world = promoted();
    world.postgres[TARGET]!.present.orders = { w1: [1, 2, 3, 7, 8] };
    const { result } = await reconcile(world);
    expect(result.sev1).toBe(true);
    expect(result.parity).toBe(false);
    expect(result.journal).toEqual({ acknowledged: 11, missing: 4 });
    expect(result.findings).toEqual([
      {
        table: 'orders',
        key: 'writer w1 seq 4-6, 9',
        expected: '9 acknowledged',
        found: '5 present, 4 missing',
        classification: 'missing-acknowledged-write',
        sev1: true,
      },
    ]);
  });

  it('an aggregate discrepancy against the baseline is reported with the journal’s findings', async () => {
    const world = promoted();
    world.postgres[TARGET]!.aggregates = withTables(sampleAggregates(), { risk_events: { rows: 4 } });
    const { result } = await reconcile(world);
    expect(result.findings).toEqual([
      expect.objectContaining({ table: 'risk_events', classification: 'missing-data', sev1: true }),
    ]);
  });

  it('without a journal (not a sandbox drill) compares aggregates only', async () => {
    const world = fakeDeps({ journal: false });
    world.postgres[TARGET]!.aggregates = sampleAggregates();
    const { result } = await reconcile(world);
    expect(result).toMatchObject({ parity: true, journal: null });
    expect(world.postgres[TARGET]!.callsTo('missingSequences')).toEqual([]);
  });

  it('reads the target, never the old primary', async () => {
    const world = promoted();
    await reconcile(world);
    expect(world.postgres[SOURCE]!.calls).toEqual([]);
  });

  it('dry run: reconciles the same, records nothing', async () => {
    const world = promoted();
    const { result } = await reconcile(world, dryRun());
    expect(result.parity).toBe(true);
    expect(writeCalls(world)).toEqual([]);
  });
});
