import {
  addDecimals,
  compareDecimals,
  isDecimal,
  normalizeDecimal,
  NotADecimalError,
  subtractDecimals,
} from '../../../lambdas/shared/ledger/exact-decimal';

describe('exact decimals', () => {
  it.each([
    ['007.50', '7.5'],
    ['-0.000', '0'],
    ['+12', '12'],
    ['.25', '0.25'],
    ['-120000.2500', '-120000.25'],
    ['5411375000.0000000000000000', '5411375000'],
  ])('normalizes %s to %s', (input, expected) => expect(normalizeDecimal(input)).toBe(expected));

  it('adds any scales exactly, where floating point would not', () => {
    expect(addDecimals('0.1', '0.2')).toBe('0.3');
    expect(addDecimals('1902.5', '-1902.5')).toBe('0');
    expect(addDecimals('99999999999999999999.12345678', '0.00000001')).toBe('99999999999999999999.12345679');
    expect(addDecimals('1.0000000000000001', '2')).toBe('3.0000000000000001');
  });

  it('treats absent operands as nothing to add', () => {
    expect(addDecimals(undefined, '5', undefined)).toBe('5');
    expect(addDecimals()).toBe('0');
  });

  it('subtracts and compares across scales', () => {
    expect(subtractDecimals('10', '0.001')).toBe('9.999');
    expect(subtractDecimals('-1.5', '1.5')).toBe('-3');
    expect(compareDecimals('1.50', '1.5')).toBe(0);
    expect(compareDecimals('-2', '1')).toBe(-1);
    expect(compareDecimals(undefined, '0.000')).toBe(0);
    expect(compareDecimals('0.0000000000000001', undefined)).toBe(1);
  });

  it('refuses what is not a decimal', () => {
    expect(isDecimal('1e5')).toBe(false);
    expect(isDecimal('12,5')).toBe(false);
    expect(isDecimal('-3.')).toBe(true);
    expect(() => addDecimals('1', 'NaN')).toThrow(NotADecimalError);
  });
});
