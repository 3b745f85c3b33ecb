/**
 * FeatureParityCoordinator (runbook "Data Loss Mitigation & Validation": "compare offline
 * feature snapshots with the rehydrated online store. Rebuild or quarantine any feature
 * view that exceeds numeric or clock-skew tolerances").
 *
 * 1. The offline snapshot (the latest complete one, or a given id) is verified against its
 *    manifest — size, SHA-256, parts, record count — while its records are read; nothing
 *    is compared with a snapshot that does not verify.
 * 2. Each feature view (a key prefix) is compared with the online store (Redis, SCAN per
 *    view) by the pure rules of compare.ts, and decided: consistent, rebuild or quarantine.
 * 3. With `apply`: a view to rebuild is re-hydrated from the verified snapshot with the
 *    hydration's replay commands (view-replay.ts), its extra keys deleted, and compared
 *    again — still inconsistent, or the rebuild failing, quarantines it. A view to
 *    quarantine gets the key `feature-view:<view>:quarantined` (JSON: reason, snapshot,
 *    figures), which strategies must check before reading the view. Without `apply`
 *    nothing is written: the report says what would be done.
 * A quarantine is lifted only on request (`liftQuarantine`) and only for a view that is
 * consistent now.
 */
import type { Redis } from 'ioredis';
import { InvalidInputError } from '../errors';
import { FEATURE_SNAPSHOT_KIND, type FeatureRecord } from '../feature-snapshot';
import {
  ManifestInvalidError,
  ManifestMismatchError,
  verifyAgainstManifest,
  type Manifest,
} from '../manifest';
import { scanFeatureRecords } from '../adapters/redis/feature-records';
import {
  LineSplitter,
  MalformedFeatureRecordError,
  parseFeatureLine,
  replayCommands,
} from '../adapters/redis/feature-replay';
import { SnapshotNotFoundError } from '../adapters/redis/ioredis-adapter';
import {
  latestSnapshotId,
  type SnapshotFileVersion,
  type SnapshotSource,
} from '../adapters/redis/snapshot-source';
import {
  decideView,
  viewMatchPattern,
  viewOf,
  ViewComparison,
  type FeatureViewSpec,
  type ViewDecision,
  type ViewFigures,
} from './compare';
import { replayView } from './view-replay';

/** TradePulse's feature views and their tolerances (the drill seeds both). */
export const DEFAULT_FEATURE_VIEWS: readonly FeatureViewSpec[] = [
  {
    view: 'feature:instrument',
    absoluteTolerance: 0,
    relativeTolerance: 1e-6,
    timestampField: 'asOf',
    clockSkewSeconds: 5,
  },
  { view: 'feature:exposure', absoluteTolerance: 0, relativeTolerance: 0 },
];

export const quarantineKey = (view: string) => `feature-view:${view}:quarantined`;
export const rebuiltKey = (view: string) => `feature-view:${view}:rebuilt`;

export interface QuarantineMarker {
  view: string;
  reason: string;
  since: string;
  decidedAt: string;
  snapshot: string;
  figures: Pick<
    ViewFigures,
    | 'keysCompared'
    | 'missingKeys'
    | 'extraKeys'
    | 'mismatches'
    | 'maxAbsDeviation'
    | 'maxRelDeviation'
    | 'maxSkewSeconds'
  >;
}

export type ViewAction = 'none' | 'rebuilt' | 'quarantined' | 'would-rebuild' | 'would-quarantine';

export interface ViewReport {
  view: string;
  tolerance: Required<Omit<FeatureViewSpec, 'view' | 'timestampField'>> & { timestampField: string | null };
  decision: ViewDecision;
  reason: string;
  figures: ViewFigures;
  action: ViewAction;
  /** A rebuild: what it wrote and deleted, and the view compared again afterwards. */
  rebuild?: {
    keysWritten: number;
    keysDeleted: number;
    figures?: ViewFigures;
    consistent: boolean;
    error?: string;
  };
  /** Usable by strategies after this run: consistent (or rebuilt) and not quarantined. */
  usable: boolean;
  /** The view's quarantine after this run, if it is quarantined. */
  quarantine?: { key: string; marker: QuarantineMarker; setNow: boolean };
  /** A quarantine lifted by this run (liftQuarantine, view consistent). */
  quarantineLifted?: boolean;
}

