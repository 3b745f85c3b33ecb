/**
 * Feature parity, the pure part: comparing one feature VIEW (a key prefix such as
 * `feature:instrument`) of the offline snapshot with the online store, record by record,
 * and deciding what becomes of the view. No I/O here; parity.ts reads both sides.
 *
 * Comparison of two records of the same key:
 *  - a hash with a hash field by field, a string with a string as one value; a hash
 *    against a string is a type mismatch;
 *  - the view's timestamp field (e.g. `asOf`: ISO-8601, or epoch seconds/milliseconds) must
 *    agree within the view's clock-skew tolerance;
 *  - two numbers agree when |a − b| ≤ max(relative × max(|a|, |b|), absolute) (the rule of
 *    Python's math.isclose); the defaults (0, 0) demand equal numbers;
 *  - anything else must be equal as text; a field on one side only is a mismatch.
 * TTLs are not compared (the online TTL counts down, the snapshot's is fixed).
 */
import type { FeatureRecord } from '../feature-snapshot';

export interface FeatureViewSpec {
  /** Key prefix of the view, without the trailing colon: keys are `<view>:…`. */
  readonly view: string;
  /** @default 0 */
  readonly absoluteTolerance?: number;
  /** @default 0 */
  readonly relativeTolerance?: number;
  /** Field of the view's hashes holding the feature's timestamp, compared within `clockSkewSeconds`. */
  readonly timestampField?: string;
  /** @default 0 */
  readonly clockSkewSeconds?: number;
  /** What values beyond tolerance lead to. @default 'quarantine' (neither side can be trusted over the other) */
  readonly onValueDrift?: 'quarantine' | 'rebuild';
}

export type MismatchKind = 'numeric' | 'text' | 'type' | 'timestamp' | 'missing-field' | 'extra-field';

export interface FieldMismatch {
  key: string;
  /** Hash field; absent for string values. */
  field?: string;
  kind: MismatchKind;
  offline?: string;
  online?: string;
  absDeviation?: number;
  relDeviation?: number;
  skewSeconds?: number;
}

export interface ViewFigures {
  /** Snapshot records of the view still alive now (their TTL not run out). */
  keysOffline: number;
  /** Snapshot records of the view whose TTL has run out since the snapshot (not expected online). */
  keysExpiredOffline: number;
  keysOnline: number;
  /** Keys on both sides, compared value by value. */
  keysCompared: number;
  /** In the snapshot, not online. */
  missingKeys: number;
  /** Online, not in the snapshot. */
  extraKeys: number;
  fieldsCompared: number;
  numericFieldsCompared: number;
  /** Values beyond tolerance, text and type differences, fields on one side only. */
  mismatches: number;
  mismatchesByKind: Record<MismatchKind, number>;
  maxAbsDeviation: number;
  maxRelDeviation: number;
  /** Largest timestamp difference seen, in seconds. */
  maxSkewSeconds: number;
  /** Up to SAMPLE_LIMIT of each, for the report. */
  samples: { missingKeys: string[]; extraKeys: string[]; mismatches: FieldMismatch[] };
}

export type ViewDecision = 'consistent' | 'rebuild' | 'quarantine';

export const SAMPLE_LIMIT = 10;

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function parseNumber(value: string): number | undefined {
  if (!NUMBER.test(value.trim())) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** Milliseconds since the epoch: ISO-8601, or a number of seconds (< 1e11), milliseconds (< 1e14) or microseconds. */
export function parseTimestamp(value: string): number | undefined {
  const n = parseNumber(value);
  if (n !== undefined) {
    const abs = Math.abs(n);
    return abs < 1e11 ? n * 1000 : abs < 1e14 ? n : n / 1000;
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value.trim())) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The view a key belongs to: the longest view prefix followed by a colon. */
export function viewOf(key: string, views: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const view of views)
    if (key.startsWith(`${view}:`) && (best === undefined || view.length > best.length)) best = view;
  return best;
}

/** A Redis SCAN MATCH pattern for the keys of a view (glob characters in its name escaped). */
export function viewMatchPattern(view: string): string {
  return `${view.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}:*`;
}

