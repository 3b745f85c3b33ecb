import { createHash } from 'node:crypto';
import { buildEvidenceReport } from '../../../report/build-report';
import { canonicalJson, EvidenceReportSchema, reportDigest, withinObjective } from '../../../report/model';
import { sampleInput } from './sample-input';

describe('EvidenceReportSchema', () => {
  const report = buildEvidenceReport(sampleInput());

  it('accepts a built report', () => {
    expect(EvidenceReportSchema.safeParse(report).success).toBe(true);
  });

  it('rejects a report missing rto.seconds, naming the field', () => {
    const { seconds: _dropped, ...rto } = report.rto;
    const result = EvidenceReportSchema.safeParse({ ...report, rto });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain('rto.seconds');
  });

  it('rejects an objective claimed as met that exceeds its objective, and one whose met and result disagree', () => {
    const objectives = report.objectives.map((o, i) =>
      i === 0 ? { ...o, measured: 61, objectiveSeconds: 60 } : i === 1 ? { ...o, met: false } : o,
    );
    const result = EvidenceReportSchema.safeParse({ ...report, objectives });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual([
      'objectives.0.met',
      'objectives.1.met',
    ]);
  });

  it('rejects unknown members and a timeline entry whose duration does not match its times', () => {
    expect(EvidenceReportSchema.safeParse({ ...report, extra: 1 }).success).toBe(false);
    const timeline = [{ ...report.timeline[0], durationMs: 1 }, ...report.timeline.slice(1)];
    const result = EvidenceReportSchema.safeParse({ ...report, timeline });
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['timeline.0.durationMs']);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth, integer-like keys as strings, and drops undefined members', () => {
    const value = { b: 1, a: { z: [3, { y: 2, x: undefined }], '10': 't', '9': 'n' } };
    expect(canonicalJson(value)).toBe('{"a":{"10":"t","9":"n","z":[3,{"y":2}]},"b":1}');
    expect(canonicalJson(value, 2)).toBe(
      '{\n  "a": {\n    "10": "t",\n    "9": "n",\n    "z": [\n      3,\n      {\n        "y": 2\n      }\n    ]\n  },\n  "b": 1\n}',
    );
    expect(JSON.parse(canonicalJson(value, 2))).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it('refuses values JSON cannot represent', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/not representable/);
  });

  it('the integrity digest is the SHA-256 of the compact canonical JSON without the integrity member', () => {
    const report = buildEvidenceReport(sampleInput());
    const { integrity: _i, ...unsigned } = report;
    const expected = createHash('sha256').update(canonicalJson(unsigned)).digest('hex');
    expect(reportDigest(report)).toBe(expected);
    expect(report.integrity.sha256).toBe(expected);
    expect(reportDigest({ ...report, runId: 'another' })).not.toBe(expected);
  });
});

describe('withinObjective', () => {
  it('is inclusive and exact to the millisecond', () => {
    expect(withinObjective(60, 60)).toBe(true);
    expect(withinObjective(60.0004, 60)).toBe(true); // below a millisecond: the same figure
    expect(withinObjective(60.001, 60)).toBe(false);
    expect(withinObjective(0.1 + 0.2, 0.3)).toBe(true); // floating-point noise does not flip the verdict
  });
});
