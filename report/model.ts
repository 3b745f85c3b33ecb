/**
 * The evidence report of one disaster-recovery run: the format, its schema and its
 * canonical form.
 *
 * A report is what an SRE or a compliance officer hands to a regulator: it says what
 * happened (timeline, per-step evidence), what was decided and by whom, how long trading
 * was down (RTO) and how much data was at risk or lost (RPO), measured against the
 * runbook's Recovery Objectives. `report.json` is the canonical JSON of an
 * `EvidenceReport` (keys sorted, 2-space indent); `integrity.sha256` is the SHA-256 of
 * the compact canonical JSON of the report without its `integrity` member, so anyone can
 * recompute it (the human page shows how).
 *
 * Conventions: every time is an ISO-8601 UTC timestamp; every duration is in seconds
 * (millisecond precision) unless the field name says `Ms`; `null` means "not measured"
 * and is never a stand-in for zero.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RUN_MODES } from '../lambdas/shared/run';

export const REPORT_VERSION = '1.0.0';

/** The stores the runbook's Recovery Objectives table covers and the workflow fails over. */
export const STORES = ['postgres', 'kafka', 'redis'] as const;
export type Store = (typeof STORES)[number];

/** The runbook's names for the stores (its Recovery Objectives table, "Capability" column). */
export const STORE_LABELS: Record<Store, string> = {
  postgres: 'PostgreSQL transactional data',
  kafka: 'Kafka critical topics (orders, fills, risk_events)',
  redis: 'Redis online feature cache',
};

/** The runbook's failover procedure, steps 1–6 (timeline entries may say which one they belong to). */
export const RUNBOOK_STEPS: Record<number, string> = {
  1: 'Declare incident',
  2: 'Stabilise data streams',
  3: 'Promote secondary stores',
  4: 'Repoint control plane',
  5: 'Verify health',
  6: 'Resume trading',
};

/**
 * How a run ended.
 * - `resumed`: trading resumed in the target region.
 * - `rejected` / `approval-timeout`: the human approval was refused or never came; trading stays frozen.
 * - `stopped-rpo-gate`: data at risk exceeded an RPO objective without an `allowDataLoss` decision; stopped before promotion.
 * - `verification-failed`: verification found a SEV-1 discrepancy; trading stays frozen.
 * - `refused-lock-held`: another DR run holds the single-flight lock; nothing was done.
 * - `invalid-input`: rejected in Declare before any lock or mutation.
 * - `dry-run-complete`: a dry run checked every step and changed nothing.
 * - `aborted`: the execution was stopped by an operator.
 * - `failed`: anything else that ended the run before trading resumed.
 */
export const REPORT_OUTCOMES = [
  'resumed',
  'rejected',
  'approval-timeout',
  'stopped-rpo-gate',
  'verification-failed',
  'refused-lock-held',
  'invalid-input',
  'dry-run-complete',
  'aborted',
  'failed',
] as const;
export type ReportOutcome = (typeof REPORT_OUTCOMES)[number];

/**
 * - `succeeded`: the state finished normally.
 * - `failed`: the state failed and nothing caught it (the execution failed).
 * - `caught`: the state failed and a Catch routed the run to its failure path.
 * - `retried`: this attempt failed and a Retry ran the state again (the next attempt is its own entry).
 * - `skipped`: the state was reached but did nothing by design (e.g. a dry run, a branch not needed).
 */
export const TIMELINE_STATUSES = ['succeeded', 'failed', 'caught', 'retried', 'skipped'] as const;
export type TimelineStatus = (typeof TIMELINE_STATUSES)[number];

/** The ASL state type, as far as the picture cares: `approval` is the `.waitForTaskToken` human wait. */
export const TIMELINE_KINDS = ['task', 'approval', 'wait', 'parallel', 'choice', 'pass'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export const STEP_ACTIONS = ['changed', 'no-op', 'dry-run', 'observed'] as const;

export const EXECUTION_STATUSES = ['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp' });
const seconds = z.number().nonnegative().finite();
const count = z.number().int().nonnegative();
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256');

