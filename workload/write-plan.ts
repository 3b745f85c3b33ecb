/**
 * What the load generator writes next: a deterministic (seeded) stream of orders,
 * fills against acknowledged orders, and occasional risk events. Pure: no I/O, no
 * clock; ids are derived from (writer, seq) so a retried write is byte-for-byte
 * the same write.
 */
import { createHash } from 'node:crypto';
import type { WriteKind } from './accounting';
import { fromUnits, multiplyUnits, roundToStep, toUnits } from './decimal';
import { gaussian, mulberry32, pick, randomInt, type Prng } from './prng';
import { INSTRUMENTS, TRADABLE_ACCOUNTS, type Instrument } from './reference-data';

export type Side = 'buy' | 'sell';

interface WriteBase {
  kind: WriteKind;
  writerId: string;
  seq: number;
  idempotencyKey: string;
  accountId: string;
}

export interface OrderWrite extends WriteBase {
  kind: 'order';
  orderId: string;
  symbol: string;
  side: Side;
  orderType: 'market' | 'limit';
  timeInForce: 'day' | 'gtc' | 'ioc';
  quantity: string;
  /** Null for market orders. */
  limitPrice: string | null;
}

export interface FillWrite extends WriteBase {
  kind: 'fill';
  fillId: string;
  orderId: string;
  symbol: string;
  side: Side;
  quantity: string;
  price: string;
  fee: string;
  liquidity: 'maker' | 'taker';
  /** Settlement currency (the instrument's quote currency). */
  currency: string;
}

export type RiskEventType =
  'position_limit_breach' | 'exposure_warning' | 'margin_call' | 'price_band_violation';

export interface RiskEventWrite extends WriteBase {
  kind: 'risk_event';
  riskEventId: string;
  symbol: string | null;
  eventType: RiskEventType;
  severity: 'info' | 'warning' | 'critical';
  details: { metric: string; observed: string; limit: string };
}

export type PlannedWrite = OrderWrite | FillWrite | RiskEventWrite;

/** Relative weights of the write kinds (a fill needs an acknowledged open order). */
export interface WriteMix {
  order: number;
  fill: number;
  riskEvent: number;
}

export const DEFAULT_MIX: WriteMix = { order: 60, fill: 35, riskEvent: 5 };

/** The idempotency key of write `seq` of `writerId`. */
export const idempotencyKeyOf = (writerId: string, seq: number): string => `${writerId}:${seq}`;

