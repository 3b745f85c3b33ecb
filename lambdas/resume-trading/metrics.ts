import { DR_METRICS, type StepFigure } from '../shared/metrics';
import type { RunOnlyInput } from '../shared/schemas';

/**
 * The run's measured RTO for the dashboard: declaration → trading resumed in the promoted
 * region. A dry run resumes nothing and so measures nothing.
 */
export function measuredRtoFigures(
  { resumedAt }: { resumedAt: string },
  { run }: RunOnlyInput,
): StepFigure[] {
  if (run.dryRun) return [];
  const seconds = (Date.parse(resumedAt) - Date.parse(run.declaredAt)) / 1000;
  return Number.isFinite(seconds) && seconds >= 0
    ? [{ name: DR_METRICS.measuredRtoSeconds, unit: 'Seconds', value: seconds }]
    : [];
}
