/**
 * Builds the evidence report of a run from what the run collected: the run itself, the
 * per-state timeline (from the Step Functions execution history or the local runner's
 * event log), the steps' evidence, the measured RPO figures, the verification results
 * and the objectives. Pure and deterministic: every time comes in, nothing reads a clock,
 * the same input gives the same report (and the same integrity hash).
 */
import { ERROR_NAMES } from '../lambdas/shared/errors';
import type { StepEvidence } from '../lambdas/shared/evidence';
import type { Run, RunMode } from '../lambdas/shared/run';
import { formatIssues, RUNBOOK_OBJECTIVES } from '../lambdas/shared/topology';
import {
  EvidenceReportSchema,
  REPORT_VERSION,
  sealReport,
  STORE_LABELS,
  STORES,
  withinObjective,
  type CheckResult,
  type Decision,
  type EvidenceReport,
  type ExecutionStatus,
  type Finding,
  type ObjectiveResult,
  type ReportOutcome,
  type Store,
  type TimelineEntry,
  type TimelineKind,
  type TimelineStatus,
  type UnsignedEvidenceReport,
} from './model';

/** Per store, as in the runbook's Recovery Objectives table (`Topology['objectives']`). */
export type RecoveryObjectives = Record<Store, { readonly rpoSeconds: number; readonly rtoSeconds: number }>;

/** One state's stay as the execution history or the local runner's event log recorded it. */
export interface TimelineEventInput {
  /** ASL state name. */
  state: string;
  /** The step (Lambda) the state runs; defaults to the state name. Matches `StepEvidence.step`. */
  step?: string;
  /** Default `task`; the `.waitForTaskToken` approval state is `approval`. */
  kind?: TimelineKind;
  /** Runbook failover step 1–6. */
  runbookStep?: number | null;
  branch?: string | null;
  /** Default 1. */
  attempt?: number;
  enteredAt: string;
  /** Null when the execution ended while the state was still running: it is closed at the end of the run. */
  exitedAt: string | null;
  status: TimelineStatus;
  serverMs?: number | null;
  error?: { name: string; cause?: string | null } | null;
}

export interface MeasuredFigures {
  postgres: {
    replication?: 'synchronous' | 'asynchronous' | 'unknown';
    /** Standby replay lag when the run was declared. */
    lagAtDeclaration: { bytes: number | null; seconds: number | null };
    /** What the workflow reported as at risk at the RPO gate, just before promotion. */
    atRiskReported?: { bytes?: number | null; seconds?: number | null; writes?: number | null } | null;
    /** Acknowledged writes missing on the promoted primary; null when not reconciled. */
    ackedWritesLost: number | null;
    /** Span of time the lost acknowledged writes cover, when known. */
    lossWindowSeconds?: number | null;
    /** How the loss was measured, e.g. "load-generator journal reconciled with the promoted primary". */
    reconciliation?: string | null;
  };
  kafka: {
    /** MirrorMaker 2 lag per critical topic at declaration. */
    lagAtDeclarationByTopic: { topic: string; messagesBehind: number; lagSeconds: number }[];
    offsetsSnapshotted?: boolean;
    /** Messages consumers never saw after resuming on the target; null when not measured. */
    skipped: number | null;
    /** `topic:partition` → messages delivered twice after resuming; null when not measured. */
    duplicatesByPartition: Record<string, number> | null;
    /** MirrorMaker 2 `offset.lag.max`. */
    offsetLagMax?: number | null;
  };
  redis: {
    lagAtDeclaration: { bytes: number | null; seconds: number | null };
    snapshot?: {
      name: string;
      ageSeconds: number | null;
      keysWritten: number | null;
      verified: boolean | null;
    } | null;
  };
}

export interface CheckInput {
  passed: boolean;
  summary: string;
  details?: Record<string, unknown>;
}

