import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { NotReadyYetError } from '../shared/errors';
import { lsnDistance, measureDataAtRisk, type DataAtRisk } from '../shared/measure/data-at-risk';
import { RunSchema } from '../shared/run';
import { defineStep } from '../shared/step';

const InputSchema = z
  .object({
    run: RunSchema,
    /**
     * `readiness`: before the switchover, with writes still flowing — PostgreSQL lag zero (the
     * standby has replayed every byte the primary had written when the check began), MirrorMaker 2
     * lag within the Kafka objective, the Redis replica linked. `kafka-drained`: in the switchover,
     * producers quiesced — every critical topic mirrored to the last message (none behind).
     */
    scope: z.enum(['readiness', 'kafka-drained']),
    /** Defaults to the run's failback readiness timeout (readiness) or 30 s (kafka-drained). */
    timeoutSeconds: z.number().int().positive().max(840).optional(),
  })
  .strict();

interface Sample {
  at: string;
  postgres: { role: string; streaming: boolean; replayLsn: string | null; lagBytesFromMark: number | null };
  kafka: DataAtRisk['kafka'];
  redis: DataAtRisk['redis'];
}

/**
 * Failback readiness, measured rather than assumed: polls the replication from the current
 * primary region (the run's source) into the region being returned to (the target) until it
 * is caught up or the timeout passes. Readiness answers `caughtUp: false` with the reasons
 * (the workflow then refuses the failback, nothing switched); `kafka-drained` throws
 * NotReadyYetError, since trading is already paused then and the failure path must run.
 */
export const checkReplicationCaughtUpStep = defineStep({
  name: 'check-replication-caught-up',
  input: InputSchema,
  async run(
    { run, scope, timeoutSeconds },
    deps: Pick<DrDependencies, 'postgres' | 'kafka' | 'redis' | 'topology' | 'sleep'>,
    clock,
  ) {
    const timeoutMs =
      (timeoutSeconds ?? (scope === 'readiness' ? (run.failback?.readinessTimeoutSeconds ?? 300) : 30)) *
      1000;
    const started = clock.now().getTime();
    const maxLagSeconds = deps.topology.kafka.maxLagSeconds;
    // The mark: the primary's LSN when the check began; lag zero = the standby has replayed up to it.
    const primaryAtStart = await deps.postgres(run.sourceRegion).status();
    const mark = primaryAtStart.role === 'primary' ? primaryAtStart.lsn : null;
    const samples: Sample[] = [];
    let reasons: string[] = [];
    for (;;) {
      const [atRisk, standby] = await Promise.all([
        measureDataAtRisk(run, deps, clock.now()),
        deps.postgres(run.targetRegion).status(),
      ]);
      const lagBytesFromMark = mark && standby.replayLsn ? lsnDistance(mark, standby.replayLsn) : null;
      const streaming = standby.role === 'standby' && standby.walReceiverStatus === 'streaming';
      samples.push({
        at: atRisk.measuredAt,
        postgres: { role: standby.role, streaming, replayLsn: standby.replayLsn, lagBytesFromMark },
        kafka: atRisk.kafka,
        redis: atRisk.redis,
      });
      reasons = [];
      if (scope === 'readiness') {
        if (!mark)
          reasons.push(`PostgreSQL in ${run.sourceRegion} is not the primary (role ${primaryAtStart.role})`);
        if (!streaming)
          reasons.push(
            `PostgreSQL in ${run.targetRegion} is not a streaming standby (role ${standby.role}, WAL receiver ${standby.walReceiverStatus ?? 'none'})`,
          );
        else if (lagBytesFromMark !== 0)
          reasons.push(
            `PostgreSQL in ${run.targetRegion} has not replayed up to ${mark ?? '?'} (replayed ${standby.replayLsn ?? 'nothing'}, ${lagBytesFromMark ?? '?'} bytes behind)`,
          );
        if (!(atRisk.kafka.maxLagSeconds <= maxLagSeconds))
          reasons.push(
            `MirrorMaker 2 ${run.sourceRegion} → ${run.targetRegion} lags ${atRisk.kafka.maxLagSeconds} s, objective ${maxLagSeconds} s`,
          );
        if (atRisk.redis.replicaLinkUp !== true)
          reasons.push(`the Redis replica in ${run.targetRegion} is not linked to ${run.sourceRegion}`);
      } else {
        const behind = atRisk.kafka.topics.filter((t) => t.messagesBehind > 0);
        if (atRisk.kafka.topics.length === 0) reasons.push('MirrorMaker 2 replication lag could not be read');
        for (const t of behind)
          reasons.push(
            `${t.topic}: ${t.messagesBehind} message(s) not yet mirrored into ${run.targetRegion}`,
          );
      }
      // A dry run samples once: with nothing paused or rebuilt, waiting would not change the answer.
      if (reasons.length === 0 || run.dryRun || clock.now().getTime() - started >= timeoutMs) break;
      await deps.sleep(scope === 'readiness' ? 1000 : 200);
    }
    const waitedMs = clock.now().getTime() - started;
    const caughtUp = reasons.length === 0;
    const last = samples.at(-1)!;
    const observed = {
      scope,
      primaryLsnAtStart: mark,
      samples: samples.length,
      waitedMs,
      last,
      ...(samples.length > 1 ? { first: samples[0] } : {}),
    };
    // A dry run pauses nothing, so producers still write: report what is behind instead of failing.
    if (!caughtUp && scope === 'kafka-drained' && !run.dryRun) {
      throw new NotReadyYetError(
        `Kafka not drained into ${run.targetRegion} after ${Math.round(waitedMs / 1000)} s: ${reasons.join('; ')}`,
        observed,
      );
    }
    return {
      action: 'observed' as const,
      observed,
      changes: [],
      result: {
        caughtUp,
        reasons,
        summary: caughtUp
          ? `replication ${run.sourceRegion} → ${run.targetRegion} caught up`
          : `failback refused, replication ${run.sourceRegion} → ${run.targetRegion} not caught up after ${Math.round(waitedMs / 1000)} s: ${reasons.join('; ')}`,
        waitedMs,
        postgres: {
          primaryLsnAtStart: mark,
          standbyReplayLsn: last.postgres.replayLsn,
          lagBytes: last.postgres.lagBytesFromMark,
        },
        kafka: {
          maxLagSeconds: last.kafka.maxLagSeconds,
          objectiveSeconds: maxLagSeconds,
          topics: last.kafka.topics,
        },
        redis: { replicaLinkUp: last.redis.replicaLinkUp },
      },
    };
  },
});
