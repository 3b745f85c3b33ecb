import { toUnits } from '../../../workload/decimal';
import { INSTRUMENTS, TRADABLE_ACCOUNTS } from '../../../workload/reference-data';
import {
  deterministicUuid,
  idempotencyKeyOf,
  WritePlanner,
  type PlannedWrite,
} from '../../../workload/write-plan';

/** Plans `n` writes, acknowledging every one (as a healthy store would). */
function run(planner: WritePlanner, n: number): PlannedWrite[] {
  const writes: PlannedWrite[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const w = planner.plan(seq, planner.nextKind());
    planner.acknowledged(w);
    writes.push(w);
  }
  return writes;
}

describe('WritePlanner', () => {
  it('is deterministic for a writer and seed, and differs for another seed', () => {
    expect(run(new WritePlanner('w', 1), 300)).toEqual(run(new WritePlanner('w', 1), 300));
    expect(run(new WritePlanner('w', 2), 300)).not.toEqual(run(new WritePlanner('w', 1), 300));
  });

  it('derives ids and idempotency keys from writer and sequence number', () => {
    const writes = run(new WritePlanner('writer-x', 3), 200);
    const ids = writes.map((w) =>
      w.kind === 'order' ? w.orderId : w.kind === 'fill' ? w.fillId : w.riskEventId,
    );
    expect(new Set(ids).size).toBe(writes.length);
    for (const [i, w] of writes.entries()) {
      expect(w.seq).toBe(i + 1);
      expect(w.idempotencyKey).toBe(idempotencyKeyOf('writer-x', w.seq));
      expect(ids[i]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(ids[i]).toBe(deterministicUuid('writer-x', w.seq, w.kind));
    }
    expect(deterministicUuid('other-writer', 1, 'order')).not.toBe(deterministicUuid('writer-x', 1, 'order'));
  });

  it('mixes orders, fills and risk events roughly as weighted', () => {
    const writes = run(new WritePlanner('w', 11, { order: 60, fill: 35, riskEvent: 5 }), 4000);
    const share = (k: string) => writes.filter((w) => w.kind === k).length / writes.length;
    expect(share('order')).toBeGreaterThan(0.5);
    expect(share('fill')).toBeGreaterThan(0.25);
    expect(share('risk_event')).toBeGreaterThan(0.02);
    expect(share('risk_event')).toBeLessThan(0.09);
  });

  it('only fills acknowledged orders, on their side, never beyond their quantity, in whole lots at the limit price', () => {
    const writes = run(new WritePlanner('w', 5), 3000);
    const orders = new Map(writes.filter((w) => w.kind === 'order').map((o) => [o.orderId, o]));
    const filled = new Map<string, bigint>();
    for (const w of writes) {
      if (w.kind !== 'fill') continue;
      const o = orders.get(w.orderId);
      if (!o || o.kind !== 'order') throw new Error(`fill ${w.seq} of an unknown order`);
      expect(o.seq).toBeLessThan(w.seq);
      expect([w.accountId, w.symbol, w.side]).toEqual([o.accountId, o.symbol, o.side]);
      if (o.limitPrice) expect(w.price).toBe(o.limitPrice);
      const instrument = INSTRUMENTS.find((i) => i.symbol === w.symbol)!;
      expect(toUnits(w.quantity) % toUnits(instrument.lotSize)).toBe(0n);
      expect(toUnits(w.price) % toUnits(instrument.tickSize)).toBe(0n);
      expect(toUnits(w.fee)).toBeGreaterThanOrEqual(0n);
      filled.set(w.orderId, (filled.get(w.orderId) ?? 0n) + toUnits(w.quantity));
    }
    expect(filled.size).toBeGreaterThan(100);
    for (const [orderId, q] of filled) {
      const o = orders.get(orderId)!;
      expect(q).toBeLessThanOrEqual(toUnits(o.kind === 'order' ? o.quantity : '0'));
    }
  });

  it('only trades active accounts and seeded instruments', () => {
    const accounts = new Set(TRADABLE_ACCOUNTS.map((a) => a.accountId));
    const symbols = new Set(INSTRUMENTS.map((i) => i.symbol));
    for (const w of run(new WritePlanner('w', 8), 1000)) {
      expect(accounts.has(w.accountId)).toBe(true);
      if (w.kind !== 'risk_event' || w.symbol !== null) expect(symbols.has(w.symbol as string)).toBe(true);
      if (w.kind === 'order') expect(w.orderType === 'limit').toBe(w.limitPrice !== null);
    }
  });

  it('never plans a fill before an order is acknowledged, and drops orders a failover lost', () => {
    const p = new WritePlanner('w', 1, { order: 1, fill: 1000, riskEvent: 0 });
    expect(p.nextKind()).toBe('order');
    const o = p.plan(1, 'order');
    expect(() => p.plan(2, 'fill')).toThrow(/no open order/);
    p.acknowledged(o);
    expect(p.openOrders).toBe(1);
    const f = p.plan(2, 'fill');
    expect(f.kind).toBe('fill');
    // A fill whose order vanished (FK violation on the promoted standby) drops that order.
    p.failed(f, 'foreign_key_violation');
    expect(p.openOrders).toBe(0);
  });

  it('gives the quantity of a failed fill back to its order', () => {
    const p = new WritePlanner('w', 1, { order: 1, fill: 1000, riskEvent: 0 });
    const o = p.plan(1, 'order');
    p.acknowledged(o);
    const f = p.plan(2, 'fill');
    p.failed(f, 'deadline_exceeded(econnrefused)');
    expect(p.openOrders).toBe(1);
    const again = p.plan(3, 'fill');
    expect(again.kind === 'fill' && again.orderId).toBe(o.kind === 'order' && o.orderId);
  });

  it('rejects a mix without orders', () => {
    expect(() => new WritePlanner('w', 1, { order: 0, fill: 1, riskEvent: 1 })).toThrow(/order/);
    expect(() => new WritePlanner('w', 1, { order: 1, fill: -1, riskEvent: 1 })).toThrow(/fill/);
  });
});