export interface BuildEvidenceReportInput {
  run: Run;
  execution: {
    status: ExecutionStatus;
    finishedAt: string;
    /** The error that ended the execution (or sent it down its failure path). */
    error?: { name: string; cause?: string | null; state?: string | null } | null;
  };
  /** When the trigger fired (the alarm's state change time); starts the RTO clock when before the declaration. */
  triggeredAt?: string | null;
  /** When the order gateway stopped and started accepting orders again. */
  trading: { pausedAt: string | null; resumedAt: string | null };
  approval?: {
    decision: 'approved' | 'rejected' | 'timeout';
    requestedAt: string | null;
    decidedAt: string | null;
    decidedBy: string | null;
    comment?: string | null;
    channel: 'terminal' | 'task-token' | 'unattended';
  } | null;
  /** The RPO gate before promotion: which stores' data at risk exceeded their objective, and whether it stopped the run. */
  rpoGate?: {
    evaluated: boolean;
    stopped: boolean;
    /** `atRiskSeconds` null: not measurable (e.g. the old primary unreachable). */
    exceeded: { store: Store; atRiskSeconds: number | null; objectiveSeconds: number }[];
  } | null;
  timeline: TimelineEventInput[];
  evidence: StepEvidence[];
  measured: MeasuredFigures;
  verification?: {
    smoke?: CheckInput | null;
    ledgerParity?: CheckInput | null;
    consumerLag?: CheckInput | null;
    slo?: CheckInput | null;
    findings?: Finding[];
  } | null;
  /** Default: the runbook's table (`RUNBOOK_OBJECTIVES`). */
  objectives?: RecoveryObjectives;
  /** Default: the execution's `finishedAt`. */
  generatedAt?: string;
}

/** The input contradicts itself or is not a time; the message names the field. */
export class EvidenceReportInputError extends Error {
  override name = 'EvidenceReportInputError';
}

// ---------- small helpers ----------

function ms(iso: string, field: string): number {
  const t = Date.parse(iso);
  if (!Number.isFinite(t) || !/^\d{4}-\d{2}-\d{2}T/.test(iso))
    throw new EvidenceReportInputError(`${field}: "${iso}" is not an ISO-8601 timestamp`);
  return t;
}
const iso = (t: number) => new Date(t).toISOString();
/** Whole milliseconds → seconds (exact to the millisecond). */
const sec = (milliseconds: number) => milliseconds / 1000;
/** Any figure in seconds, to millisecond precision. */
const roundSec = (s: number) => Math.round(s * 1000) / 1000;
const orNull = <T>(v: T | null | undefined): T | null => (v === undefined ? null : v);

/** Total length of the union of intervals (overlaps counted once). */
export function unionLengthMs(intervals: readonly (readonly [number, number])[]): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [a, b] of sorted) {
    if (a > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = a;
      curEnd = b;
    } else if (b > curEnd) curEnd = b;
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

/** Human duration for sentences: 950 ms, 14.2 s, 2 min 05 s, 1 h 20 min. */
export function describeSeconds(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${(Math.round(s * 10) / 10).toFixed(1)} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    return `${m} min ${String(Math.floor(s - m * 60)).padStart(2, '0')} s`;
  }
  const h = Math.floor(s / 3600);
  return `${h} h ${String(Math.floor((s - h * 3600) / 60)).padStart(2, '0')} min`;
}

// ---------- timeline ----------

function buildTimeline(
  events: readonly TimelineEventInput[],
  evidence: readonly StepEvidence[],
  finishedMs: number,
): TimelineEntry[] {
  const rows = events.map((e, i) => {
    const field = `timeline[${i}]`;
    const start = ms(e.enteredAt, `${field}.enteredAt`);
    const end = e.exitedAt === null ? Math.max(finishedMs, start) : ms(e.exitedAt, `${field}.exitedAt`);
    if (end < start)
      throw new EvidenceReportInputError(
        `${field}.exitedAt: ${e.exitedAt} is before enteredAt ${e.enteredAt}`,
      );
    if (
      e.runbookStep != null &&
      !(Number.isInteger(e.runbookStep) && e.runbookStep >= 1 && e.runbookStep <= 6)
    ) {
      throw new EvidenceReportInputError(`${field}.runbookStep: must be 1–6, got ${e.runbookStep}`);
    }
    return { e, step: e.step ?? e.state, start, end, action: null as StepEvidence['action'] | null };
  });
  rows.sort((a, b) => a.start - b.start || a.end - b.end || a.e.state.localeCompare(b.e.state));

  // Each piece of evidence belongs to the stay of its step it started in (1 s of clock tolerance
  // between a Lambda and the execution history); an attempt that failed returned none, so it comes last.
  const claimed = new Set<number>();
  for (const ev of evidence) {
    const t = Date.parse(ev.startedAt);
    let best = -1;
    let bestScore = Infinity;
    rows.forEach((row, i) => {
      if (claimed.has(i) || row.step !== ev.step) return;
      const gap = t < row.start ? row.start - t : t > row.end ? t - row.end : 0;
      if (gap > 1000) return;
      const score = gap + (row.e.status === 'succeeded' || row.e.status === 'skipped' ? 0 : 10_000);
      if (score < bestScore) {
        best = i;
        bestScore = score;
      }
    });
    if (best >= 0) {
      claimed.add(best);
      (rows[best] as (typeof rows)[number]).action = ev.action;
    }
  }

  return rows.map(({ e, step, start, end, action }) => ({
    step,
    state: e.state,
    kind: e.kind ?? 'task',
    runbookStep: e.runbookStep ?? null,
    branch: e.branch ?? null,
    attempt: e.attempt ?? 1,
    start: iso(start),
    end: iso(end),
    durationMs: end - start,
    status: e.status,
    action,
    serverMs: e.serverMs == null ? null : Math.round(e.serverMs),
    error: e.error ? { name: e.error.name, cause: e.error.cause ?? null } : null,
  }));
}

