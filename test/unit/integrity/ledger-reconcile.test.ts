import type {
  LedgerAggregates,
  LedgerAggregatesOptions,
  PostgresAdapter,
} from '../../../lambdas/shared/adapters/contracts';
import {
  InvalidBaselineError,
  MANIFEST_LEDGER_KEY,
  parseLedgerBaseline,
} from '../../../lambdas/shared/ledger/baseline';
import {
  formatFindings,
  reconcileAcknowledgedWrites,
  reconcileLedger,
} from '../../../lambdas/shared/ledger/reconcile';
import type { AcknowledgedJournal } from '../../../lambdas/shared/dependencies';

const aggregates = (): LedgerAggregates => ({
  capturedAt: '2026-11-27T00:00:05.123456Z',
  lsn: '0/3000000',
  tables: { orders: { rows: 2, quantitySum: '20', notionalSum: '3805' }, risk_events: { rows: 0 } },
  balancesByAccount: { 'ACC-0001:USD': '1000' },
  positionsByAccountInstrument: { 'ACC-0001:AAPL': '20' },
  maxSeq: { orders: 3, fills: 0, risk_events: 0 },
  byWriter: { orders: { w: { rows: 2, maxSeq: 3 } } },
  writerGaps: { w: [2] },
});

/** A target that reports the given split and holds the given (table, writer) seqs. */
function target(
  found: LedgerAggregates,
  present: Record<string, number[]> = {},
): Pick<PostgresAdapter, 'ledgerAggregates' | 'missingSequences'> & { asked: LedgerAggregatesOptions[] } {
  const asked: LedgerAggregatesOptions[] = [];
  return {
    asked,
    async ledgerAggregates(options?: LedgerAggregatesOptions) {
      asked.push(options ?? {});
      return found;
    },
    async missingSequences(table, writerId, seqs) {
      const have = new Set(present[`${table}/${writerId}`] ?? []);
      return seqs.filter((s) => !have.has(s));
    },
  };
}

const journal = (writes: Awaited<ReturnType<AcknowledgedJournal['acknowledgedPostgresWrites']>>) => ({
  acknowledgedPostgresWrites: async () => writes,
});

describe('reconcileLedger', () => {
  const withinEqual = (b: LedgerAggregates): LedgerAggregates => ({
    ...b,
    horizon: {
      capturedAt: b.capturedAt,
      writerMaxSeq: { w: 3 },
      within: {
        tables: b.tables,
        byAccount: {},
        byInstrument: {},
        byWriter: { orders: { w: 2 } },
        balancesByAccount: b.balancesByAccount,
        positionsByAccountInstrument: b.positionsByAccountInstrument,
      },
      after: { tables: {}, byAccount: {}, byInstrument: {}, byWriter: {}, writerRanges: {}, untracked: {} },
    },
  });

  it('reads the target at the baseline’s horizon and reports parity when everything matches', async () => {
    const t = target(withinEqual(aggregates()), { 'orders/w': [1, 3] });
    const r = await reconcileLedger({
      baseline: aggregates(),
      target: t,
      journal: journal([{ table: 'orders', writerId: 'w', seqs: [1, 3] }]),
    });
    expect(t.asked).toEqual([
      {
        horizon: {
          capturedAt: '2026-11-27T00:00:05.123456Z',
          writers: { w: { maxSeq: 3, gaps: [2], rows: 2 } },
        },
      },
    ]);
    expect(r).toMatchObject({
      parity: true,
      sev1: false,
      findings: [],
      journal: { acknowledged: 2, missing: 0 },
    });
  });

  it('an acknowledged write missing on the target is SEV-1, naming table, writer and seqs', async () => {
    const r = await reconcileLedger({
      baseline: aggregates(),
      target: target(withinEqual(aggregates()), { 'orders/w': [1] }),
      journal: journal([{ table: 'orders', writerId: 'w', seqs: [1, 3, 4, 5] }]),
    });
    expect(r.sev1).toBe(true);
    expect(r.counts['missing-acknowledged-write']).toBe(1);
    expect(r.findings).toEqual([
      {
        table: 'orders',
        key: 'writer w seq 3-5',
        expected: '4 acknowledged',
        found: '1 present, 3 missing',
        classification: 'missing-acknowledged-write',
        sev1: true,
      },
    ]);
    expect(formatFindings(r.findings)).toEqual([
      'SEV-1    missing-acknowledged-write orders writer w seq 3-5: expected 4 acknowledged, found 1 present, 3 missing',
    ]);
  });

  it('reconcileAcknowledgedWrites counts every acknowledged write once', async () => {
    const r = await reconcileAcknowledgedWrites(
      journal([
        { table: 'orders', writerId: 'w', seqs: [1, 3] },
        { table: 'fills', writerId: 'w', seqs: [2] },
      ]),
      target(aggregates(), { 'orders/w': [1, 3], 'fills/w': [2] }),
    );
    expect(r).toEqual({ acknowledged: 3, missing: 0, findings: [] });
  });
});

describe('parseLedgerBaseline', () => {
  const text = (v: unknown) => JSON.stringify(v);

  it('reads aggregates as captured', () => {
    expect(parseLedgerBaseline(text(aggregates()), 'b.json')).toEqual({
      aggregates: aggregates(),
      from: 'aggregates',
    });
  });

  it('reads the aggregates a manifest carries in its metadata', () => {
    const manifest = {
      version: 1,
      kind: 'postgres-base-backup',
      createdAt: '2026-11-27T00:00:00Z',
      files: [],
      metadata: { [MANIFEST_LEDGER_KEY]: aggregates() },
    };
    expect(parseLedgerBaseline(text(manifest), 'm.json')).toEqual({
      aggregates: aggregates(),
      from: 'manifest',
      manifestKind: 'postgres-base-backup',
    });
  });

  it('a manifest without aggregates says what it lacks', () => {
    const manifest = { version: 1, kind: 'artifact-sync', createdAt: '2026-11-27T00:00:00Z', files: [] };
    expect(() => parseLedgerBaseline(text(manifest), 'm.json')).toThrow(
      'm.json is a artifact-sync manifest without ledger aggregates (metadata.ledgerAggregates)',
    );
  });

  it('unknown tables are named with the known ones', () => {
    const bad = { ...aggregates(), tables: { ...aggregates().tables, orderz: { rows: 1 } } };
    expect(() => parseLedgerBaseline(text(bad), 'b.json')).toThrow(
      /tables\.orderz: unknown table 'orderz' \(known: accounts, instruments, orders, fills, risk_events, positions, balance_ledger\)/,
    );
    const badSeq = { ...aggregates(), byWriter: { positions: {} } };
    expect(() => parseLedgerBaseline(text(badSeq), 'b.json')).toThrow(
      /byWriter\.positions: unknown sequenced table/,
    );
  });

  it('figures that are not exact decimals, missing fields and stray fields are refused with their path', () => {
    const bad: Record<string, unknown> = { ...aggregates(), balancesByAccount: { 'ACC-0001:USD': 1000 } };
    delete bad.maxSeq;
    bad.extra = true;
    let error: unknown;
    try {
      parseLedgerBaseline(text(bad), 'b.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidBaselineError);
    const message = (error as Error).message;
    expect(message).toMatch(/^b\.json is not valid ledger aggregates:/);
    expect(message).toMatch(/balancesByAccount\.ACC-0001:USD/);
    expect(message).toMatch(/maxSeq/);
    expect(message).toMatch(/extra/);
  });

  it('text that is not JSON is named as such', () => {
    expect(() => parseLedgerBaseline('{"tables":', 'b.json')).toThrow(/^b\.json is not JSON: /);
  });
});