export interface ToleranceCheck {
  within: boolean;
  absDeviation: number;
  relDeviation: number;
}

export function numbersAgree(a: number, b: number, absolute: number, relative: number): ToleranceCheck {
  const absDeviation = Math.abs(a - b);
  const scale = Math.max(Math.abs(a), Math.abs(b));
  const relDeviation = scale === 0 ? 0 : absDeviation / scale;
  return { within: absDeviation <= Math.max(relative * scale, absolute), absDeviation, relDeviation };
}

/** Accumulates the comparison of one view, record pair by record pair. */
export class ViewComparison {
  private readonly f: ViewFigures = {
    keysOffline: 0,
    keysExpiredOffline: 0,
    keysOnline: 0,
    keysCompared: 0,
    missingKeys: 0,
    extraKeys: 0,
    fieldsCompared: 0,
    numericFieldsCompared: 0,
    mismatches: 0,
    mismatchesByKind: { numeric: 0, text: 0, type: 0, timestamp: 0, 'missing-field': 0, 'extra-field': 0 },
    maxAbsDeviation: 0,
    maxRelDeviation: 0,
    maxSkewSeconds: 0,
    samples: { missingKeys: [], extraKeys: [], mismatches: [] },
  };
  /** Every extra key (a rebuild deletes them), not only the sample. */
  readonly extraKeys: string[] = [];
  private readonly absolute: number;
  private readonly relative: number;
  private readonly skew: number;

  constructor(readonly spec: FeatureViewSpec) {
    this.absolute = spec.absoluteTolerance ?? 0;
    this.relative = spec.relativeTolerance ?? 0;
    this.skew = spec.clockSkewSeconds ?? 0;
    for (const [name, v] of [
      ['absoluteTolerance', this.absolute],
      ['relativeTolerance', this.relative],
      ['clockSkewSeconds', this.skew],
    ] as const)
      if (!(Number.isFinite(v) && v >= 0))
        throw new RangeError(`view ${spec.view}: ${name} must be a number ≥ 0`);
  }

  /** A snapshot record whose TTL has run out since the snapshot: not expected online. */
  expiredOffline(): void {
    this.f.keysExpiredOffline += 1;
  }

  /** One key: its snapshot record (alive now) and/or its online record. */
  compare(key: string, offline: FeatureRecord | undefined, online: FeatureRecord | undefined): void {
    if (offline) this.f.keysOffline += 1;
    if (online) this.f.keysOnline += 1;
    if (offline && !online) {
      this.f.missingKeys += 1;
      if (this.f.samples.missingKeys.length < SAMPLE_LIMIT) this.f.samples.missingKeys.push(key);
      return;
    }
    if (online && !offline) {
      this.f.extraKeys += 1;
      this.extraKeys.push(key);
      if (this.f.samples.extraKeys.length < SAMPLE_LIMIT) this.f.samples.extraKeys.push(key);
      return;
    }
    if (!offline || !online) return;
    this.f.keysCompared += 1;
    const offHash = 'fields' in offline;
    const onHash = 'fields' in online;
    if (offHash !== onHash) {
      this.mismatch({
        key,
        kind: 'type',
        offline: offHash ? 'hash' : 'string',
        online: onHash ? 'hash' : 'string',
      });
      return;
    }
    if ('value' in offline && 'value' in online) {
      this.field(key, undefined, offline.value, online.value);
      return;
    }
    const a = (offline as { fields: Record<string, string> }).fields;
    const b = (online as { fields: Record<string, string> }).fields;
    for (const field of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!(field in b)) this.mismatch({ key, field, kind: 'missing-field', offline: a[field] });
      else if (!(field in a)) this.mismatch({ key, field, kind: 'extra-field', online: b[field] });
      else this.field(key, field, a[field]!, b[field]!);
    }
  }

  private field(key: string, field: string | undefined, offline: string, online: string): void {
    this.f.fieldsCompared += 1;
    if (field !== undefined && field === this.spec.timestampField) {
      const ta = parseTimestamp(offline);
      const tb = parseTimestamp(online);
      if (ta === undefined || tb === undefined) {
        if (offline !== online) this.mismatch({ key, field, kind: 'timestamp', offline, online });
        return;
      }
      const skewSeconds = Math.abs(ta - tb) / 1000;
      this.f.maxSkewSeconds = Math.max(this.f.maxSkewSeconds, skewSeconds);
      if (skewSeconds > this.skew)
        this.mismatch({ key, field, kind: 'timestamp', offline, online, skewSeconds });
      return;
    }
    const na = parseNumber(offline);
    const nb = parseNumber(online);
    if (na !== undefined && nb !== undefined) {
      this.f.numericFieldsCompared += 1;
      const check = numbersAgree(na, nb, this.absolute, this.relative);
      this.f.maxAbsDeviation = Math.max(this.f.maxAbsDeviation, check.absDeviation);
      this.f.maxRelDeviation = Math.max(this.f.maxRelDeviation, check.relDeviation);
      if (!check.within)
        this.mismatch({
          key,
          ...(field === undefined ? {} : { field }),
          kind: 'numeric',
          offline,
          online,
          absDeviation: check.absDeviation,
          relDeviation: check.relDeviation,
        });
      return;
    }
    if (offline !== online)
      this.mismatch({ key, ...(field === undefined ? {} : { field }), kind: 'text', offline, online });
  }

  private mismatch(m: FieldMismatch): void {
    this.f.mismatches += 1;
    this.f.mismatchesByKind[m.kind] += 1;
    if (this.f.samples.mismatches.length < SAMPLE_LIMIT) this.f.samples.mismatches.push(m);
  }

  figures(): ViewFigures {
    return structuredClone(this.f);
  }
}