const ErrorInfoSchema = z.object({ name: z.string().min(1), cause: z.string().nullable() }).strict();

export const TimelineEntrySchema = z
  .object({
    /** The step (Lambda) that ran in the state; the state name for states without one. */
    step: z.string().min(1),
    /** The ASL state name. */
    state: z.string().min(1),
    kind: z.enum(TIMELINE_KINDS),
    /** Runbook failover step 1–6 the state implements, when known. */
    runbookStep: z.number().int().min(1).max(6).nullable(),
    /** Parallel branch the state ran in, when any. */
    branch: z.string().min(1).nullable(),
    /** 1 for the first attempt; a Retry makes attempt 2, 3, … each its own entry. */
    attempt: z.number().int().min(1),
    start: isoTime,
    end: isoTime,
    durationMs: count,
    status: z.enum(TIMELINE_STATUSES),
    /** What the step's evidence says it did; null when the state returned no evidence. */
    action: z.enum(STEP_ACTIONS).nullable(),
    /** Time spent inside server operations (SQL, Kafka admin, AWS APIs), when the step measured it. */
    serverMs: count.nullable(),
    error: ErrorInfoSchema.nullable(),
  })
  .strict()
  .superRefine((e, ctx) => {
    const ms = Date.parse(e.end) - Date.parse(e.start);
    if (ms < 0) ctx.addIssue({ code: 'custom', path: ['end'], message: 'must not be before start' });
    else if (ms !== e.durationMs)
      ctx.addIssue({ code: 'custom', path: ['durationMs'], message: `must equal end - start (${ms})` });
  });
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

export const RtoSchema = z
  .object({
    /** What started the clock: the trigger (alarm state change) when known, else the declaration. */
    clockStart: z.enum(['trigger', 'declaration']),
    startedAt: isoTime,
    /** When the order gateway stopped accepting orders (null: trading was never paused, e.g. a dry run). */
    tradingPausedAt: isoTime.nullable(),
    /** When the order gateway accepted orders again in the target region (null: it did not). */
    tradingResumedAt: isoTime.nullable(),
    /** Clock start → trading resumed, approval wait included; null when trading did not resume. */
    seconds: seconds.nullable(),
    /** `seconds` minus the time spent waiting for the human approval. */
    excludingApprovalSeconds: seconds.nullable(),
    /** Time spent waiting for the human approval inside the RTO window (or the run, when trading did not resume). */
    approvalWaitSeconds: seconds,
    /** Trading paused → trading resumed: what the market saw. */
    tradingDowntimeSeconds: seconds.nullable(),
    /** Clock start → end of the run, whatever the outcome. */
    elapsedSeconds: seconds,
  })
  .strict();

const lagSchema = z.object({ bytes: count.nullable(), seconds: seconds.nullable() }).strict();

