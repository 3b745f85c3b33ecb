import type { DrDependencies } from '../shared/dependencies';
import { RunOnlyInputSchema } from '../shared/schemas';
import { actionFor, defineStep } from '../shared/step';

/**
 * Halt new strategy activations and quiesce the order gateway (ACCEPT_NEW_ORDERS=false).
 * The target region's flags are authoritative; the source region's are set too where it
 * still answers, so its gateway stops taking orders — but nothing depends on that.
 */
export const quiesceTradingStep = defineStep({
  name: 'quiesce-trading',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'flags'>) {
    const frozen = { acceptNewOrders: false, strategyActivation: 'disabled' as const };
    const target = deps.flags(run.targetRegion);
    const before = await target.read();
    if (run.dryRun) {
      const wouldChange = before.acceptNewOrders || before.strategyActivation !== 'disabled';
      return {
        action: actionFor(true, !wouldChange),
        observed: { target: before },
        changes: wouldChange
          ? ['would set STRATEGY_ACTIVATION=disabled and ACCEPT_NEW_ORDERS=false in both regions']
          : [],
        result: { quiesced: false },
      };
    }
    const { changed } = await target.set(frozen);
    let source: { changed: string[] } | { error: string };
    try {
      source = await deps.flags(run.sourceRegion).set(frozen);
    } catch (err) {
      source = { error: (err as Error).message };
    }
    const changes = [
      ...changed.map((name) => `${run.targetRegion}: ${name} set to its frozen value`),
      ...('changed' in source
        ? source.changed.map((name) => `${run.sourceRegion}: ${name} set to its frozen value`)
        : []),
    ];
    return {
      action: actionFor(false, changes.length === 0),
      observed: {
        target: before,
        sourceRegion: 'error' in source ? { unreachable: source.error } : { reachable: true },
      },
      changes,
      result: { quiesced: true },
    };
  },
});