/**
 * What becomes of a view:
 *  - consistent: every key on both sides, every value within tolerance;
 *  - quarantine: values beyond tolerance (numeric, timestamp skew, text, type, fields on one
 *    side) — the two sides disagree and neither is known to be right, so strategies must
 *    not use the view until someone looks (unless the view says `onValueDrift: 'rebuild'`);
 *    also when the snapshot holds nothing of a view the online store has (nothing to
 *    rebuild from);
 *  - rebuild: only keys missing online or extra online — an incomplete or polluted
 *    hydration, which re-hydrating the view from the (verified) snapshot repairs.
 */
export function decideView(
  spec: FeatureViewSpec,
  f: ViewFigures,
): { decision: ViewDecision; reason: string } {
  const keyProblems = f.missingKeys + f.extraKeys;
  if (keyProblems === 0 && f.mismatches === 0)
    return {
      decision: 'consistent',
      reason:
        f.keysCompared === 0
          ? 'no keys on either side'
          : `${f.keysCompared} keys within tolerance (max abs ${f.maxAbsDeviation}, max rel ${f.maxRelDeviation}, max skew ${f.maxSkewSeconds}s)`,
    };
  if (f.keysOffline === 0)
    return {
      decision: 'quarantine',
      reason: `the snapshot holds no key of this view but the online store has ${f.keysOnline}: nothing to rebuild from`,
    };
  if (f.mismatches > 0) {
    const kinds = Object.entries(f.mismatchesByKind)
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => `${n} ${kind}`)
      .join(', ');
    const example = f.samples.mismatches[0];
    const where = example
      ? ` (e.g. ${example.key}${example.field ? ` ${example.field}` : ''}: snapshot ${example.offline ?? '—'}, online ${example.online ?? '—'})`
      : '';
    const decision = spec.onValueDrift ?? 'quarantine';
    return {
      decision,
      reason: `${f.mismatches} value(s) beyond tolerance: ${kinds}${where}${keyProblems > 0 ? `; also ${f.missingKeys} missing and ${f.extraKeys} extra keys` : ''}`,
    };
  }
  return {
    decision: 'rebuild',
    reason: `${f.missingKeys} key(s) missing online and ${f.extraKeys} extra online; values of the ${f.keysCompared} keys on both sides within tolerance`,
  };
}