export const RpoSchema = z
  .object({
    postgres: z
      .object({
        replication: z.enum(['synchronous', 'asynchronous', 'unknown']),
        /** Standby replay lag when the run was declared: the data at risk had the primary vanished then. */
        lagAtDeclaration: lagSchema,
        /** What the workflow reported as at risk at the RPO gate, just before promotion. */
        atRiskReported: z
          .object({ bytes: count.nullable(), seconds: seconds.nullable(), writes: count.nullable() })
          .strict(),
        /** Acknowledged writes absent from the promoted primary (reconciled afterwards); null when not reconciled. */
        ackedWritesLost: count.nullable(),
        /** Time span the lost acknowledged writes cover, when any were lost and it is known. */
        lossWindowSeconds: seconds.nullable(),
        /** How `ackedWritesLost` was measured. */
        reconciliation: z.string().min(1).nullable(),
        /** ackedWritesLost ≤ atRiskReported.writes: the workflow did not under-report the risk. */
        lossWithinReportedAtRisk: z.boolean().nullable(),
        /** The figure compared with the RPO objective (worst of the lag, the reported risk and the loss window). */
        measuredSeconds: seconds.nullable(),
        basis: z.string().min(1),
      })
      .strict(),
    kafka: z
      .object({
        /** Worst MirrorMaker 2 lag over the critical topics at declaration. */
        lagAtDeclarationSeconds: seconds.nullable(),
        lagAtDeclarationByTopic: z.record(
          z.string(),
          z.object({ messagesBehind: count, lagSeconds: seconds }).strict(),
        ),
        /** Whether source consumer-group offsets were snapshotted into the run record (lag above the limit). */
        offsetsSnapshotted: z.boolean(),
        /** Messages consumers never saw after resuming on the target from translated offsets. */
        skipped: count.nullable(),
        /** Messages consumers saw twice after resuming; the total over partitions. */
        duplicates: count.nullable(),
        /** `topic:partition` → duplicates. */
        duplicatesByPartition: z.record(z.string(), count),
        maxDuplicatesPerPartition: count.nullable(),
        /** MirrorMaker 2 `offset.lag.max`: the bound on re-delivered messages per partition. */
        offsetLagMax: count.nullable(),
        duplicatesWithinBound: z.boolean().nullable(),
        measuredSeconds: seconds.nullable(),
        basis: z.string().min(1),
      })
      .strict(),
    redis: z
      .object({
        /** Replica behind its primary at declaration (replication offset delta, and seconds when known). */
        lagAtDeclaration: lagSchema,
        /** The feature snapshot replayed to hydrate hot keys. */
        snapshot: z
          .object({
            name: z.string().min(1),
            ageSeconds: seconds.nullable(),
            keysWritten: count.nullable(),
            verified: z.boolean().nullable(),
          })
          .strict()
          .nullable(),
        measuredSeconds: seconds.nullable(),
        basis: z.string().min(1),
      })
      .strict(),
  })
  .strict();

export const ObjectiveResultSchema = z
  .object({
    store: z.enum(STORES),
    kind: z.enum(['RPO', 'RTO']),
    objectiveSeconds: seconds,
    /** The measured figure (null: not measured), compared as `measured ≤ objectiveSeconds`. */
    measured: seconds.nullable(),
    unit: z.literal('seconds'),
    met: z.boolean(),
    /** `met` disambiguated: a figure that could not be measured is not claimed as met. */
    result: z.enum(['met', 'not-met', 'not-measured']),
    note: z.string().min(1),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.met !== (o.result === 'met'))
      ctx.addIssue({
        code: 'custom',
        path: ['met'],
        message: `must be ${o.result === 'met'} when result is ${o.result}`,
      });
    if ((o.measured === null) !== (o.result === 'not-measured')) {
      ctx.addIssue({
        code: 'custom',
        path: ['measured'],
        message: 'must be null exactly when result is not-measured',
      });
    }
    if (o.measured !== null && o.result === 'met' && !withinObjective(o.measured, o.objectiveSeconds)) {
      ctx.addIssue({
        code: 'custom',
        path: ['met'],
        message: `${o.measured} s exceeds the objective of ${o.objectiveSeconds} s`,
      });
    }
  });
export type ObjectiveResult = z.infer<typeof ObjectiveResultSchema>;

export const DecisionSchema = z
  .object({
    kind: z.enum(['allowDataLoss', 'approval']),
    /**
     * approval: approved | rejected | timeout. allowDataLoss: invoked (promotion continued past an RPO
     * objective because of it) | not-needed (data at risk was within the objectives) | not-reached.
     */
    decision: z.enum(['approved', 'rejected', 'timeout', 'invoked', 'not-needed', 'not-reached']),
    by: z.string().min(1).nullable(),
    at: isoTime.nullable(),
    requestedAt: isoTime.nullable(),
    reason: z.string().min(1).nullable(),
    /** How the decision was given: terminal, task-token (SendTaskSuccess/Failure), execution-input, unattended. */
    channel: z.string().min(1),
    /** True when no human decided (an unattended sandbox drill approving by itself). */
    unattended: z.boolean(),
  })
  .strict();
