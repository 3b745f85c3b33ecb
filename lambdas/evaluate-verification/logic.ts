import type { DrDependencies } from '../shared/dependencies';
import type { LedgerFinding } from '../shared/ledger/compare-aggregates';
import { RunWithStepsInputSchema } from '../shared/schemas';
import { defineStep } from '../shared/step';

interface Sev1 {
  check: string;
  detail: string;
}

/** Pure: the SEV-1 findings of the verification steps; any one blocks resumption. */
export function sev1Findings(steps: Record<string, unknown>, dryRun: boolean): Sev1[] {
  const result = (name: string) => (steps[name] as { result?: Record<string, unknown> } | undefined)?.result;
  const found: Sev1[] = [];
  const smoke = result('smokeHarness');
  if (!smoke) found.push({ check: 'smoke', detail: 'the smoke harness did not report' });
  else if (!dryRun && smoke.passed !== true)
    found.push({ check: 'smoke', detail: String(smoke.failure ?? 'smoke harness failed') });
  const ledger = result('reconcileLedger');
  if (!ledger) found.push({ check: 'ledger', detail: 'ledger reconciliation did not report' });
  else {
    for (const f of ((ledger.findings as LedgerFinding[]) ?? []).filter((x) => x.sev1)) {
      found.push({
        check: 'ledger',
        detail: `${f.classification}: ${f.table} ${f.key}: expected ${f.expected}, found ${f.found}`,
      });
    }
  }
  const consumers = result('consumerLag');
  if (!consumers) found.push({ check: 'consumers', detail: 'consumer lag check did not report' });
  return found;
}

/** The verification gate: a discrepancy is a SEV-1 result that blocks resumption of trading. */
export const evaluateVerificationStep = defineStep({
  name: 'evaluate-verification',
  input: RunWithStepsInputSchema,
  async run({ run, steps }, deps: Pick<DrDependencies, 'runRecords'>, clock) {
    const findings = sev1Findings(steps, run.dryRun);
    if (!run.dryRun)
      await deps.runRecords.append(run.runId, {
        kind: 'verification',
        at: clock.now().toISOString(),
        data: { findings },
      });
    return {
      action: 'observed' as const,
      observed: { findings },
      changes: [],
      result: { passed: findings.length === 0, sev1: findings.length > 0, findings },
    };
  },
});
