/**
 * The DR validation dataset: deterministic market-data ticks (timestamp, symbol, bid,
 * ask, last, volume) for the seeded instruments, which the smoke harness ingests and
 * turns into signals and orders after a failover. Integer tick arithmetic and a
 * fixed-seed PRNG only: the same seed gives the same bytes on every machine.
 */
import { mulberry32, randomInt } from '../workload/prng';
import { INSTRUMENTS, type Instrument } from '../workload/reference-data';

export const SAMPLE_DEFAULTS = {
  seed: 20240603,
  rows: 3600,
  /** US cash-equity open on the dataset's (arbitrary, fixed) trading day. */
  start: '2024-06-03T13:30:00.000Z',
} as const;

export const SAMPLE_HEADER = 'timestamp,symbol,bid,ask,last,volume';

export interface SampleOptions {
  seed?: number;
  rows?: number;
  /** ISO timestamp of the first tick. */
  start?: string;
  instruments?: readonly Instrument[];
}

/** Digits after the decimal point of a decimal string ("0.00001" → 5, "1000" → 0). */
export function decimalsOf(value: string): number {
  const dot = value.indexOf('.');
  return dot < 0 ? 0 : value.length - dot - 1;
}

/** Integer number of `step` units in `value`, both decimal strings with at most `digits` decimals. */
function unitsOf(value: string, digits: number): bigint {
  const [whole = '0', frac = ''] = value.split('.');
  return BigInt(whole + frac.padEnd(digits, '0'));
}

/** Formats `units` × 10^-digits with exactly `digits` decimals. */
function formatUnits(units: bigint, digits: number): string {
  if (digits === 0) return units.toString();
  const s = units.toString().padStart(digits + 1, '0');
  return `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

interface TickState {
  instrument: Instrument;
  priceDigits: number;
  tick: bigint;
  /** Bid price in ticks. */
  bidTicks: bigint;
  /** Typical move per update, in ticks (≈ 2 bp of the reference price). */
  volTicks: number;
  lotDigits: number;
  lot: bigint;
}

/** The dataset as CSV text (header, one line per tick, LF endings, trailing newline). */
export function generateSampleCsv(options: SampleOptions = {}): string {
  const seed = options.seed ?? SAMPLE_DEFAULTS.seed;
  const rows = options.rows ?? SAMPLE_DEFAULTS.rows;
  const startMs = Date.parse(options.start ?? SAMPLE_DEFAULTS.start);
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`rows must be a positive integer, got ${rows}`);
  if (!Number.isFinite(startMs)) throw new Error(`start must be an ISO timestamp, got ${options.start}`);
  const instruments = options.instruments ?? INSTRUMENTS;
  if (instruments.length === 0) throw new Error('no instruments');

  const rand = mulberry32(seed);
  const states: TickState[] = instruments.map((instrument) => {
    const priceDigits = decimalsOf(instrument.tickSize);
    const tick = unitsOf(instrument.tickSize, priceDigits);
    const reference = unitsOf(instrument.referencePrice, priceDigits);
    const bidTicks = reference / tick;
    const lotDigits = decimalsOf(instrument.lotSize);
    return {
      instrument,
      priceDigits,
      tick,
      bidTicks,
      volTicks: Math.max(1, Number((bidTicks * 2n) / 10_000n)),
      lotDigits,
      lot: unitsOf(instrument.lotSize, lotDigits),
    };
  });

  const lines = [SAMPLE_HEADER];
  let clockMs = startMs;
  for (let i = 0; i < rows; i++) {
    clockMs += randomInt(rand, 5, 400);
    const s = states[randomInt(rand, 0, states.length - 1)] as TickState;
    // Sum of three uniforms: a bell-shaped step in [-1.5, 1.5] × volatility.
    const step = Math.round((rand() + rand() + rand() - 1.5) * s.volTicks);
    s.bidTicks = s.bidTicks + BigInt(step) > 1n ? s.bidTicks + BigInt(step) : 1n;
    const spreadTicks = BigInt(randomInt(rand, 1, Math.max(1, Math.ceil(s.volTicks / 2))));
    const askTicks = s.bidTicks + spreadTicks;
    const lastTicks = s.bidTicks + BigInt(randomInt(rand, 0, Number(spreadTicks)));
    const volume = BigInt(randomInt(rand, 1, 100)) * s.lot;
    lines.push(
      [
        new Date(clockMs).toISOString(),
        s.instrument.symbol,
        formatUnits(s.bidTicks * s.tick, s.priceDigits),
        formatUnits(askTicks * s.tick, s.priceDigits),
        formatUnits(lastTicks * s.tick, s.priceDigits),
        formatUnits(volume, s.lotDigits),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
