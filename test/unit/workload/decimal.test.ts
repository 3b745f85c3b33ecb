import { fromUnits, multiplyUnits, normalizeDecimal, roundToStep, toUnits } from '../../../workload/decimal';

describe('exact decimals', () => {
  it('parses and formats numeric(20,8) values exactly', () => {
    expect(toUnits('1')).toBe(100_000_000n);
    expect(toUnits('0.00000001')).toBe(1n);
    expect(toUnits('-12.5')).toBe(-1_250_000_000n);
    expect(fromUnits(toUnits('189.50000000'))).toBe('189.5');
    expect(fromUnits(-1n)).toBe('-0.00000001');
    expect(fromUnits(0n)).toBe('0');
    expect(normalizeDecimal('64250.00')).toBe('64250');
    // 0.1 + 0.2 is exact here.
    expect(fromUnits(toUnits('0.1') + toUnits('0.2'))).toBe('0.3');
  });

  it('rejects what PostgreSQL numeric(20,8) would round or refuse', () => {
    expect(() => toUnits('1.000000001')).toThrow(/8 decimals/);
    expect(() => toUnits('1e5')).toThrow(/not a decimal/);
    expect(() => toUnits('')).toThrow(/not a decimal/);
    expect(toUnits('1.000000010')).toBe(100_000_001n);
  });

  it('multiplies with half-away-from-zero rounding to 8 decimals', () => {
    expect(fromUnits(multiplyUnits(toUnits('10'), toUnits('189.5')))).toBe('1895');
    expect(fromUnits(multiplyUnits(toUnits('0.001'), toUnits('64250.01')))).toBe('64.25001');
    expect(multiplyUnits(toUnits('0.00000001'), toUnits('0.5'))).toBe(1n);
    expect(multiplyUnits(toUnits('-0.00000001'), toUnits('0.5'))).toBe(-1n);
  });

  it('rounds to a step', () => {
    expect(fromUnits(roundToStep(toUnits('0.0064'), toUnits('0.01')))).toBe('0.01');
    expect(fromUnits(roundToStep(toUnits('0.0049'), toUnits('0.01')))).toBe('0');
    expect(() => roundToStep(1n, 0n)).toThrow(/positive/);
  });
});
