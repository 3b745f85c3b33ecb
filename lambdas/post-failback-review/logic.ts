import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { lsnDistance } from '../shared/measure/data-at-risk';
import { RunSchema } from '../shared/run';
import { actionFor, defineStep } from '../shared/step';

const InputSchema = z
  .object({
    run: RunSchema,
    /** How long replication in the new direction may take to report healthy. */
    timeoutSeconds: z.number().int().positive().max(600).default(60),
  })
  .strict();

/**
 * The runbook's "Post-Failback Review", after trading resumed in the region returned to (the
 * run's target): replication healthy in the new direction (the old failover region is a
 * streaming PostgreSQL standby and a linked Redis replica of the target, MirrorMaker 2
 * mirrors target → source within the Kafka objective); the temporary throttles removed (the
 * deployment freeze in both regions, the frozen gateway and stale active-region parameter of
 * the region left); and the final incident timeline from the run record.
 */
export const postFailbackReviewStep = defineStep({
  name: 'post-failback-review',
  input: InputSchema,
  async run(
    { run, timeoutSeconds },
    deps: Pick<
      DrDependencies,
      'postgres' | 'kafka' | 'redis' | 'flags' | 'runRecords' | 'topology' | 'sleep'
    >,
    clock,
  ) {
    const primary = run.targetRegion;
    const standby = run.sourceRegion;
    const started = clock.now().getTime();
    let findings: string[] = [];
    let replication: Record<string, unknown> = {};
    for (;;) {
      const [pgPrimary, pgStandby, redisReplica, mirrorLag] = await Promise.all([
        deps.postgres(primary).status(),
        deps.postgres(standby).status(),
        deps.redis(standby).status(),
        deps
          .kafka(primary, standby)
          .replicationLag()
          .catch((err: Error) => ({ error: err.message })),
      ]);
      findings = [];
      if (pgPrimary.role !== 'primary' || pgPrimary.readOnly)
        findings.push(`PostgreSQL in ${primary} is not a writable primary`);
      if (pgStandby.role !== 'standby' || pgStandby.walReceiverStatus !== 'streaming')
        findings.push(
          `PostgreSQL in ${standby} is not streaming from ${primary} (role ${pgStandby.role}, WAL receiver ${pgStandby.walReceiverStatus ?? 'none'})`,
        );
      if (redisReplica.role !== 'replica' || redisReplica.linkUp !== true)
        findings.push(`Redis in ${standby} is not a linked replica (role ${redisReplica.role})`);
      const maxLag = Array.isArray(mirrorLag) ? Math.max(0, ...mirrorLag.map((t) => t.lagSeconds)) : null;
      if (maxLag === null)
        findings.push(
          `MirrorMaker 2 ${primary} → ${standby} lag unreadable: ${(mirrorLag as { error: string }).error}`,
        );
      else if (maxLag > deps.topology.kafka.maxLagSeconds)
        findings.push(
          `MirrorMaker 2 ${primary} → ${standby} lags ${maxLag} s (objective ${deps.topology.kafka.maxLagSeconds} s)`,
        );
      replication = {
        postgres: {
          primaryLsn: pgPrimary.lsn,
          standbyRole: pgStandby.role,
          walReceiver: pgStandby.walReceiverStatus,
          standbyReplayLsn: pgStandby.replayLsn,
          lagBytes: lsnDistance(pgPrimary.lsn, pgStandby.replayLsn),
          timeline: pgPrimary.timeline,
        },
        redis: { role: redisReplica.role, linkUp: redisReplica.linkUp },
        kafka: { direction: `${primary} → ${standby}`, maxLagSeconds: maxLag, topics: mirrorLag },
      };
      if (findings.length === 0 || clock.now().getTime() - started >= timeoutSeconds * 1000) break;
      await deps.sleep(1000);
    }

    // Temporary throttles of the incident: the deployment freeze (both regions), and the region
    // left behind still frozen and naming itself active. Its gateway gets no traffic (DNS routes to the primary).
    const throttles: string[] = [];
    const restore = {
      [primary]: { deploymentFreeze: false },
      [standby]: {
        deploymentFreeze: false,
        activeRegion: primary,
        acceptNewOrders: true,
        strategyActivation: 'enabled' as const,
      },
    };
    const flagsBefore: Record<string, unknown> = {};
    for (const [region, wanted] of Object.entries(restore)) {
      const flags = deps.flags(region);
      flagsBefore[region] = await flags.read();
      if (run.dryRun) continue;
      const { changed } = await flags.set(wanted);
      throttles.push(...changed.map((name) => `${region}: ${name} restored`));
    }

    const record = await deps.runRecords.read(run.runId);
    const timeline = (record?.entries ?? [])
      .map((e) => ({ at: e.at, kind: e.kind }))
      .sort((a, b) => a.at.localeCompare(b.at));
    const reviewedAt = clock.now().toISOString();
    if (!run.dryRun)
      await deps.runRecords.append(run.runId, {
        kind: 'failback.review',
        at: reviewedAt,
        data: {
          findings,
          replication,
          throttlesRemoved: throttles,
          failoverRunId: run.failback?.failoverRunId ?? null,
        },
      });
    return {
      action: run.dryRun ? ('dry-run' as const) : actionFor(false, throttles.length === 0),
      observed: { replication, flagsBefore, waitedMs: clock.now().getTime() - started },
      changes: throttles,
      result: {
        replicationHealthy: findings.length === 0,
        findings,
        replication,
        throttlesRemoved: throttles,
        timeline: [...timeline, { at: reviewedAt, kind: 'failback.review' }],
        failoverRunId: run.failback?.failoverRunId ?? null,
      },
    };
  },
});
