import {
  decideView,
  numbersAgree,
  parseTimestamp,
  viewMatchPattern,
  viewOf,
  ViewComparison,
  type FeatureViewSpec,
} from '../../../lambdas/shared/features/compare';
import { validateViews } from '../../../lambdas/shared/features/parity';

const INSTRUMENT: FeatureViewSpec = {
  view: 'feature:instrument',
  absoluteTolerance: 0.01,
  relativeTolerance: 0.001,
  timestampField: 'asOf',
  clockSkewSeconds: 5,
};

const hash = (key: string, fields: Record<string, string>) => ({ key, fields });

function compareOne(
  spec: FeatureViewSpec,
  offline: Record<string, string> | undefined,
  online: Record<string, string> | undefined,
) {
  const c = new ViewComparison(spec);
  const key = `${spec.view}:MSFT`;
  c.compare(key, offline && hash(key, offline), online && hash(key, online));
  return c.figures();
}

describe('tolerances', () => {
  it('numbers agree within the absolute OR the relative tolerance (math.isclose)', () => {
    expect(numbersAgree(414.2, 414.21, 0.01, 0).within).toBe(true);
    expect(numbersAgree(414.2, 414.6, 0.01, 0.001).within).toBe(true); // 0.4 ≤ 0.001 × 414.6
    expect(numbersAgree(414.2, 415, 0.01, 0.001).within).toBe(false);
    expect(numbersAgree(0, 0, 0, 0)).toEqual({ within: true, absDeviation: 0, relDeviation: 0 });
    expect(numbersAgree(100, 110, 0, 0).relDeviation).toBeCloseTo(10 / 110);
  });

  it('timestamps: ISO-8601, epoch seconds, milliseconds; anything else is not a timestamp', () => {
    expect(parseTimestamp('2026-11-27T00:00:05Z')).toBe(Date.UTC(2026, 10, 27, 0, 0, 5));
    expect(parseTimestamp('1795737605')).toBe(1795737605000);
    expect(parseTimestamp('1795737605123')).toBe(1795737605123);
    expect(parseTimestamp('yesterday')).toBeUndefined();
  });

  it('a value within tolerance is consistent; its deviation is reported', () => {
    const f = compareOne(
      INSTRUMENT,
      { referencePrice: '414.20', asOf: '2026-11-27T00:00:05Z' },
      { referencePrice: '414.205', asOf: '2026-11-27T00:00:08Z' },
    );
    expect(f).toMatchObject({ keysCompared: 1, mismatches: 0, numericFieldsCompared: 1, maxSkewSeconds: 3 });
    expect(f.maxAbsDeviation).toBeCloseTo(0.005);
    expect(decideView(INSTRUMENT, f).decision).toBe('consistent');
  });

  it('a value beyond tolerance quarantines the view, naming key, field and both values', () => {
    const f = compareOne(INSTRUMENT, { referencePrice: '414.20' }, { referencePrice: '420' });
    expect(f.samples.mismatches).toEqual([
      expect.objectContaining({
        key: 'feature:instrument:MSFT',
        field: 'referencePrice',
        kind: 'numeric',
        offline: '414.20',
        online: '420',
      }),
    ]);
    const { decision, reason } = decideView(INSTRUMENT, f);
    expect(decision).toBe('quarantine');
    expect(reason).toMatch(
      /1 value\(s\) beyond tolerance: 1 numeric \(e\.g\. feature:instrument:MSFT referencePrice: snapshot 414\.20, online 420\)/,
    );
  });

  it('clock skew beyond the view’s tolerance is a mismatch; an unparseable timestamp too', () => {
    const skewed = compareOne(INSTRUMENT, { asOf: '2026-11-27T00:00:05Z' }, { asOf: '2026-11-27T00:00:15Z' });
    expect(skewed).toMatchObject({ mismatches: 1, maxSkewSeconds: 10, mismatchesByKind: { timestamp: 1 } });
    const garbled = compareOne(INSTRUMENT, { asOf: '2026-11-27T00:00:05Z' }, { asOf: 'soon' });
    expect(garbled.mismatchesByKind.timestamp).toBe(1);
  });

  it('text, type and field-set differences count as mismatches', () => {
    const spec = { view: 'feature:instrument' };
    expect(compareOne(spec, { regime: 'calm' }, { regime: 'stressed' }).mismatchesByKind.text).toBe(1);
    expect(compareOne(spec, { a: '1', b: '2' }, { a: '1', c: '2' }).mismatchesByKind).toMatchObject({
      'missing-field': 1,
      'extra-field': 1,
    });
    const c = new ViewComparison(spec);
    c.compare(
      'feature:instrument:X',
      { key: 'feature:instrument:X', value: '1' },
      hash('feature:instrument:X', { v: '1' }),
    );
    expect(c.figures().mismatchesByKind.type).toBe(1);
  });

  it('exact by default: strings that are numbers must be equal numbers ("1.50" = "1.5")', () => {
    const spec = { view: 'feature:exposure' };
    const c = new ViewComparison(spec);
    c.compare(
      'feature:exposure:A:B',
      { key: 'feature:exposure:A:B', value: '1.50' },
      { key: 'feature:exposure:A:B', value: '1.5' },
    );
    c.compare(
      'feature:exposure:A:C',
      { key: 'feature:exposure:A:C', value: '0' },
      { key: 'feature:exposure:A:C', value: '0.0001' },
    );
    expect(c.figures()).toMatchObject({ keysCompared: 2, mismatches: 1 });
  });
});