// ---------- outcome ----------

export interface OutcomeFacts {
  mode: RunMode;
  executionStatus: ExecutionStatus;
  errorName: string | null;
  /** Whether the state that failed (if any) is the approval wait. */
  errorInApprovalState: boolean;
  tradingResumed: boolean;
  approvalDecision: 'approved' | 'rejected' | 'timeout' | null;
  rpoGateStopped: boolean;
}

/** How the run ended, from the facts, most specific first. */
export function deriveOutcome(f: OutcomeFacts): ReportOutcome {
  if (f.tradingResumed) return 'resumed';
  if (f.rpoGateStopped) return 'stopped-rpo-gate';
  if (f.approvalDecision === 'rejected') return 'rejected';
  if (f.approvalDecision === 'timeout') return 'approval-timeout';
  if (
    f.errorInApprovalState &&
    (f.errorName === 'States.Timeout' || f.errorName === 'States.HeartbeatTimeout')
  )
    return 'approval-timeout';
  if (f.errorName === ERROR_NAMES.invalidInput) return 'invalid-input';
  if (f.errorName === ERROR_NAMES.lockHeld) return 'refused-lock-held';
  if (f.errorName === ERROR_NAMES.verificationFailed) return 'verification-failed';
  if (f.executionStatus === 'ABORTED') return 'aborted';
  if (f.mode === 'dryRun' && f.executionStatus === 'SUCCEEDED' && f.errorName === null)
    return 'dry-run-complete';
  return 'failed';
}