export type Decision = z.infer<typeof DecisionSchema>;

export const CheckResultSchema = z
  .object({ passed: z.boolean(), summary: z.string().min(1), details: z.record(z.string(), z.unknown()) })
  .strict();
export type CheckResult = z.infer<typeof CheckResultSchema>;

export const FindingSchema = z
  .object({
    severity: z.enum(['SEV-1', 'warning', 'info']),
    source: z.string().min(1),
    message: z.string().min(1),
  })
  .strict();
export type Finding = z.infer<typeof FindingSchema>;

export const VerificationSchema = z
  .object({
    /** Smoke harness on the DR validation dataset (null: not run). */
    smoke: CheckResultSchema.nullable(),
    /** Ledger reconciliation: counts, sums and balances against the aggregates captured at declaration. */
    ledgerParity: CheckResultSchema.nullable(),
    consumerLag: CheckResultSchema.nullable(),
    slo: CheckResultSchema.nullable(),
    findings: z.array(FindingSchema),
    sev1Count: count,
  })
  .strict()
  .superRefine((v, ctx) => {
    const n = v.findings.filter((f) => f.severity === 'SEV-1').length;
    if (n !== v.sev1Count)
      ctx.addIssue({
        code: 'custom',
        path: ['sev1Count'],
        message: `must equal the number of SEV-1 findings (${n})`,
      });
  });

export const StepEvidenceSchema = z
  .object({
    step: z.string().min(1),
    action: z.enum(STEP_ACTIONS),
    observed: z.record(z.string(), z.unknown()),
    changes: z.array(z.string()),
    startedAt: isoTime,
    finishedAt: isoTime,
    durationMs: count,
  })
  .strict();

export const IntegritySchema = z
  .object({
    algorithm: z.literal('sha256'),
    canonicalization: z.string().min(1),
    sha256: sha256Hex,
  })
  .strict();

export const CANONICALIZATION =
  'SHA-256 of the UTF-8 compact JSON of the report without its "integrity" member, object keys sorted, no whitespace';

export const EvidenceReportSchema = z
  .object({
    reportVersion: z.literal(REPORT_VERSION),
    runId: z.string().min(1),
    executionId: z.string().min(1),
    application: z.string().min(1),
    mode: z.enum(RUN_MODES),
    dryRun: z.boolean(),
    outcome: z.enum(REPORT_OUTCOMES),
    /** One or two sentences saying why the run ended as it did. */
    outcomeReason: z.string().min(1),
    /** Whether trading was running in the target region when the run ended. */
    tradingAtEnd: z.enum(['resumed', 'frozen', 'not-paused']),
    sourceRegion: z.string().min(1),
    targetRegion: z.string().min(1),
    trigger: z
      .object({
        kind: z.enum(['alarm', 'console', 'cli']),
        alarmName: z.string().nullable(),
        requestedBy: z.string().nullable(),
        reason: z.string().nullable(),
        /** When the trigger fired (the alarm's state change), when known. */
        triggeredAt: isoTime.nullable(),
      })
      .strict(),
    declaredAt: isoTime,
    finishedAt: isoTime,
    generatedAt: isoTime,
    execution: z
      .object({
        status: z.enum(EXECUTION_STATUSES),
        error: ErrorInfoSchema.extend({ state: z.string().nullable() }).strict().nullable(),
      })
      .strict(),
    timeline: z.array(TimelineEntrySchema),
    rto: RtoSchema,
    rpo: RpoSchema,
    objectives: z.array(ObjectiveResultSchema),
    decisions: z.array(DecisionSchema),
    verification: VerificationSchema,
    /** The full evidence every step returned, in the order the steps started. */
    steps: z.array(StepEvidenceSchema),
    integrity: IntegritySchema,
  })
  .strict()
  .superRefine((r, ctx) => {
    if ((r.rto.seconds === null) !== (r.rto.tradingResumedAt === null)) {
      ctx.addIssue({
        code: 'custom',
        path: ['rto', 'seconds'],
        message: 'must be null exactly when tradingResumedAt is null',
      });
    }
    if (r.outcome === 'resumed' && r.rto.tradingResumedAt === null) {
      ctx.addIssue({
        code: 'custom',
        path: ['rto', 'tradingResumedAt'],
        message: 'a resumed run must say when trading resumed',
      });
    }
    if (r.dryRun !== (r.mode === 'dryRun'))
      ctx.addIssue({ code: 'custom', path: ['dryRun'], message: 'must be true exactly in dryRun mode' });
    if (Date.parse(r.finishedAt) < Date.parse(r.declaredAt))
      ctx.addIssue({ code: 'custom', path: ['finishedAt'], message: 'must not be before declaredAt' });
  });

