import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { NotReadyYetError } from '../shared/errors';
import { RunSchema } from '../shared/run';
import { defineStep } from '../shared/step';
import { TRADING_ENDPOINTS } from '../shared/topology';

const InputSchema = z
  .object({
    run: RunSchema,
    changeId: z.string().nullable(),
    /** Only these endpoints must route to the target (a stage of a staggered switchover); default all. */
    endpoints: z.array(z.enum(TRADING_ENDPOINTS)).min(1).optional(),
  })
  .strict();

/** Route 53 GetChange until INSYNC (the ASL retries NotReadyYetError); then reads back where traffic goes. */
export const waitForDnsSyncStep = defineStep({
  name: 'wait-for-dns-sync',
  input: InputSchema,
  async run({ run, changeId, endpoints }, deps: Pick<DrDependencies, 'router'>) {
    if (changeId && !(await deps.router.isChangeComplete(changeId))) {
      throw new NotReadyYetError(`DNS change ${changeId} is not INSYNC yet`);
    }
    const active = await deps.router.activeRegions();
    const elsewhere = Object.entries(active).filter(
      ([name, region]) =>
        region !== run.targetRegion && (!endpoints || (endpoints as string[]).includes(name)),
    );
    if (!run.dryRun && elsewhere.length > 0) {
      throw new NotReadyYetError(
        `still routed elsewhere: ${elsewhere.map(([name, region]) => `${name}→${region}`).join(', ')}`,
      );
    }
    return {
      action: 'observed' as const,
      observed: { changeId, active },
      changes: [],
      result: { inSync: true, active },
    };
  },
});