function describeOutcome(outcome: ReportOutcome, input: BuildEvidenceReportInput, sev1: Finding[]): string {
  const { run, execution, approval, trading, rpoGate } = input;
  const err = execution.error ?? null;
  const errText = err
    ? `${err.name}${err.state ? ` in ${err.state}` : ''}${err.cause ? `: ${err.cause}` : ''}`
    : null;
  const frozen = trading.pausedAt !== null ? 'trading stays frozen' : 'trading was not paused';
  switch (outcome) {
    case 'resumed': {
      const who =
        approval?.channel === 'unattended'
          ? 'an unattended sandbox approval'
          : approval?.decidedBy
            ? `approval by ${approval.decidedBy}`
            : 'approval';
      const tail =
        execution.status === 'SUCCEEDED'
          ? ''
          : ` The execution then ended ${execution.status}${errText ? ` (${errText})` : ''}.`;
      return `Trading resumed in ${run.targetRegion} at ${trading.resumedAt} after ${who}.${tail}`;
    }
    case 'stopped-rpo-gate': {
      const over = (rpoGate?.exceeded ?? [])
        .map(
          (x) =>
            `${x.store} ${x.atRiskSeconds === null ? 'unmeasurable' : `${roundSec(x.atRiskSeconds)} s`} > ${x.objectiveSeconds} s`,
        )
        .join(', ');
      return `Data at risk exceeded the RPO objective${over ? ` (${over})` : ''} and the input carried no allowDataLoss decision: stopped before promotion; ${frozen}.`;
    }
    case 'rejected':
      return `Approval to resume trading was rejected by ${approval?.decidedBy ?? 'an unnamed approver'}${approval?.decidedAt ? ` at ${approval.decidedAt}` : ''}${approval?.comment ? ` ("${approval.comment}")` : ''}; ${frozen} and the incident escalates.`;
    case 'approval-timeout':
      return `No approval arrived before the approval timeout${approval?.requestedAt ? ` (requested at ${approval.requestedAt})` : ''}; ${frozen} and the incident escalates.`;
    case 'verification-failed':
      return `Verification found a SEV-1 discrepancy${errText ? ` (${errText})` : sev1[0] ? ` (${sev1[0].message})` : ''}; ${frozen}.`;
    case 'refused-lock-held':
      return `Another disaster-recovery run holds the single-flight lock for ${run.application}${err?.cause ? ` (${err.cause})` : ''}; this run did nothing.`;
    case 'invalid-input':
      return `The execution input was rejected before any lock or mutation${err?.cause ? `: ${err.cause}` : ''}.`;
    case 'dry-run-complete':
      return 'Dry run: every step observed the current state and reported what it would do; nothing was changed.';
    case 'aborted':
      return `The execution was aborted by an operator at ${execution.finishedAt}; ${frozen}.`;
    case 'failed':
      return `${execution.status === 'TIMED_OUT' ? 'The execution timed out' : 'The run failed'}${errText ? ` (${errText})` : ''}; ${frozen}.`;
  }
}

// ---------- RPO ----------