export interface FeatureParityReport {
  snapshot: {
    id: string;
    location: string;
    createdAt: string;
    files: number;
    records: number;
    verified: true;
  };
  checkedAt: string;
  applied: boolean;
  views: ViewReport[];
  /** Snapshot records of no configured view (not compared). */
  unassignedOfflineRecords: number;
  /** Every view usable after this run. */
  allUsable: boolean;
}

export interface FeatureParityOptions {
  /** The online store (the promoted Redis); the caller owns the connection. */
  readonly redis: Redis;
  readonly snapshots: SnapshotSource;
  /** @default DEFAULT_FEATURE_VIEWS */
  readonly views?: readonly FeatureViewSpec[];
  /** @default the latest complete snapshot */
  readonly snapshotId?: string;
  /** Rebuild and quarantine; otherwise only report what would be done. @default false */
  readonly apply?: boolean;
  /** Lift the quarantine of views that are consistent now. @default false */
  readonly liftQuarantine?: boolean;
  /** @default Date.now */
  readonly now?: () => number;
  /** Records per MULTI/EXEC when rebuilding. @default 500 */
  readonly batchSize?: number;
  /** SCAN COUNT hint. @default 500 */
  readonly scanCount?: number;
}

interface OfflineSnapshot {
  id: string;
  manifest: Manifest;
  pins: Map<string, SnapshotFileVersion>;
  records: number;
  byView: Map<string, Map<string, FeatureRecord>>;
  expiredByView: Map<string, number>;
  unassigned: number;
}

export class FeatureParityCoordinator {
  private readonly views: readonly FeatureViewSpec[];
  private readonly now: () => number;

  constructor(private readonly opts: FeatureParityOptions) {
    this.views = opts.views ?? DEFAULT_FEATURE_VIEWS;
    this.now = opts.now ?? Date.now;
    validateViews(this.views);
  }

  async run(): Promise<FeatureParityReport> {
    const nowMs = this.now();
    const snapshot = await this.readSnapshot(nowMs);
    const names = this.views.map((v) => v.view);
    const reports: ViewReport[] = [];
    for (const spec of this.views) reports.push(await this.checkView(spec, names, snapshot, nowMs));
    return {
      snapshot: {
        id: snapshot.id,
        location: this.opts.snapshots.location,
        createdAt: snapshot.manifest.createdAt,
        files: snapshot.manifest.files.length,
        records: snapshot.records,
        verified: true,
      },
      checkedAt: new Date(nowMs).toISOString(),
      applied: this.opts.apply === true,
      views: reports,
      unassignedOfflineRecords: snapshot.unassigned,
      allUsable: reports.every((r) => r.usable),
    };
  }

  /** Verifies every file against the manifest while parsing its records, grouping them by view. */
  private async readSnapshot(nowMs: number): Promise<OfflineSnapshot> {
    const source = this.opts.snapshots;
    const id = this.opts.snapshotId ?? latestSnapshotId(await source.listSnapshots());
    if (!id)
      throw new SnapshotNotFoundError(`no complete feature snapshot in ${source.location}`, {
        location: source.location,
      });
    const manifest = await source.readManifest(id).catch((err: unknown) => {
      if ((err as Error).name === 'NoSuchKey')
        throw new SnapshotNotFoundError(`no feature snapshot ${id} in ${source.location}`, { snapshot: id });
      throw err;
    });
    if (manifest.kind !== FEATURE_SNAPSHOT_KIND)
      throw new ManifestInvalidError(`snapshot ${id} is a ${manifest.kind}, not a ${FEATURE_SNAPSHOT_KIND}`);
    const names = this.views.map((v) => v.view);
    const byView = new Map(names.map((v) => [v, new Map<string, FeatureRecord>()]));
    const expiredByView = new Map(names.map((v) => [v, 0]));
    const pins = new Map<string, SnapshotFileVersion>();
    const createdAtMs = Date.parse(manifest.createdAt);
    const malformed: string[] = [];
    let records = 0;
    let unassigned = 0;
    const take = (line: string, where: string) => {
      let record: FeatureRecord;
      try {
        record = parseFeatureLine(line, where);
      } catch (err) {
        if (malformed.length < 20) malformed.push((err as Error).message);
        return;
      }
      records += 1;
      const view = viewOf(record.key, names);
      if (view === undefined) return void (unassigned += 1);
      if (replayCommands(record, createdAtMs, nowMs) === 'expired') {
        byView.get(view)!.delete(record.key);
        expiredByView.set(view, expiredByView.get(view)! + 1);
      } else byView.get(view)!.set(record.key, record);
    };
    await verifyAgainstManifest(manifest, async (file) => {
      const opened = await source.openFile(id, file.path);
      if (!opened) return null;
      pins.set(file.path, opened.version);
      return (async function* parsingAlong() {
        const splitter = new LineSplitter();
        let lineNo = 0;
        for await (const chunk of opened.body) {
          for (const line of splitter.push(chunk)) take(line, `${file.path}:${(lineNo += 1)}`);
          yield chunk;
        }
        for (const line of splitter.end()) take(line, `${file.path}:${(lineNo += 1)}`);
      })();
    });
    if (malformed.length > 0)
      throw new MalformedFeatureRecordError(`snapshot ${id} has malformed records: ${malformed.join('; ')}`, {
        snapshot: id,
        malformed,
      });
    const declared = manifest.metadata.recordCount;
    if (typeof declared === 'number' && declared !== records)
      throw new ManifestMismatchError(
        `snapshot ${id} declares ${declared} records, its files hold ${records}`,
        [{ path: '*', problem: 'content', expected: declared, actual: records, detail: 'record count' }],
      );
    return { id, manifest, pins, records, byView, expiredByView, unassigned };
  }

