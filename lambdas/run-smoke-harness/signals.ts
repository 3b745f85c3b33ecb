/** Market-data ticks of the DR validation dataset (data/sample.csv). */
export interface Tick {
  timestamp: string;
  symbol: string;
  bid: number;
  ask: number;
  last: number;
  volume: number;
}

export interface Signal {
  timestamp: string;
  symbol: string;
  side: 'buy' | 'sell';
  price: number;
}

export class DatasetError extends Error {
  override name = 'DatasetError';
}

const HEADER = 'timestamp,symbol,bid,ask,last,volume';

/** Parses the dataset strictly: a bad line is named, never skipped. */
export function parseTicks(csv: string, source = 'dataset'): Tick[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== HEADER)
    throw new DatasetError(`${source}: line 1 must be the header '${HEADER}', found '${lines[0] ?? ''}'`);
  return lines.slice(1).map((line, i) => {
    const [timestamp, symbol, bid, ask, last, volume, ...rest] = line.split(',');
    const numbers = [bid, ask, last, volume].map(Number);
    if (
      rest.length > 0 ||
      !timestamp ||
      !symbol ||
      numbers.some((n) => !Number.isFinite(n)) ||
      Number.isNaN(Date.parse(timestamp))
    ) {
      throw new DatasetError(`${source}: line ${i + 2} is not a valid tick: '${line}'`);
    }
    const [b, a, l, v] = numbers as [number, number, number, number];
    if (b <= 0 || a < b || l <= 0 || v < 0)
      throw new DatasetError(`${source}: line ${i + 2} has impossible prices or volume: '${line}'`);
    return { timestamp, symbol, bid: b, ask: a, last: l, volume: v };
  });
}

/**
 * The deterministic strategy of the smoke harness: a fast/slow moving-average crossover on
 * the last price per instrument. Same ticks, same signals, every time.
 */
export function crossoverSignals(ticks: Tick[], fast = 5, slow = 20): Signal[] {
  const history = new Map<string, number[]>();
  const lastSide = new Map<string, 'buy' | 'sell'>();
  const signals: Signal[] = [];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const tick of ticks) {
    const prices = history.get(tick.symbol) ?? [];
    prices.push(tick.last);
    if (prices.length > slow) prices.shift();
    history.set(tick.symbol, prices);
    if (prices.length < slow) continue;
    const side = mean(prices.slice(-fast)) > mean(prices) ? 'buy' : 'sell';
    if (lastSide.get(tick.symbol) !== undefined && lastSide.get(tick.symbol) !== side) {
      signals.push({ timestamp: tick.timestamp, symbol: tick.symbol, side, price: tick.last });
    }
    lastSide.set(tick.symbol, side);
  }
  return signals;
}
