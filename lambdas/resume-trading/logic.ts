import type { DrDependencies } from '../shared/dependencies';
import { RunOnlyInputSchema } from '../shared/schemas';
import { actionFor, defineStep } from '../shared/step';

/**
 * Lift the order-gateway freeze and re-enable strategy activations in the promoted region,
 * and start the runbook's heightened-monitoring window. Deployments stay frozen until the
 * post-incident review lifts them.
 */
export const resumeTradingStep = defineStep({
  name: 'resume-trading',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'flags' | 'events' | 'runRecords' | 'topology'>, clock) {
    const now = clock.now();
    const monitoringUntil = new Date(
      now.getTime() + deps.topology.heightenedMonitoringMinutes * 60_000,
    ).toISOString();
    if (run.dryRun) {
      return {
        action: 'dry-run' as const,
        observed: {},
        changes: [
          `would lift the order-gateway freeze in ${run.targetRegion} and start heightened monitoring until ${monitoringUntil}`,
        ],
        result: { resumedAt: now.toISOString(), heightenedMonitoringUntil: monitoringUntil },
      };
    }
    const { changed } = await deps
      .flags(run.targetRegion)
      .set({ acceptNewOrders: true, strategyActivation: 'enabled' });
    if (changed.length > 0) {
      await deps.events.publish({
        detailType: 'TradingResumed',
        detail: {
          runId: run.runId,
          application: run.application,
          region: run.targetRegion,
          heightenedMonitoringUntil: monitoringUntil,
        },
      });
      await deps.runRecords.append(run.runId, {
        kind: 'trading.resumed',
        at: now.toISOString(),
        data: { heightenedMonitoringUntil: monitoringUntil },
      });
    }
    return {
      action: actionFor(false, changed.length === 0),
      observed: {},
      changes:
        changed.length > 0
          ? [
              `lifted the order-gateway freeze in ${run.targetRegion}`,
              `heightened monitoring until ${monitoringUntil}`,
            ]
          : [],
      result: { resumedAt: now.toISOString(), heightenedMonitoringUntil: monitoringUntil },
    };
  },
});
