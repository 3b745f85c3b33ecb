import type { DrDependencies } from '../shared/dependencies';
import { RunOnlyInputSchema } from '../shared/schemas';
import { actionFor, defineStep } from '../shared/step';

/** DNS/GSLB cutover: every trading endpoint (API edge, PostgreSQL writer, Kafka bootstrap, Redis) to the target region. */
export const cutoverTrafficStep = defineStep({
  name: 'cutover-traffic',
  input: RunOnlyInputSchema,
  async run({ run }, deps: Pick<DrDependencies, 'router'>) {
    const before = await deps.router.activeRegions();
    const cutover = await deps.router.routeTo(run.targetRegion, { dryRun: run.dryRun });
    const verb = run.dryRun ? 'would point' : 'pointed';
    return {
      action: actionFor(run.dryRun, cutover.alreadyDone),
      observed: { before, records: cutover.records },
      changes: cutover.alreadyDone
        ? []
        : cutover.records.map(
            (r) => `${verb} ${r.name} from ${r.before ?? 'nothing'} to ${r.after} (${cutover.method})`,
          ),
      result: {
        changeId: cutover.changeId ?? null,
        method: cutover.method,
        alreadyDone: cutover.alreadyDone,
      },
    };
  },
});