function buildRpo(m: MeasuredFigures): EvidenceReport['rpo'] {
  const pg = m.postgres;
  const atRisk = {
    bytes: orNull(pg.atRiskReported?.bytes),
    seconds: pg.atRiskReported?.seconds == null ? null : roundSec(pg.atRiskReported.seconds),
    writes: orNull(pg.atRiskReported?.writes),
  };
  const lagSeconds = pg.lagAtDeclaration.seconds == null ? null : roundSec(pg.lagAtDeclaration.seconds);
  const lost = pg.ackedWritesLost;
  const lossWindow = pg.lossWindowSeconds == null ? null : roundSec(pg.lossWindowSeconds);
  const pgParts: string[] = [];
  const pgCandidates: number[] = [];
  if (lagSeconds !== null) {
    pgCandidates.push(lagSeconds);
    pgParts.push(`replay lag at declaration ${describeSeconds(lagSeconds)}`);
  }
  if (atRisk.seconds !== null) {
    pgCandidates.push(atRisk.seconds);
    pgParts.push(`at risk reported before promotion ${describeSeconds(atRisk.seconds)}`);
  }
  if (lost !== null && lost > 0 && lossWindow !== null) {
    pgCandidates.push(lossWindow);
    pgParts.push(`lost writes span ${describeSeconds(lossWindow)}`);
  }
  let pgMeasured: number | null = pgCandidates.length > 0 ? Math.max(...pgCandidates) : null;
  if (pgMeasured === null && lost === 0) pgMeasured = 0;
  const lostText =
    lost === null
      ? 'acknowledged-write loss not reconciled'
      : `${lost} acknowledged write${lost === 1 ? '' : 's'} lost${pg.reconciliation ? ` (${pg.reconciliation})` : ''}`;
  const pgBasis =
    pgMeasured === null
      ? `Not measured: no replication lag was captured; ${lostText}.`
      : pgParts.length > 0
        ? `Worst of: ${pgParts.join('; ')}. ${lostText[0]?.toUpperCase()}${lostText.slice(1)}.`
        : `${lostText[0]?.toUpperCase()}${lostText.slice(1)}; no replication lag was captured.`;

  const topics = [...m.kafka.lagAtDeclarationByTopic].sort((a, b) => a.topic.localeCompare(b.topic));
  const kafkaLag = topics.length > 0 ? roundSec(Math.max(...topics.map((t) => t.lagSeconds))) : null;
  const dups = m.kafka.duplicatesByPartition;
  const dupValues = dups ? Object.values(dups) : [];
  const maxDup = dups ? (dupValues.length > 0 ? Math.max(...dupValues) : 0) : null;
  const bound = orNull(m.kafka.offsetLagMax);
  const worstTopic = topics.find((t) => roundSec(t.lagSeconds) === kafkaLag);

  const redisLag =
    m.redis.lagAtDeclaration.seconds == null ? null : roundSec(m.redis.lagAtDeclaration.seconds);
  const snapshot = m.redis.snapshot ?? null;
  const snapshotAge = snapshot?.ageSeconds == null ? null : roundSec(snapshot.ageSeconds);
  const redisMeasured = redisLag ?? snapshotAge;

  return {
    postgres: {
      replication: pg.replication ?? 'unknown',
      lagAtDeclaration: { bytes: pg.lagAtDeclaration.bytes, seconds: lagSeconds },
      atRiskReported: atRisk,
      ackedWritesLost: lost,
      lossWindowSeconds: lossWindow,
      reconciliation: orNull(pg.reconciliation),
      lossWithinReportedAtRisk: lost !== null && atRisk.writes !== null ? lost <= atRisk.writes : null,
      measuredSeconds: pgMeasured,
      basis: pgBasis,
    },
    kafka: {
      lagAtDeclarationSeconds: kafkaLag,
      lagAtDeclarationByTopic: Object.fromEntries(
        topics.map((t) => [
          t.topic,
          { messagesBehind: t.messagesBehind, lagSeconds: roundSec(t.lagSeconds) },
        ]),
      ),
      offsetsSnapshotted: m.kafka.offsetsSnapshotted ?? false,
      skipped: m.kafka.skipped,
      duplicates: dups ? dupValues.reduce((a, b) => a + b, 0) : null,
      duplicatesByPartition: dups ?? {},
      maxDuplicatesPerPartition: maxDup,
      offsetLagMax: bound,
      duplicatesWithinBound: maxDup !== null && bound !== null ? maxDup <= bound : null,
      measuredSeconds: kafkaLag,
      basis:
        kafkaLag === null
          ? 'Not measured: no MirrorMaker 2 lag was captured at declaration.'
          : `Worst MirrorMaker 2 replication lag over the critical topics at declaration (${worstTopic?.topic ?? 'n/a'}).`,
    },
    redis: {
      lagAtDeclaration: { bytes: m.redis.lagAtDeclaration.bytes, seconds: redisLag },
      snapshot: snapshot ? { ...snapshot, ageSeconds: snapshotAge } : null,
      measuredSeconds: redisMeasured,
      basis:
        redisLag !== null
          ? 'Replica lag behind its primary at declaration.'
          : snapshotAge !== null
            ? `Age of the feature snapshot replayed to hydrate the cache (${snapshot?.name}); replica lag not captured.`
            : 'Not measured: neither replica lag nor snapshot age was captured.',
    },
  };
}

// ---------- objectives ----------

function judge(
  measured: number | null,
  objective: number,
): Pick<ObjectiveResult, 'measured' | 'met' | 'result'> {
  if (measured === null) return { measured: null, met: false, result: 'not-measured' };
  const met = withinObjective(measured, objective);
  return { measured, met, result: met ? 'met' : 'not-met' };
}

function buildObjectives(
  objectives: RecoveryObjectives,
  rpo: EvidenceReport['rpo'],
  rto: EvidenceReport['rto'],
  outcome: ReportOutcome,
): ObjectiveResult[] {
  const out: ObjectiveResult[] = [];
  for (const store of STORES) {
    const o = objectives[store];
    const rpoFig = rpo[store];
    out.push({
      store,
      kind: 'RPO',
      objectiveSeconds: o.rpoSeconds,
      unit: 'seconds',
      ...judge(rpoFig.measuredSeconds, o.rpoSeconds),
      note: rpoFig.basis,
    });
    let rtoResult: Pick<ObjectiveResult, 'measured' | 'met' | 'result'>;
    let note: string;
    if (rto.seconds !== null) {
      rtoResult = judge(rto.seconds, o.rtoSeconds);
      // End to end: a store counts as recovered when trading runs on it again.
      note =
        `${rto.clockStart === 'trigger' ? 'Trigger' : 'Declaration'} → trading resumed, end to end` +
        (rto.approvalWaitSeconds > 0
          ? `; includes ${describeSeconds(rto.approvalWaitSeconds)} approval wait (${describeSeconds(rto.excludingApprovalSeconds ?? 0)} without it).`
          : '.');
    } else if (rto.tradingPausedAt !== null && !withinObjective(rto.elapsedSeconds, o.rtoSeconds)) {
      rtoResult = { measured: rto.elapsedSeconds, met: false, result: 'not-met' };
      note = `Trading was still frozen when the run ended (${outcome}), ${describeSeconds(rto.elapsedSeconds)} after the clock started: the objective was exceeded (lower bound).`;
    } else if (rto.tradingPausedAt === null) {
      rtoResult = judge(null, o.rtoSeconds);
      note = `Trading was not paused (${outcome}): there was no outage to recover from.`;
    } else {
      rtoResult = judge(null, o.rtoSeconds);
      note = `Trading did not resume (${outcome}); the run ended ${describeSeconds(rto.elapsedSeconds)} after the clock started, within the objective, so no recovery time was measured.`;
    }
    out.push({ store, kind: 'RTO', objectiveSeconds: o.rtoSeconds, unit: 'seconds', ...rtoResult, note });
  }
  return out;
}

