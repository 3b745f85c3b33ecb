import { JournalSummarizer, type JournalEntry } from '../../../workload/journal';
import {
  fetchWriterSeqs,
  reconcilePostgres,
  reconcileWithDatabase,
  type Queryable,
} from '../../../workload/reconcile';

function pgAck(writer: string, seq: number): JournalEntry {
  return {
    v: 1,
    writer,
    seq,
    kind: 'order',
    idempotencyKey: `${writer}:${seq}`,
    orderId: '11111111-1111-8111-8111-111111111111',
    fillId: null,
    riskEventId: null,
    account: 'ACC-0001',
    instrument: 'AAPL',
    side: 'buy',
    quantity: '1',
    price: '1',
    acknowledgedAt: '2026-01-01T00:00:00.000Z',
    sink: 'postgres',
    duplicate: false,
  };
}

function summaryOf(entries: JournalEntry[]) {
  const s = new JournalSummarizer();
  for (const e of entries) s.addEntry(e);
  return s.result();
}

describe('reconciling the journal with the promoted database', () => {
  it('counts acknowledged-but-missing writes as lost and present-but-unacknowledged as in doubt', () => {
    const summary = summaryOf([1, 2, 3, 4, 5, 6].map((s) => pgAck('w', s)).concat([pgAck('other', 99)]));
    const r = reconcileWithDatabase(summary, 'w', {
      order: new Set([1, 2, 3]),
      fill: new Set([4, 7]),
      risk_event: new Set(),
    });
    expect(r).toEqual({
      writerId: 'w',
      acknowledged: 6,
      present: 5,
      presentByKind: { order: 3, fill: 2, risk_event: 0 },
      lost: [5, 6],
      unacknowledged: [7],
      ok: false,
    });
  });

  it('is ok when every acknowledged write is there', () => {
    const summary = summaryOf([pgAck('w', 1), pgAck('w', 2)]);
    expect(
      reconcileWithDatabase(summary, 'w', { order: new Set([1]), fill: new Set([2]), risk_event: new Set() })
        .ok,
    ).toBe(true);
    expect(
      reconcileWithDatabase(summary, 'nobody', { order: new Set(), fill: new Set(), risk_event: new Set() }),
    ).toMatchObject({
      acknowledged: 0,
      ok: true,
    });
  });

  it('reads the writer rows of every kind from the database', async () => {
    const calls: Array<{ text: string; values?: unknown[] }> = [];
    const db: Queryable = {
      query: async (text, values) => {
        calls.push({ text, values });
        return {
          rows: [
            { kind: 'order', seq: '1' },
            { kind: 'fill', seq: '2' },
            { kind: 'risk_event', seq: '3' },
          ],
        };
      },
    };
    const seqs = await fetchWriterSeqs(db, 'w');
    expect(seqs).toEqual({ order: new Set([1]), fill: new Set([2]), risk_event: new Set([3]) });
    expect(calls[0]?.values).toEqual(['w']);
    expect(calls[0]?.text).toMatch(/from orders where writer_id = \$1/);
    expect(calls[0]?.text).toMatch(/from fills where writer_id = \$1/);
    expect(calls[0]?.text).toMatch(/from risk_events where writer_id = \$1/);
    const r = await reconcilePostgres(db, summaryOf([pgAck('w', 1), pgAck('w', 4)]), 'w');
    expect(r.lost).toEqual([4]);
  });
});
