import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { measureDataAtRisk } from '../shared/measure/data-at-risk';
import { RunSchema } from '../shared/run';
import { defineStep } from '../shared/step';

const InputSchema = z
  .object({ run: RunSchema, maxWaitSeconds: z.number().positive().max(900).default(20) })
  .strict();

/**
 * After the gateway is quiesced, wait until in-flight writes drain: no open application
 * transactions on the old primary and its WAL position steady. Then measure what is still
 * at risk, snapshot Kafka offsets when MirrorMaker 2 lags beyond the runbook's 30 s, and
 * take the ledger aggregates of the last healthy state (old primary if it answers, else
 * the standby) that verification compares the promoted cluster with.
 */
export const waitForDrainStep = defineStep({
  name: 'wait-for-drain',
  input: InputSchema,
  async run(
    { run, maxWaitSeconds },
    deps: Pick<DrDependencies, 'postgres' | 'kafka' | 'redis' | 'runRecords' | 'topology' | 'sleep'>,
    clock,
  ) {
    const primary = deps.postgres(run.sourceRegion);
    const started = clock.now().getTime();
    let drained = false;
    let polls = 0;
    let lastLsn: string | null = null;
    let status = await primary.status();
    while (status.reachable && status.role === 'primary') {
      polls += 1;
      if (status.activeApplicationTransactions === 0 && status.lsn !== null && status.lsn === lastLsn) {
        drained = true;
        break;
      }
      if (clock.now().getTime() - started > maxWaitSeconds * 1000) break;
      lastLsn = status.lsn;
      await deps.sleep(250);
      status = await primary.status();
    }
    const primaryAnswers = status.reachable && status.role === 'primary';
    const atRisk = await measureDataAtRisk(run, deps, clock.now());

    let kafkaOffsetSnapshot: unknown = null;
    if (atRisk.kafka.maxLagSeconds >= deps.topology.kafka.maxLagSeconds) {
      kafkaOffsetSnapshot = await deps
        .kafka(run.sourceRegion, run.targetRegion)
        .snapshotSourceOffsets()
        .catch((err: Error) => ({ unavailable: err.message }));
      if (!run.dryRun)
        await deps.runRecords.append(run.runId, {
          kind: 'kafka.offset-snapshot',
          at: clock.now().toISOString(),
          data: kafkaOffsetSnapshot,
        });
    }
    const baselineSource = primaryAnswers ? run.sourceRegion : run.targetRegion;
    const baseline = await deps.postgres(baselineSource).ledgerAggregates();
    if (!run.dryRun) {
      await deps.runRecords.append(run.runId, {
        kind: 'data-at-risk.after-drain',
        at: atRisk.measuredAt,
        data: atRisk,
      });
      await deps.runRecords.append(run.runId, {
        kind: 'ledger.baseline',
        at: baseline.capturedAt,
        data: { region: baselineSource, baseline },
      });
    }
    const waitedMs = clock.now().getTime() - started;
    return {
      action: 'observed' as const,
      observed: {
        primaryReachable: primaryAnswers,
        drained,
        polls,
        waitedMs,
        activeApplicationTransactions: status.activeApplicationTransactions,
        dataAtRisk: atRisk,
        kafkaOffsetSnapshotTaken: kafkaOffsetSnapshot !== null,
      },
      changes: [],
      result: {
        drained: drained || !primaryAnswers,
        primaryReachable: primaryAnswers,
        dataAtRisk: atRisk,
        baseline: { region: baselineSource, aggregates: baseline },
      },
    };
  },
});
