/**
 * Exact arithmetic on decimal strings of any scale (PostgreSQL numeric sums such as
 * quantity × price carry up to 16 decimals), as a bigint of units and a scale. Ledger
 * figures are added and compared with this, never with floating point.
 */

const DECIMAL = /^([+-])?(\d+)(?:\.(\d*))?$|^([+-])?\.(\d+)$/;

interface Scaled {
  units: bigint;
  scale: number;
}

export class NotADecimalError extends Error {
  override name = 'NotADecimalError';
}

function parse(value: string): Scaled {
  const m = DECIMAL.exec(value.trim());
  if (!m) throw new NotADecimalError(`not a decimal number: ${JSON.stringify(value)}`);
  const sign = m[1] ?? m[4];
  const whole = m[2] ?? '0';
  const frac = m[3] ?? m[5] ?? '';
  const units = BigInt(whole + frac);
  return { units: sign === '-' ? -units : units, scale: frac.length };
}

function align(a: Scaled, b: Scaled): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale), scale];
}

function format({ units, scale }: Scaled): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  if (whole === '0' && frac === '') return '0';
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** Shortest form, like PostgreSQL's trim_scale: "007.50" → "7.5", "-0.0" → "0". */
export function normalizeDecimal(value: string): string {
  return format(parse(value));
}

export function isDecimal(value: string): boolean {
  return DECIMAL.test(value.trim());
}

export function addDecimals(...values: (string | undefined)[]): string {
  let sum: Scaled = { units: 0n, scale: 0 };
  for (const v of values) {
    if (v === undefined) continue;
    const [a, b, scale] = align(sum, parse(v));
    sum = { units: a + b, scale };
  }
  return format(sum);
}

export function subtractDecimals(a: string, b: string): string {
  const [x, y, scale] = align(parse(a), parse(b));
  return format({ units: x - y, scale });
}

/** -1, 0 or 1; an absent value is zero. */
export function compareDecimals(a: string | undefined, b: string | undefined): number {
  const [x, y] = align(parse(a ?? '0'), parse(b ?? '0'));
  return x < y ? -1 : x > y ? 1 : 0;
}