// ---------- decisions and findings ----------

function buildDecisions(input: BuildEvidenceReportInput): Decision[] {
  const decisions: Decision[] = [];
  const adl = input.run.allowDataLoss;
  if (adl) {
    const gate = input.rpoGate;
    decisions.push({
      kind: 'allowDataLoss',
      decision: !gate?.evaluated
        ? 'not-reached'
        : gate.exceeded.length > 0 && !gate.stopped
          ? 'invoked'
          : 'not-needed',
      by: adl.approvedBy,
      at: iso(ms(input.run.declaredAt, 'run.declaredAt')),
      requestedAt: null,
      reason: adl.reason,
      channel: 'execution-input',
      unattended: false,
    });
  }
  const a = input.approval;
  if (a) {
    decisions.push({
      kind: 'approval',
      decision: a.decision,
      by: a.decidedBy && a.decidedBy.length > 0 ? a.decidedBy : null,
      at: a.decidedAt === null ? null : iso(ms(a.decidedAt, 'approval.decidedAt')),
      requestedAt: a.requestedAt === null ? null : iso(ms(a.requestedAt, 'approval.requestedAt')),
      reason: a.comment && a.comment.length > 0 ? a.comment : null,
      channel: a.channel,
      unattended: a.channel === 'unattended',
    });
  }
  return decisions;
}

const toCheck = (c: CheckInput | null | undefined): CheckResult | null =>
  c ? { passed: c.passed, summary: c.summary, details: c.details ?? {} } : null;

