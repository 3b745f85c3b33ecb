import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { FinalLsnMismatchError } from '../shared/errors';
import { lsnDistance } from '../shared/measure/data-at-risk';
import { RunSchema } from '../shared/run';
import { defineStep } from '../shared/step';

const InputSchema = z
  .object({ run: RunSchema, timeoutSeconds: z.number().positive().max(600).default(30) })
  .strict();

/**
 * The zero-data-loss proof of a planned PostgreSQL switchover, between fencing the current
 * primary (the run's source) and promoting the standby (the target): the source refuses
 * writes and has no open application transaction, so its WAL position is final; the
 * standby must have replayed up to it. Both LSNs are recorded. A standby that has not
 * replayed the final LSN within the timeout stops the switchover (FinalLsnMismatchError),
 * as promoting it would lose the difference.
 */
export const confirmFinalLsnStep = defineStep({
  name: 'confirm-final-lsn',
  input: InputSchema,
  async run({ run, timeoutSeconds }, deps: Pick<DrDependencies, 'postgres' | 'runRecords' | 'sleep'>, clock) {
    const source = deps.postgres(run.sourceRegion);
    const target = deps.postgres(run.targetRegion);
    if (run.dryRun) {
      // Nothing is fenced in a dry run: the primary's position is not final; report both as they are.
      const [primary, standby] = [await source.status(), await target.status()];
      return {
        action: 'dry-run' as const,
        observed: { primary, standby },
        changes: [],
        result: {
          confirmed: false,
          alreadyPromoted: false,
          finalLsn: primary.lsn,
          replayedLsn: standby.replayLsn,
          bytesBehind: lsnDistance(primary.lsn, standby.replayLsn),
        },
      };
    }
    const started = clock.now().getTime();
    let polls = 0;
    for (;;) {
      polls += 1;
      // The source first: whatever the standby reports afterwards was replayed after this position existed.
      const primary = await source.status();
      const standby = await target.status();
      if (!primary.reachable || primary.role !== 'primary' || !primary.readOnly) {
        if (standby.role === 'primary') {
          // A re-drive after the promotion: the proof was recorded by the earlier attempt.
          return {
            action: 'observed' as const,
            observed: { primary, standby, polls },
            changes: [],
            result: {
              confirmed: true,
              alreadyPromoted: true,
              finalLsn: null as string | null,
              replayedLsn: standby.lsn,
              bytesBehind: 0,
            },
          };
        }
        throw new FinalLsnMismatchError(
          `PostgreSQL in ${run.sourceRegion} is not a fenced primary (reachable ${primary.reachable}, role ${primary.role}, read-only ${primary.readOnly}): its WAL position is not final`,
          { primary, standby },
        );
      }
      const finalLsn = primary.lsn;
      const replayedLsn = standby.replayLsn;
      const behind = lsnDistance(finalLsn, replayedLsn);
      const waitedMs = clock.now().getTime() - started;
      if (behind === 0 && primary.activeApplicationTransactions === 0) {
        const proof = { finalLsn, replayedLsn, receivedLsn: standby.lsn, polls, waitedMs };
        if (!run.dryRun)
          await deps.runRecords.append(run.runId, {
            kind: 'switchover.final-lsn',
            at: clock.now().toISOString(),
            data: { source: run.sourceRegion, target: run.targetRegion, ...proof },
          });
        return {
          action: 'observed' as const,
          observed: { primary, standby, ...proof },
          changes: [],
          result: { confirmed: true, alreadyPromoted: false, finalLsn, replayedLsn, bytesBehind: 0 },
        };
      }
      if (waitedMs >= timeoutSeconds * 1000) {
        throw new FinalLsnMismatchError(
          `PostgreSQL in ${run.targetRegion} replayed ${replayedLsn ?? 'nothing'} but the fenced primary in ${run.sourceRegion} ended at ${finalLsn ?? '?'} (${behind ?? '?'} bytes behind, ${primary.activeApplicationTransactions} open transactions) after ${Math.round(waitedMs / 1000)} s: promoting now could lose data`,
          { primary, standby, finalLsn, replayedLsn, bytesBehind: behind },
        );
      }
      await deps.sleep(100);
    }
  },
});