describe('decideView', () => {
  const spec = { view: 'feature:exposure' };

  it('missing and extra keys with agreeing values: rebuild from the snapshot', () => {
    const c = new ViewComparison(spec);
    c.compare('feature:exposure:A:B', { key: 'feature:exposure:A:B', value: '0' }, undefined);
    c.compare('feature:exposure:A:C', undefined, { key: 'feature:exposure:A:C', value: '0' });
    c.compare(
      'feature:exposure:A:D',
      { key: 'feature:exposure:A:D', value: '0' },
      { key: 'feature:exposure:A:D', value: '0' },
    );
    const f = c.figures();
    expect(f).toMatchObject({ keysOffline: 2, keysOnline: 2, keysCompared: 1, missingKeys: 1, extraKeys: 1 });
    expect(c.extraKeys).toEqual(['feature:exposure:A:C']);
    expect(decideView(spec, f)).toEqual({
      decision: 'rebuild',
      reason:
        '1 key(s) missing online and 1 extra online; values of the 1 keys on both sides within tolerance',
    });
  });

  it('value drift rebuilds instead when the view says so', () => {
    const c = new ViewComparison({ ...spec, onValueDrift: 'rebuild' });
    c.compare(
      'feature:exposure:A:B',
      { key: 'feature:exposure:A:B', value: '1' },
      { key: 'feature:exposure:A:B', value: '2' },
    );
    expect(decideView({ ...spec, onValueDrift: 'rebuild' }, c.figures()).decision).toBe('rebuild');
  });

  it('online keys of a view the snapshot has nothing of: quarantine (nothing to rebuild from)', () => {
    const c = new ViewComparison(spec);
    c.compare('feature:exposure:A:B', undefined, { key: 'feature:exposure:A:B', value: '0' });
    expect(decideView(spec, c.figures()).decision).toBe('quarantine');
  });

  it('empty on both sides is consistent', () => {
    expect(decideView(spec, new ViewComparison(spec).figures())).toEqual({
      decision: 'consistent',
      reason: 'no keys on either side',
    });
  });
});

describe('views', () => {
  it('a key belongs to the longest matching view', () => {
    const views = ['feature', 'feature:instrument', 'feature:instrument:intraday'];
    expect(viewOf('feature:instrument:MSFT', views)).toBe('feature:instrument');
    expect(viewOf('feature:instrument:intraday:MSFT', views)).toBe('feature:instrument:intraday');
    expect(viewOf('feature:exposure:A:B', views)).toBe('feature');
    expect(viewOf('features:x', views)).toBeUndefined();
  });

  it('SCAN patterns escape glob characters', () => {
    expect(viewMatchPattern('feature:instrument')).toBe('feature:instrument:*');
    expect(viewMatchPattern('f[1]*?')).toBe('f\\[1\\]\\*\\?:*');
  });

  it('bad view lists are refused with what is wrong', () => {
    expect(() => validateViews([])).toThrow('no feature view to compare');
    expect(() => validateViews([{ view: 'feature:' }])).toThrow(/without a trailing colon/);
    expect(() => validateViews([{ view: 'a' }, { view: 'a' }])).toThrow("feature view 'a' is listed twice");
    expect(() => validateViews([{ view: 'a', relativeTolerance: -1 }])).toThrow(
      "feature view 'a': relativeTolerance must be a number ≥ 0, got -1",
    );
  });
});