/** A UUID (RFC 9562 version 8, name-based) derived from the writer, sequence number and kind. */
export function deterministicUuid(writerId: string, seq: number, kind: WriteKind): string {
  const h = createHash('sha256').update(`tradepulse-loadgen\0${writerId}\0${seq}\0${kind}`).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x80;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

interface OpenOrder {
  orderId: string;
  accountId: string;
  symbol: string;
  side: Side;
  limitPrice: string | null;
  /** Quantity not yet covered by a planned fill, in decimal units. */
  unreserved: bigint;
  /** Planned fills not yet acknowledged or failed. */
  pendingFills: number;
}

/** Fee rate: 1 basis point of notional, rounded to the cent. */
const FEE_BPS = 1n;
const CENT = toUnits('0.01');
/** Resting orders the generator may still fill; older ones simply stay open in the store. */
const MAX_OPEN_ORDERS = 256;

export class WritePlanner {
  private readonly rand: Prng;
  private readonly priceTicks = new Map<string, number>();
  private readonly open = new Map<string, OpenOrder>();
  private readonly mixTotal: number;

  constructor(
    private readonly writerId: string,
    seed: number,
    private readonly mix: WriteMix = DEFAULT_MIX,
  ) {
    for (const [k, v] of Object.entries(mix)) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`mix.${k} must be a non-negative number`);
    }
    this.mixTotal = mix.order + mix.fill + mix.riskEvent;
    if (!(mix.order > 0)) throw new Error('mix.order must be positive (fills need orders)');
    this.rand = mulberry32(seed);
    for (const i of INSTRUMENTS)
      this.priceTicks.set(i.symbol, Number(toUnits(i.referencePrice) / toUnits(i.tickSize)));
  }

  /** Number of acknowledged orders that still have quantity to fill. */
  get openOrders(): number {
    let n = 0;
    for (const o of this.open.values()) if (o.unreserved > 0n) n += 1;
    return n;
  }

  /** The kind of the next write (a fill only when an open order exists); pass it to `plan`. */
  nextKind(): WriteKind {
    const r = this.rand() * this.mixTotal;
    if (r < this.mix.order) return 'order';
    if (r < this.mix.order + this.mix.fill) return this.openOrders > 0 ? 'fill' : 'order';
    return 'risk_event';
  }

  plan(seq: number, kind: WriteKind): PlannedWrite {
    const base = { writerId: this.writerId, seq, idempotencyKey: idempotencyKeyOf(this.writerId, seq) };
    if (kind === 'fill') {
      const fill = this.planFill(seq, base);
      if (!fill) throw new Error('no open order to fill: take the kind from nextKind()');
      return fill;
    }
    if (kind === 'order') return this.planOrder(seq, base);
    return this.planRiskEvent(seq, base);
  }

  /** The write was acknowledged by PostgreSQL: an order becomes fillable; a fill is settled. */
  acknowledged(write: PlannedWrite): void {
    if (write.kind === 'fill') {
      const order = this.open.get(write.orderId);
      if (order) {
        order.pendingFills -= 1;
        if (order.unreserved === 0n && order.pendingFills === 0) this.open.delete(order.orderId);
      }
      return;
    }
    if (write.kind !== 'order') return;
    if (this.open.size >= MAX_OPEN_ORDERS) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) this.open.delete(oldest);
    }
    this.open.set(write.orderId, {
      orderId: write.orderId,
      accountId: write.accountId,
      symbol: write.symbol,
      side: write.side,
      limitPrice: write.limitPrice,
      unreserved: toUnits(write.quantity),
      pendingFills: 0,
    });
  }

  /**
   * The write failed for PostgreSQL. A failed fill gives its quantity back unless the
   * order itself is gone (a foreign-key violation: an order acknowledged by the old
   * primary that the promoted standby never received), then the order is dropped.
   */
  failed(write: PlannedWrite, reason: string): void {
    if (write.kind !== 'fill') return;
    const order = this.open.get(write.orderId);
    if (!order) return;
    if (reason === 'foreign_key_violation') {
      this.open.delete(write.orderId);
      return;
    }
    order.unreserved += toUnits(write.quantity);
    order.pendingFills -= 1;
  }

  private price(symbol: string, instrument: Instrument, move: boolean): bigint {
    let ticks = this.priceTicks.get(symbol) as number;
    if (move) {
      ticks = Math.max(1, Math.round(ticks * Math.exp(0.0008 * gaussian(this.rand))));
      this.priceTicks.set(symbol, ticks);
    }
    return BigInt(ticks) * toUnits(instrument.tickSize);
  }

  private planOrder(seq: number, base: Omit<WriteBase, 'kind' | 'accountId'>): OrderWrite {
    const account = pick(this.rand, TRADABLE_ACCOUNTS);
    const instrument = pick(this.rand, INSTRUMENTS);
    const side: Side = this.rand() < 0.5 ? 'buy' : 'sell';
    const lots = BigInt(randomInt(this.rand, 1, 50));
    const quantity = lots * toUnits(instrument.lotSize);
    const market = this.rand() < 0.2;
    const mid = this.price(instrument.symbol, instrument, true);
    // Limit orders rest up to 5 ticks on the passive side of the current price.
    const offset = BigInt(randomInt(this.rand, 0, 5)) * toUnits(instrument.tickSize);
    const limit = side === 'buy' ? mid - offset : mid + offset;
    return {
      ...base,
      kind: 'order',
      accountId: account.accountId,
      orderId: deterministicUuid(this.writerId, seq, 'order'),
      symbol: instrument.symbol,
      side,
      orderType: market ? 'market' : 'limit',
      timeInForce: market ? 'ioc' : pick(this.rand, ['day', 'gtc'] as const),
      quantity: fromUnits(quantity),
      limitPrice: market ? null : fromUnits(limit > 0n ? limit : toUnits(instrument.tickSize)),
    };
  }

  private planFill(seq: number, base: Omit<WriteBase, 'kind' | 'accountId'>): FillWrite | undefined {
    const candidates = [...this.open.values()].filter((o) => o.unreserved > 0n);
    if (candidates.length === 0) return undefined;
    const order = pick(this.rand, candidates);
    const instrument = INSTRUMENTS.find((i) => i.symbol === order.symbol) as Instrument;
    const lot = toUnits(instrument.lotSize);
    const lotsLeft = order.unreserved / lot;
    // Half the fills complete the order, the rest take a part of what is left.
    const lots =
      this.rand() < 0.5 || lotsLeft <= 1n ? lotsLeft : BigInt(randomInt(this.rand, 1, Number(lotsLeft) - 1));
    const quantity = lots * lot;
    const price = order.limitPrice ? toUnits(order.limitPrice) : this.price(order.symbol, instrument, true);
    const notional = multiplyUnits(quantity, price);
    const fee = roundToStep((notional * FEE_BPS) / 10_000n, CENT);
    order.unreserved -= quantity;
    order.pendingFills += 1;
    return {
      ...base,
      kind: 'fill',
      accountId: order.accountId,
      fillId: deterministicUuid(this.writerId, seq, 'fill'),
      orderId: order.orderId,
      symbol: order.symbol,
      side: order.side,
      quantity: fromUnits(quantity),
      price: fromUnits(price),
      fee: fromUnits(fee),
      liquidity: order.limitPrice ? 'maker' : 'taker',
      currency: instrument.quoteCurrency,
    };
  }

  private planRiskEvent(seq: number, base: Omit<WriteBase, 'kind' | 'accountId'>): RiskEventWrite {
    const account = pick(this.rand, TRADABLE_ACCOUNTS);
    const eventType = pick(this.rand, [
      'position_limit_breach',
      'exposure_warning',
      'margin_call',
      'price_band_violation',
    ] as const);
    const instrument = eventType === 'margin_call' ? null : pick(this.rand, INSTRUMENTS);
    const limit = BigInt(randomInt(this.rand, 1, 20)) * 1_000_000n;
    const observed = limit + (limit * BigInt(randomInt(this.rand, -10, 40))) / 100n;
    const severity = observed > limit + limit / 5n ? 'critical' : observed > limit ? 'warning' : 'info';
    return {
      ...base,
      kind: 'risk_event',
      accountId: account.accountId,
      riskEventId: deterministicUuid(this.writerId, seq, 'risk_event'),
      symbol: instrument?.symbol ?? null,
      eventType,
      severity,
      details: {
        metric: eventType === 'price_band_violation' ? 'price_deviation_bps' : 'gross_exposure_usd',
        observed: observed.toString(),
        limit: limit.toString(),
      },
    };
  }
}
