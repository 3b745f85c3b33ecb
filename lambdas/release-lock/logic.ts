import type { DrDependencies } from '../shared/dependencies';
import { RunOnlyInputSchema } from '../shared/schemas';
import { actionFor, defineStep } from '../shared/step';

/** Releases the single-flight lock this execution holds; releasing twice is a recorded no-op. */
export const releaseLockStep = defineStep({
  name: 'release-lock',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'lock'>) {
    if (run.dryRun) {
      return {
        action: actionFor(true, false),
        observed: {},
        changes: ['would release the DR lock (a dry run takes none)'],
        result: { released: false },
      };
    }
    const { alreadyDone } = await deps.lock.release(run.application, run.executionId);
    return {
      action: actionFor(false, alreadyDone),
      observed: {},
      changes: alreadyDone ? [] : [`released the ${run.application} DR lock`],
      result: { released: !alreadyDone },
    };
  },
});
