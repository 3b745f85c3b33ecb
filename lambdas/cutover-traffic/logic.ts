import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { RunSchema } from '../shared/run';
import { actionFor, defineStep } from '../shared/step';
import { TRADING_ENDPOINTS } from '../shared/topology';

const InputSchema = z
  .object({
    run: RunSchema,
    /** Only these endpoints (a staggered switchover moves Kafka, then PostgreSQL, then the workloads); default all. */
    endpoints: z.array(z.enum(TRADING_ENDPOINTS)).min(1).optional(),
  })
  .strict();

/** DNS/GSLB cutover: every trading endpoint (API edge, PostgreSQL writer, Kafka bootstrap, Redis), or the ones named, to the target region. */
export const cutoverTrafficStep = defineStep({
  name: 'cutover-traffic',
  input: InputSchema,
  async run({ run, endpoints }, deps: Pick<DrDependencies, 'router'>) {
    const before = await deps.router.activeRegions();
    const cutover = await deps.router.routeTo(run.targetRegion, {
      dryRun: run.dryRun,
      ...(endpoints ? { endpoints } : {}),
    });
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
