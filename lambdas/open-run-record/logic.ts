import type { DrDependencies } from '../shared/dependencies';
import { RunOnlyInputSchema } from '../shared/schemas';
import { actionFor, defineStep } from '../shared/step';

/** Opens the run record every later step appends its facts and decisions to. */
export const openRunRecordStep = defineStep({
  name: 'open-run-record',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'runRecords'>) {
    if (run.dryRun) {
      return {
        action: actionFor(true, false),
        observed: {},
        changes: [`would open run record ${run.runId}`],
        result: { runId: run.runId },
      };
    }
    const { alreadyDone } = await deps.runRecords.open({
      runId: run.runId,
      application: run.application,
      mode: run.mode,
      run,
    });
    if (run.allowDataLoss && !alreadyDone) {
      await deps.runRecords.append(run.runId, {
        kind: 'decision.allowDataLoss.requested',
        at: run.declaredAt,
        data: run.allowDataLoss,
      });
    }
    return {
      action: actionFor(false, alreadyDone),
      observed: {},
      changes: alreadyDone ? [] : [`opened run record ${run.runId}`],
      result: { runId: run.runId },
    };
  },
});
