import type { DrDependencies } from '../shared/dependencies';
import { RunOnlyInputSchema } from '../shared/schemas';
import { actionFor, defineStep } from '../shared/step';

/** Freezes deployments: the flag other automation (pipelines, Argo) reads, and an event for those that listen. */
export const freezeDeploymentsStep = defineStep({
  name: 'freeze-deployments',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'flags' | 'events'>) {
    const flags = deps.flags(run.targetRegion);
    const before = await flags.read();
    if (run.dryRun) {
      return {
        action: actionFor(true, before.deploymentFreeze),
        observed: { deploymentFreeze: before.deploymentFreeze },
        changes: before.deploymentFreeze
          ? []
          : ['would set the deployment freeze flag and publish DeploymentsFrozen'],
        result: { frozen: before.deploymentFreeze },
      };
    }
    const { changed } = await flags.set({ deploymentFreeze: true });
    if (changed.length > 0) {
      await deps.events.publish({
        detailType: 'DeploymentsFrozen',
        detail: { runId: run.runId, application: run.application, reason: `DR ${run.mode}` },
      });
    }
    return {
      action: actionFor(false, changed.length === 0),
      observed: { deploymentFreeze: before.deploymentFreeze },
      changes: changed.length > 0 ? ['set the deployment freeze flag', 'published DeploymentsFrozen'] : [],
      result: { frozen: true },
    };
  },
});
