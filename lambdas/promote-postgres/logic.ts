import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { PromotionFailedError } from '../shared/errors';
import { RunSchema } from '../shared/run';
import { actionFor, defineStep } from '../shared/step';

const InputSchema = z
  .object({ run: RunSchema, replayTimeoutSeconds: z.number().positive().max(600).default(30) })
  .strict();

/** Wait until every received WAL record is replayed, promote, confirm pg_is_in_recovery() is false. */
export const promotePostgresStep = defineStep({
  name: 'promote-postgres',
  input: InputSchema,
  async run({ run, replayTimeoutSeconds }, deps: Pick<DrDependencies, 'postgres'>) {
    const standby = deps.postgres(run.targetRegion);
    const before = await standby.status();
    if (run.dryRun) {
      if (before.role === 'primary') {
        return {
          action: actionFor(true, true),
          observed: { before },
          changes: [],
          result: {
            promoted: true,
            timeline: before.timeline,
            lsn: before.lsn,
            replayedUpTo: null as string | null,
          },
        };
      }
      return {
        action: actionFor(true, false),
        observed: { before },
        changes: [
          `would wait for WAL replay (${before.replayPendingBytes ?? '?'} bytes pending) and promote PostgreSQL in ${run.targetRegion}`,
        ],
        result: { promoted: false, timeline: before.timeline, lsn: before.lsn, replayedUpTo: null },
      };
    }
    // Already a primary (a re-drive after a crash mid-promotion): promote() is still called, as it
    // also lifts a fence the standby inherited through the WAL and proves a write works.
    const replay =
      before.role === 'primary'
        ? { receiveLsn: before.lsn, replayLsn: before.lsn, waitedMs: 0 }
        : await standby.waitForReplay(replayTimeoutSeconds * 1000);
    const promoted = await standby.promote();
    const after = await standby.status();
    if (after.role !== 'primary' || after.readOnly) {
      throw new PromotionFailedError(
        `PostgreSQL in ${run.targetRegion} is not a writable primary after promotion`,
        { after },
      );
    }
    return {
      action: actionFor(false, promoted.alreadyDone),
      observed: { before, replay, after },
      changes: promoted.alreadyDone
        ? []
        : [
            `promoted PostgreSQL in ${run.targetRegion} (${promoted.mechanism}) after replaying up to ${replay.replayLsn}; now timeline ${after.timeline}`,
          ],
      result: { promoted: true, timeline: after.timeline, lsn: after.lsn, replayedUpTo: replay.replayLsn },
    };
  },
});