  /** The view's online keys against its snapshot records. */
  private async compareView(
    spec: FeatureViewSpec,
    names: string[],
    snapshot: OfflineSnapshot,
  ): Promise<ViewComparison> {
    const comparison = new ViewComparison(spec);
    for (let i = 0; i < snapshot.expiredByView.get(spec.view)!; i++) comparison.expiredOffline();
    const offline = snapshot.byView.get(spec.view)!;
    const seen = new Set<string>();
    const online = scanFeatureRecords(this.opts.redis, {
      match: viewMatchPattern(spec.view),
      count: this.opts.scanCount ?? 500,
    });
    for await (const record of online) {
      if (viewOf(record.key, names) !== spec.view) continue; // a more specific view's key
      seen.add(record.key);
      comparison.compare(record.key, offline.get(record.key), record);
    }
    for (const [key, record] of [...offline].sort(([a], [b]) => (a < b ? -1 : 1)))
      if (!seen.has(key)) comparison.compare(key, record, undefined);
    return comparison;
  }

  private async checkView(
    spec: FeatureViewSpec,
    names: string[],
    snapshot: OfflineSnapshot,
    nowMs: number,
  ): Promise<ViewReport> {
    const redis = this.opts.redis;
    const apply = this.opts.apply === true;
    const comparison = await this.compareView(spec, names, snapshot);
    const figures = comparison.figures();
    const { decision, reason } = decideView(spec, figures);
    const base = {
      view: spec.view,
      tolerance: {
        absoluteTolerance: spec.absoluteTolerance ?? 0,
        relativeTolerance: spec.relativeTolerance ?? 0,
        timestampField: spec.timestampField ?? null,
        clockSkewSeconds: spec.clockSkewSeconds ?? 0,
        onValueDrift: spec.onValueDrift ?? 'quarantine',
      },
      decision,
      reason,
      figures,
    };
    const existing = parseMarker(await redis.get(quarantineKey(spec.view)));
    const quarantine = async (why: string, figs: ViewFigures): Promise<ViewReport['quarantine']> => {
      const marker: QuarantineMarker = {
        view: spec.view,
        reason: why,
        since: existing?.since ?? new Date(nowMs).toISOString(),
        decidedAt: new Date(nowMs).toISOString(),
        snapshot: snapshot.id,
        figures: {
          keysCompared: figs.keysCompared,
          missingKeys: figs.missingKeys,
          extraKeys: figs.extraKeys,
          mismatches: figs.mismatches,
          maxAbsDeviation: figs.maxAbsDeviation,
          maxRelDeviation: figs.maxRelDeviation,
          maxSkewSeconds: figs.maxSkewSeconds,
        },
      };
      if (apply) await redis.set(quarantineKey(spec.view), JSON.stringify(marker));
      return { key: quarantineKey(spec.view), marker, setNow: apply };
    };
    /** A consistent view: usable unless quarantined before and not lifted. */
    const consistentNow = async (): Promise<
      Pick<ViewReport, 'usable' | 'quarantine' | 'quarantineLifted'>
    > => {
      if (!existing) return { usable: true };
      if (apply && this.opts.liftQuarantine) {
        await redis.del(quarantineKey(spec.view));
        return { usable: true, quarantineLifted: true };
      }
      return {
        usable: false,
        quarantine: { key: quarantineKey(spec.view), marker: existing, setNow: false },
      };
    };

    if (decision === 'consistent') return { ...base, action: 'none', ...(await consistentNow()) };
    if (decision === 'quarantine') {
      return {
        ...base,
        action: apply ? 'quarantined' : 'would-quarantine',
        usable: false,
        quarantine: await quarantine(reason, figures),
      };
    }
    if (!apply)
      return {
        ...base,
        action: 'would-rebuild',
        usable: false,
        ...(existing
          ? { quarantine: { key: quarantineKey(spec.view), marker: existing, setNow: false } }
          : {}),
      };

    // Rebuild: re-hydrate from the verified snapshot, delete extra keys, compare again.
    let keysWritten = 0;
    let keysDeleted = 0;
    try {
      ({ keysWritten } = await replayView({
        redis,
        source: this.opts.snapshots,
        snapshotId: snapshot.id,
        manifest: snapshot.manifest,
        pins: snapshot.pins,
        belongs: (key) => viewOf(key, names) === spec.view,
        nowMs,
        ...(this.opts.batchSize ? { batchSize: this.opts.batchSize } : {}),
      }));
      for (let i = 0; i < comparison.extraKeys.length; i += 500)
        keysDeleted += await redis.del(...comparison.extraKeys.slice(i, i + 500));
      await redis.set(
        rebuiltKey(spec.view),
        JSON.stringify({
          snapshot: snapshot.id,
          at: new Date(nowMs).toISOString(),
          keysWritten,
          keysDeleted,
        }),
      );
    } catch (err) {
      const error = (err as Error).message;
      return {
        ...base,
        action: 'quarantined',
        rebuild: { keysWritten, keysDeleted, consistent: false, error },
        usable: false,
        quarantine: await quarantine(`rebuild failed: ${error}`, figures),
      };
    }
    const after = (await this.compareView(spec, names, snapshot)).figures();
    const again = decideView(spec, after);
    if (again.decision !== 'consistent')
      return {
        ...base,
        action: 'quarantined',
        rebuild: { keysWritten, keysDeleted, figures: after, consistent: false },
        usable: false,
        quarantine: await quarantine(`still inconsistent after a rebuild: ${again.reason}`, after),
      };
    return {
      ...base,
      action: 'rebuilt',
      rebuild: { keysWritten, keysDeleted, figures: after, consistent: true },
      ...(await consistentNow()),
    };
  }
}

