import type { DrDependencies } from '../shared/dependencies';
import { LockHeldError } from '../shared/errors';
import { RunOnlyInputSchema } from '../shared/schemas';
import { actionFor, defineStep } from '../shared/step';

/**
 * Single-flight: one DR execution per application. A conditional write with a lease, so a
 * flapping alarm or a second operator cannot start a second failover, and a re-drive of the
 * same execution takes its own lock again.
 */
export const acquireLockStep = defineStep({
  name: 'acquire-lock',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'lock' | 'topology'>, clock) {
    const now = clock.now();
    const current = await deps.lock.current(run.application);
    const heldByOther = current && current.owner !== run.executionId && new Date(current.expiresAt) > now;
    if (run.dryRun) {
      if (heldByOther) {
        throw new LockHeldError(
          `${run.application} is locked by run ${current.runId} until ${current.expiresAt}`,
          { holder: current },
        );
      }
      return {
        action: actionFor(true, false),
        observed: { holder: current },
        changes: [`would take the ${run.application} DR lock for ${deps.topology.lockLeaseSeconds}s`],
        result: { holder: current },
      };
    }
    const lease = {
      application: run.application,
      owner: run.executionId,
      runId: run.runId,
      acquiredAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + deps.topology.lockLeaseSeconds * 1000).toISOString(),
    };
    const { alreadyDone, holder } = await deps.lock.acquire(lease);
    return {
      action: actionFor(false, alreadyDone),
      observed: { previousHolder: current },
      changes: alreadyDone ? [] : [`took the ${run.application} DR lock until ${holder.expiresAt}`],
      result: { holder },
    };
  },
});