export type EvidenceReport = z.infer<typeof EvidenceReportSchema>;
export type UnsignedEvidenceReport = Omit<EvidenceReport, 'integrity'>;

/** `measured ≤ objective`, compared in whole milliseconds so the boundary is exact. */
export function withinObjective(measuredSeconds: number, objectiveSeconds: number): boolean {
  return Math.round(measuredSeconds * 1000) <= Math.round(objectiveSeconds * 1000);
}

// ---------- canonical form and integrity ----------

/**
 * JSON with object keys sorted (by UTF-16 code units) at every depth and `undefined`
 * members dropped, compact or indented. Integer-like keys are sorted as strings too,
 * unlike `JSON.stringify`, so Python's `json.dumps(sort_keys=True)` produces the same text.
 */
export function canonicalJson(value: unknown, indent = 0): string {
  const pad = (depth: number) => (indent > 0 ? '\n' + ' '.repeat(indent * depth) : '');
  const colon = indent > 0 ? ': ' : ':';
  const write = (v: unknown, depth: number): string | undefined => {
    if (v === null) return 'null';
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new TypeError(`canonicalJson: ${v} is not representable in JSON`);
      return JSON.stringify(v);
    }
    if (typeof v === 'bigint') throw new TypeError('canonicalJson: bigint is not representable in JSON');
    if (typeof v !== 'object') return JSON.stringify(v);
    const withToJson = v as { toJSON?: () => unknown };
    if (typeof withToJson.toJSON === 'function') return write(withToJson.toJSON(), depth);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      const items = v.map((item) => write(item, depth + 1) ?? 'null');
      return '[' + items.map((i) => pad(depth + 1) + i).join(',') + pad(depth) + ']';
    }
    const members: string[] = [];
    for (const key of Object.keys(v).sort()) {
      const text = write((v as Record<string, unknown>)[key], depth + 1);
      if (text !== undefined) members.push(pad(depth + 1) + JSON.stringify(key) + colon + text);
    }
    if (members.length === 0) return '{}';
    return '{' + members.join(',') + pad(depth) + '}';
  };
  return write(value, 0) ?? 'null';
}

/** The report's integrity digest: see `CANONICALIZATION`. */
export function reportDigest(report: UnsignedEvidenceReport | EvidenceReport): string {
  const { integrity: _ignored, ...unsigned } = report as EvidenceReport;
  return createHash('sha256').update(canonicalJson(unsigned), 'utf8').digest('hex');
}

/** Adds the integrity member to a report built without one. */
export function sealReport(unsigned: UnsignedEvidenceReport): EvidenceReport {
  return {
    ...unsigned,
    integrity: { algorithm: 'sha256', canonicalization: CANONICALIZATION, sha256: reportDigest(unsigned) },
  };
}
