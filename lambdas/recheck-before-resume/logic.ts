import type { DrDependencies } from '../shared/dependencies';
import { ResumeRecheckFailedError } from '../shared/errors';
import { RunOnlyInputSchema } from '../shared/schemas';
import { defineStep } from '../shared/step';

/**
 * After approval, make sure nothing changed while the humans were reading: the new
 * primary is still a writable primary, traffic still goes to the target, trading is still
 * frozen, the old primary still refuses writes, and this run still holds the lock.
 */
export const recheckBeforeResumeStep = defineStep({
  name: 'recheck-before-resume',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'postgres' | 'router' | 'flags' | 'lock'>) {
    const [target, oldPrimary, routes, flags, lock] = await Promise.all([
      deps.postgres(run.targetRegion).status(),
      deps.postgres(run.sourceRegion).status(),
      deps.router.activeRegions(),
      deps.flags(run.targetRegion).read(),
      deps.lock.current(run.application),
    ]);
    const problems: string[] = [];
    if (target.role !== 'primary' || target.readOnly)
      problems.push(`PostgreSQL in ${run.targetRegion} is no longer a writable primary`);
    if (oldPrimary.reachable && !oldPrimary.readOnly)
      problems.push(`the old primary in ${run.sourceRegion} accepts writes again`);
    for (const [endpoint, region] of Object.entries(routes)) {
      if (region !== run.targetRegion) problems.push(`${endpoint} routes to ${region ?? 'nowhere'}`);
    }
    if (flags.acceptNewOrders) problems.push('ACCEPT_NEW_ORDERS was turned on by someone else');
    if (!lock || lock.owner !== run.executionId)
      problems.push(`this run no longer holds the lock (holder: ${lock?.runId ?? 'none'})`);
    const observed = { target, oldPrimary, routes, flags, lock };
    if (problems.length > 0) throw new ResumeRecheckFailedError(problems.join('; '), observed);
    return { action: 'observed' as const, observed, changes: [], result: { unchanged: true } };
  },
});
