/**
 * Exact decimal arithmetic for quantities, prices and money as the database stores
 * them (numeric(20,8)): values are bigint multiples of 10^-8. Floating point never
 * touches a value that is summed or reconciled.
 */
export const SCALE_DIGITS = 8;
const SCALE = 10n ** BigInt(SCALE_DIGITS);

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/** Parses "123.45" / "-0.001" / "42" into units of 10^-8; more than 8 decimals is an error. */
export function toUnits(value: string): bigint {
  const m = DECIMAL.exec(value.trim());
  if (!m) throw new Error(`not a decimal number: ${JSON.stringify(value)}`);
  const [, sign, whole = '0', frac = ''] = m;
  const significant = frac.replace(/0+$/, '');
  if (significant.length > SCALE_DIGITS) throw new Error(`more than ${SCALE_DIGITS} decimals: ${value}`);
  const units = BigInt(whole) * SCALE + BigInt(significant.padEnd(SCALE_DIGITS, '0') || '0');
  return sign ? -units : units;
}

/** Formats units of 10^-8 as the shortest decimal string (like PostgreSQL's trim_scale). */
export function fromUnits(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / SCALE;
  const frac = (abs % SCALE).toString().padStart(SCALE_DIGITS, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** Normalises any decimal string to the shortest form ("1.50000000" → "1.5"). */
export function normalizeDecimal(value: string): string {
  return fromUnits(toUnits(value));
}

/** quantity × price, both in units, rounded half away from zero to units. */
export function multiplyUnits(a: bigint, b: bigint): bigint {
  const product = a * b;
  const half = SCALE / 2n;
  return product >= 0n ? (product + half) / SCALE : -((-product + half) / SCALE);
}

/** Rounds units to a multiple of `step` units (half up); step must be positive. */
export function roundToStep(units: bigint, step: bigint): bigint {
  if (step <= 0n) throw new Error('step must be positive');
  return ((units + step / 2n) / step) * step;
}