function parseMarker(raw: string | null): QuarantineMarker | undefined {
  if (raw === null) return undefined;
  try {
    const m = JSON.parse(raw) as Partial<QuarantineMarker>;
    if (typeof m.reason === 'string') return m as QuarantineMarker;
  } catch {
    // not ours: still a quarantine
  }
  return {
    view: '',
    reason: raw,
    since: '',
    decidedAt: '',
    snapshot: '',
    figures: {
      keysCompared: 0,
      missingKeys: 0,
      extraKeys: 0,
      mismatches: 0,
      maxAbsDeviation: 0,
      maxRelDeviation: 0,
      maxSkewSeconds: 0,
    },
  };
}

/** Views must be distinct, non-empty key prefixes with tolerances ≥ 0. */
export function validateViews(views: readonly FeatureViewSpec[]): void {
  if (views.length === 0) throw new InvalidInputError('no feature view to compare');
  const seen = new Set<string>();
  for (const v of views) {
    if (!v.view || v.view.endsWith(':') || /\s/.test(v.view))
      throw new InvalidInputError(
        `feature view '${v.view}' must be a key prefix without a trailing colon or spaces, e.g. feature:instrument`,
      );
    if (seen.has(v.view)) throw new InvalidInputError(`feature view '${v.view}' is listed twice`);
    seen.add(v.view);
    for (const name of ['absoluteTolerance', 'relativeTolerance', 'clockSkewSeconds'] as const) {
      const value = v[name];
      if (value !== undefined && !(Number.isFinite(value) && value >= 0))
        throw new InvalidInputError(`feature view '${v.view}': ${name} must be a number ≥ 0, got ${value}`);
    }
    if (v.onValueDrift !== undefined && v.onValueDrift !== 'quarantine' && v.onValueDrift !== 'rebuild')
      throw new InvalidInputError(`feature view '${v.view}': onValueDrift must be quarantine or rebuild`);
  }
}