function derivedFindings(
  report: Pick<UnsignedEvidenceReport, 'rpo' | 'objectives' | 'decisions'>,
  checks: Record<'smoke' | 'ledgerParity' | 'consumerLag' | 'slo', CheckResult | null>,
  given: readonly Finding[],
  objectives: RecoveryObjectives,
): Finding[] {
  const out: Finding[] = [];
  const sources = new Set(given.map((f) => f.source));
  const checkNames = {
    smoke: 'Smoke harness',
    ledgerParity: 'Ledger parity',
    consumerLag: 'Consumer lag',
    slo: 'SLO check',
  } as const;
  for (const key of Object.keys(checkNames) as (keyof typeof checkNames)[]) {
    const c = checks[key];
    const source = `verification.${key}`;
    if (c && !c.passed && !sources.has(source))
      out.push({ severity: 'SEV-1', source, message: `${checkNames[key]} failed: ${c.summary}` });
  }
  for (const o of report.objectives) {
    if (o.result !== 'not-met') continue;
    out.push({
      severity: 'SEV-1',
      source: `objectives.${o.store}.${o.kind}`,
      message: `${STORE_LABELS[o.store]}: measured ${o.kind} ${describeSeconds(o.measured ?? 0)} exceeds the objective of ${describeSeconds(o.objectiveSeconds)}. The runbook requires a SEV-1 declaration, regulator-ready communication and a postmortem.`,
    });
  }
  const { kafka, postgres } = report.rpo;
  if (kafka.skipped !== null && kafka.skipped > 0) {
    out.push({
      severity: 'SEV-1',
      source: 'rpo.kafka.skipped',
      message: `${kafka.skipped} Kafka message(s) were skipped by consumers after resuming on the target.`,
    });
  }
  if (kafka.duplicatesWithinBound === false) {
    out.push({
      severity: 'warning',
      source: 'rpo.kafka.duplicatesByPartition',
      message: `Up to ${kafka.maxDuplicatesPerPartition} duplicates on one partition, above MirrorMaker 2's offset.lag.max of ${kafka.offsetLagMax}.`,
    });
  }
  if (postgres.lossWithinReportedAtRisk === false) {
    out.push({
      severity: 'SEV-1',
      source: 'rpo.postgres.ackedWritesLost',
      message: `${postgres.ackedWritesLost} acknowledged writes were lost but the workflow reported only ${postgres.atRiskReported.writes} at risk.`,
    });
  }
  const invoked = report.decisions.find((d) => d.kind === 'allowDataLoss' && d.decision === 'invoked');
  if (invoked) {
    out.push({
      severity: 'warning',
      source: 'decisions.allowDataLoss',
      message: `Promotion continued past an RPO objective on the explicit allowDataLoss decision of ${invoked.by}: "${invoked.reason}".`,
    });
  }
  for (const store of STORES) {
    for (const kind of ['rpoSeconds', 'rtoSeconds'] as const) {
      if (objectives[store][kind] !== RUNBOOK_OBJECTIVES[store][kind]) {
        out.push({
          severity: 'warning',
          source: `objectives.${store}.${kind === 'rpoSeconds' ? 'RPO' : 'RTO'}`,
          message: `The configured ${kind === 'rpoSeconds' ? 'RPO' : 'RTO'} objective for ${store} is ${objectives[store][kind]} s; the runbook's Recovery Objectives table says ${RUNBOOK_OBJECTIVES[store][kind]} s.`,
        });
      }
    }
  }
  return out;
}

// ---------- the report ----------

