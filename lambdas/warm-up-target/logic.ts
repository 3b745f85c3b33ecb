import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { WarmUpFailedError } from '../shared/errors';
import { measureDataAtRisk } from '../shared/measure/data-at-risk';
import { RunSchema } from '../shared/run';
import { defineStep } from '../shared/step';

const InputSchema = z
  .object({
    run: RunSchema,
    /** When the warm-up phase began: a phase longer than one invocation is run by several (the ASL loops). */
    startedAt: z.string().datetime({ offset: true }),
    /** Defaults to the run's failback warm-up (the runbook's 30 minutes in production; seconds on the sandbox). */
    seconds: z.number().int().min(0).max(7200).optional(),
    /** At most this long per invocation (below the Lambda timeout); the workflow invokes again until complete. */
    maxInvocationSeconds: z.number().int().positive().max(840).default(600),
    /** Seconds between two rounds of synthetic load. */
    intervalSeconds: z.number().positive().max(60).default(1),
  })
  .strict();

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/**
 * The runbook's "Warm-up & Validation" before a planned failback: for the configured time,
 * synthetic read load on the rebuilt region (ledger aggregates on its PostgreSQL standby,
 * Redis and Kafka probes) while the replication into it is sampled every round. Fails when
 * a store stops answering or the replication link breaks during the phase; reports the
 * probe latencies and the worst lag seen.
 */
export const warmUpTargetStep = defineStep({
  name: 'warm-up-target',
  input: InputSchema,
  async run(
    { run, startedAt, seconds, intervalSeconds, maxInvocationSeconds },
    deps: Pick<DrDependencies, 'postgres' | 'kafka' | 'redis' | 'sleep'>,
    clock,
  ) {
    const durationMs = (seconds ?? run.failback?.warmupSeconds ?? 0) * 1000;
    const phaseEnds = new Date(startedAt).getTime() + durationMs;
    if (run.dryRun) {
      return {
        action: 'dry-run' as const,
        observed: {},
        changes: [`would run ${durationMs / 1000} s of synthetic load on ${run.targetRegion}`],
        result: { complete: true, phaseSeconds: durationMs / 1000, rounds: 0 } as Record<string, unknown> & {
          complete: boolean;
        },
      };
    }
    const started = clock.now().getTime();
    const stopAt = Math.min(phaseEnds, started + maxInvocationSeconds * 1000);
    const postgresMs: number[] = [];
    const kafkaMs: number[] = [];
    let rounds = 0;
    let maxPostgresLagBytes = 0;
    let maxKafkaLagSeconds = 0;
    const problems: string[] = [];
    do {
      rounds += 1;
      const t0 = clock.now().getTime();
      const aggregates = await deps.postgres(run.targetRegion).ledgerAggregates();
      const t1 = clock.now().getTime();
      const kafka = await deps.kafka(run.sourceRegion, run.targetRegion).health();
      const t2 = clock.now().getTime();
      postgresMs.push(t1 - t0);
      kafkaMs.push(t2 - t1);
      const atRisk = await measureDataAtRisk(run, deps, clock.now());
      maxPostgresLagBytes = Math.max(maxPostgresLagBytes, atRisk.postgres.lagBytes ?? 0);
      maxKafkaLagSeconds = Math.max(maxKafkaLagSeconds, atRisk.kafka.maxLagSeconds);
      if (!kafka.reachable) problems.push(`round ${rounds}: Kafka in ${run.targetRegion} unreachable`);
      if (atRisk.redis.replicaLinkUp === false)
        problems.push(`round ${rounds}: the Redis replica link into ${run.targetRegion} is down`);
      if (atRisk.postgres.standbyReplayLsn === null)
        problems.push(`round ${rounds}: PostgreSQL in ${run.targetRegion} reports no replay position`);
      if (aggregates.tables.orders === undefined)
        problems.push(`round ${rounds}: the ledger on ${run.targetRegion} has no orders table`);
      if (problems.length > 0) break;
      if (clock.now().getTime() >= stopAt) break;
      await deps.sleep(Math.min(intervalSeconds * 1000, Math.max(0, stopAt - clock.now().getTime())));
    } while (clock.now().getTime() < stopAt);
    const observed = {
      phaseSeconds: durationMs / 1000,
      phaseStartedAt: new Date(startedAt).toISOString(),
      rounds,
      elapsedMs: clock.now().getTime() - started,
      ledgerReadMs: { p50: percentile(postgresMs, 50), p99: percentile(postgresMs, 99) },
      kafkaProbeMs: { p50: percentile(kafkaMs, 50), p99: percentile(kafkaMs, 99) },
      maxPostgresLagBytes,
      maxKafkaLagSeconds,
    };
    if (problems.length > 0)
      throw new WarmUpFailedError(`warm-up of ${run.targetRegion} failed: ${problems.join('; ')}`, observed);
    return {
      action: 'observed' as const,
      observed,
      changes: [],
      result: { complete: clock.now().getTime() >= phaseEnds, ...observed },
    };
  },
});
