import * as z from 'zod';
import type { BackupValidationDependencies } from '../shared/backup-validation/dependencies';
import type { ValidationCheck } from '../shared/backup-validation/checks';
import { BackupValidationRunSchema } from '../shared/backup-validation/run';
import { defineStep } from '../shared/step';

const InputSchema = z
  .object({
    /** Null when the input was refused before a run existed. */
    run: BackupValidationRunSchema.nullable(),
    execution: z.object({ id: z.string().min(1), name: z.string().min(1), startTime: z.string() }).strict(),
    steps: z.record(z.string(), z.unknown()),
    /** The Catch output of the state that failed, if one did. */
    failure: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).nullable(),
  })
  .strict();

export const REPORT_SCHEMA_VERSION = 1;
export const reportKey = (runId: string) => `backup-validation/${runId}/report.json`;

/** A Lambda's Cause is JSON with errorMessage; a plain string otherwise. */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    return parsed.errorMessage ?? cause;
  } catch {
    return cause;
  }
}

interface EvidenceLike {
  step: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

/** Every step evidence in the accumulated state (Parallel branches nest them), in start order. */
function evidencesIn(value: unknown, found: EvidenceLike[] = []): EvidenceLike[] {
  if (Array.isArray(value)) for (const v of value) evidencesIn(v, found);
  else if (value && typeof value === 'object') {
    const e = (value as { evidence?: Partial<EvidenceLike> }).evidence;
    if (e && typeof e.step === 'string' && typeof e.durationMs === 'number') found.push(e as EvidenceLike);
    for (const [k, v] of Object.entries(value)) if (k !== 'evidence') evidencesIn(v, found);
  }
  return found.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** Every ValidationCheck in the accumulated state, wherever a step put it (`checks` lists, teardown's `check`). */
function checksIn(value: unknown, found: ValidationCheck[] = []): ValidationCheck[] {
  if (Array.isArray(value)) for (const v of value) checksIn(v, found);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.check === 'string' && typeof o.passed === 'boolean' && typeof o.reason === 'string')
      found.push(o as unknown as ValidationCheck);
    else for (const v of Object.values(o)) checksIn(v, found);
  }
  return found;
}

/** What each restore step restored (target, time, bytes, LSN reached, phase timings), from `$.steps.restore`. */
function restoredTargets(restore: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [store, branch] of Object.entries((restore as Record<string, unknown> | undefined) ?? {})) {
    const result = (branch as { result?: Record<string, unknown> } | undefined)?.result;
    if (!result) continue;
    const { kind, targetId, backupId, restoreMs, details } = result;
    out[store] = { kind, targetId, backupId, restoreMs, details };
  }
  return out;
}

/**
 * Records the validation's evidence — every check with pass/fail, figures and timings, the
 * restore times against the RTO objectives, the teardown's proof — in the evidence store
 * (immutable, with its SHA-256), and decides the outcome: passed only when every requested
 * store was validated, every check passed, nothing failed and the teardown left nothing.
 */
export const recordBackupValidationStep = defineStep({
  name: 'record-backup-validation',
  input: InputSchema,
  async run({ run, execution, steps, failure }, deps: Pick<BackupValidationDependencies, 'evidence'>) {
    const checks = checksIn(steps);
    const reasons: string[] = [];
    if (failure)
      reasons.push(`${failure.Error ?? 'Error'}: ${causeMessage(failure.Cause) || 'no cause given'}`);
    for (const c of checks.filter((c) => !c.passed)) reasons.push(`${c.check}: ${c.reason}`);
    const teardownFailure = steps.teardownFailure as { Error?: string; Cause?: string } | undefined;
    if (teardownFailure)
      reasons.push(
        `teardown failed (${teardownFailure.Error ?? 'Error'}): ${causeMessage(teardownFailure.Cause) || 'no cause given'}`,
      );
    if (run) {
      for (const store of run.stores) {
        const validated = checks.some((c) => c.store === store && c.passed);
        const failedAlready = checks.some((c) => c.store === store && !c.passed);
        if (!validated && !failedAlready && !failure)
          reasons.push(`${store}: no check ran, the store was not validated`);
      }
      if (!checks.some((c) => c.check === 'teardown') && !teardownFailure)
        reasons.push('teardown: no teardown was recorded');
    }
    const outcome = !run ? 'rejected' : reasons.length === 0 ? 'passed' : 'failed';
    const timeline = evidencesIn(steps);
    const restores = checks.filter((c) => c.check.endsWith('.restore-time'));
    const runId = run?.runId ?? execution.name;
    const report = {
      schemaVersion: REPORT_SCHEMA_VERSION,
      runId,
      executionId: execution.id,
      application: run?.application ?? null,
      region: run?.region ?? null,
      trigger: run?.trigger ?? null,
      requestedBy: run?.requestedBy ?? null,
      startedAt: execution.startTime,
      // From the steps' own evidence, not a clock: a re-drive writes the same bytes (one locked version).
      lastStepFinishedAt:
        timeline
          .map((e) => e.finishedAt)
          .sort()
          .at(-1) ?? null,
      outcome,
      reasons,
      stores: run?.stores ?? [],
      backups:
        (steps.selectBackups as { result?: { selected?: unknown } } | undefined)?.result?.selected ?? {},
      objectives: run?.objectives ?? null,
      restoreTimes: Object.fromEntries(restores.map((c) => [c.store, c.figures])),
      restores: restoredTargets(steps.restore),
      checks,
      summary: {
        checks: checks.length,
        passed: checks.filter((c) => c.passed).length,
        failed: checks.filter((c) => !c.passed).map((c) => c.check),
      },
      timings: timeline.map((e) => ({
        step: e.step,
        startedAt: e.startedAt,
        durationMs: e.durationMs,
      })),
      failure: failure ? { error: failure.Error ?? null, message: causeMessage(failure.Cause) } : null,
      restoreJobId: run?.restoreJobId ?? null,
    };
    const stored = await deps.evidence.put(
      reportKey(runId),
      JSON.stringify(report, null, 2),
      'application/json',
    );
    const summary =
      outcome === 'passed'
        ? `backup validation ${runId} passed: ${checks.length} checks on ${report.stores.join(', ')}`
        : `backup validation ${runId} ${outcome}: ${reasons.slice(0, 3).join(' | ')}`;
    return {
      action: stored.alreadyDone ? ('no-op' as const) : ('changed' as const),
      observed: { outcome, failedChecks: report.summary.failed },
      changes: stored.alreadyDone
        ? []
        : [`archived the validation report as ${stored.key} (sha256 ${stored.sha256})`],
      result: {
        outcome,
        application: run?.application ?? 'unknown',
        summary: summary.slice(0, 2000),
        reasons: reasons.slice(0, 20),
        failedChecks: report.summary.failed,
        evidenceKey: stored.key,
        sha256: stored.sha256,
        restoreJobId: report.restoreJobId,
      },
    };
  },
});