export function buildEvidenceReport(input: BuildEvidenceReportInput): EvidenceReport {
  const { run, execution, trading } = input;
  const objectives = input.objectives ?? RUNBOOK_OBJECTIVES;
  const declaredMs = ms(run.declaredAt, 'run.declaredAt');
  const finishedMs = ms(execution.finishedAt, 'execution.finishedAt');
  if (finishedMs < declaredMs)
    throw new EvidenceReportInputError(
      `execution.finishedAt: ${execution.finishedAt} is before run.declaredAt ${run.declaredAt}`,
    );
  const triggeredMs = input.triggeredAt ? ms(input.triggeredAt, 'triggeredAt') : null;
  // Clock skew between the alarm and the orchestrator must not make the RTO start after the declaration.
  const clockStartMs = triggeredMs !== null && triggeredMs <= declaredMs ? triggeredMs : declaredMs;
  const pausedMs = trading.pausedAt === null ? null : ms(trading.pausedAt, 'trading.pausedAt');
  const resumedMs = trading.resumedAt === null ? null : ms(trading.resumedAt, 'trading.resumedAt');
  if (resumedMs !== null && resumedMs < clockStartMs)
    throw new EvidenceReportInputError(
      `trading.resumedAt: ${trading.resumedAt} is before the RTO clock start ${iso(clockStartMs)}`,
    );
  if (resumedMs !== null && pausedMs !== null && resumedMs < pausedMs)
    throw new EvidenceReportInputError(
      `trading.resumedAt: ${trading.resumedAt} is before trading.pausedAt ${trading.pausedAt}`,
    );

  const timeline = buildTimeline(input.timeline, input.evidence, finishedMs);

  // The approval wait inside the RTO window: the approval states' stays (or, without one, the request → decision span).
  const windowEnd = resumedMs ?? finishedMs;
  let approvalIntervals: [number, number][] = timeline
    .filter((t) => t.kind === 'approval')
    .map((t) => [Date.parse(t.start), Date.parse(t.end)]);
  const a = input.approval;
  if (approvalIntervals.length === 0 && a?.requestedAt && a.decidedAt) {
    approvalIntervals = [[ms(a.requestedAt, 'approval.requestedAt'), ms(a.decidedAt, 'approval.decidedAt')]];
  }
  const approvalWaitMs = unionLengthMs(
    approvalIntervals.map(([s, e]) => [Math.max(s, clockStartMs), Math.min(e, windowEnd)] as const),
  );
  const rtoMs = resumedMs === null ? null : resumedMs - clockStartMs;
  const rto: EvidenceReport['rto'] = {
    clockStart: triggeredMs !== null && triggeredMs <= declaredMs ? 'trigger' : 'declaration',
    startedAt: iso(clockStartMs),
    tradingPausedAt: pausedMs === null ? null : iso(pausedMs),
    tradingResumedAt: resumedMs === null ? null : iso(resumedMs),
    seconds: rtoMs === null ? null : sec(rtoMs),
    excludingApprovalSeconds: rtoMs === null ? null : sec(rtoMs - approvalWaitMs),
    approvalWaitSeconds: sec(approvalWaitMs),
    tradingDowntimeSeconds: resumedMs !== null && pausedMs !== null ? sec(resumedMs - pausedMs) : null,
    elapsedSeconds: sec(Math.max(0, finishedMs - clockStartMs)),
  };

  const err = execution.error ?? null;
  const failedState = err?.state ?? null;
  const outcome = deriveOutcome({
    mode: run.mode,
    executionStatus: execution.status,
    errorName: err?.name ?? null,
    errorInApprovalState:
      failedState !== null && timeline.some((t) => t.state === failedState && t.kind === 'approval'),
    tradingResumed: resumedMs !== null,
    approvalDecision: input.approval?.decision ?? null,
    rpoGateStopped: input.rpoGate?.stopped ?? false,
  });

  const rpo = buildRpo(input.measured);
  const objectiveResults = buildObjectives(objectives, rpo, rto, outcome);
  const decisions = buildDecisions(input);
  const v = input.verification ?? {};
  const checks = {
    smoke: toCheck(v.smoke),
    ledgerParity: toCheck(v.ledgerParity),
    consumerLag: toCheck(v.consumerLag),
    slo: toCheck(v.slo),
  };
  const givenFindings = [...(v.findings ?? [])];
  const findings = [
    ...givenFindings,
    ...derivedFindings({ rpo, objectives: objectiveResults, decisions }, checks, givenFindings, objectives),
  ];
  const sev1 = findings.filter((f) => f.severity === 'SEV-1');

  const steps = [...input.evidence]
    .map((e) => ({
      ...e,
      startedAt: iso(ms(e.startedAt, `evidence(${e.step}).startedAt`)),
      finishedAt: iso(ms(e.finishedAt, `evidence(${e.step}).finishedAt`)),
    }))
    .sort((x, y) => Date.parse(x.startedAt) - Date.parse(y.startedAt) || x.step.localeCompare(y.step));

  const unsigned: UnsignedEvidenceReport = {
    reportVersion: REPORT_VERSION,
    runId: run.runId,
    executionId: run.executionId,
    application: run.application,
    mode: run.mode,
    dryRun: run.mode === 'dryRun',
    outcome,
    outcomeReason: describeOutcome(outcome, input, sev1),
    tradingAtEnd: resumedMs !== null ? 'resumed' : pausedMs !== null ? 'frozen' : 'not-paused',
    sourceRegion: run.sourceRegion,
    targetRegion: run.targetRegion,
    trigger: {
      kind: run.trigger.kind,
      alarmName: run.trigger.alarmName ?? null,
      requestedBy: run.trigger.requestedBy ?? null,
      reason: run.trigger.reason ?? null,
      triggeredAt: triggeredMs === null ? null : iso(triggeredMs),
    },
    declaredAt: iso(declaredMs),
    finishedAt: iso(finishedMs),
    generatedAt: iso(ms(input.generatedAt ?? execution.finishedAt, 'generatedAt')),
    execution: {
      status: execution.status,
      error: err ? { name: err.name, cause: err.cause ?? null, state: failedState } : null,
    },
    timeline,
    rto,
    rpo,
    objectives: objectiveResults,
    decisions,
    verification: { ...checks, findings, sev1Count: sev1.length },
    steps,
  };
  const parsed = EvidenceReportSchema.safeParse(sealReport(unsigned));
  if (!parsed.success)
    throw new EvidenceReportInputError(
      `The evidence report built from this input is invalid:\n${formatIssues(parsed.error.issues)}`,
    );
  return parsed.data;
}
