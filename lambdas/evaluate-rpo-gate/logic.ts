import type { DrDependencies } from '../shared/dependencies';
import type { DataAtRisk } from '../shared/measure/data-at-risk';
import { RunWithStepsInputSchema, resultOf } from '../shared/schemas';
import { defineStep } from '../shared/step';
import type { Topology } from '../shared/topology';

export interface RpoBreach {
  store: 'postgres' | 'kafka';
  objectiveSeconds: number;
  atRiskSeconds: number | null;
  why: string;
}

/** Pure: which stores' data at risk exceed their RPO objective. Unknown counts as a breach: loss must be a decision. */
export function findRpoBreaches(atRisk: DataAtRisk, objectives: Topology['objectives']): RpoBreach[] {
  const breaches: RpoBreach[] = [];
  const pg = atRisk.postgres;
  if (pg.lagSeconds === null && (pg.lagBytes === null || pg.lagBytes > 0)) {
    breaches.push({
      store: 'postgres',
      objectiveSeconds: objectives.postgres.rpoSeconds,
      atRiskSeconds: null,
      why: pg.primaryReachable
        ? 'replication lag could not be measured'
        : 'the old primary is unreachable: WAL it never sent cannot be measured',
    });
  } else if (pg.lagSeconds !== null && pg.lagSeconds > objectives.postgres.rpoSeconds) {
    breaches.push({
      store: 'postgres',
      objectiveSeconds: objectives.postgres.rpoSeconds,
      atRiskSeconds: pg.lagSeconds,
      why: `${pg.lagSeconds.toFixed(1)} s of transactions (${pg.lagBytes ?? '?'} bytes of WAL) not replayed on the standby`,
    });
  }
  const kafkaLag = atRisk.kafka.maxLagSeconds;
  if (!Number.isFinite(kafkaLag) || kafkaLag > objectives.kafka.rpoSeconds) {
    const worst = [...atRisk.kafka.topics].sort((a, b) => b.lagSeconds - a.lagSeconds)[0];
    breaches.push({
      store: 'kafka',
      objectiveSeconds: objectives.kafka.rpoSeconds,
      atRiskSeconds: Number.isFinite(kafkaLag) ? kafkaLag : null,
      why: Number.isFinite(kafkaLag)
        ? `MirrorMaker 2 is ${kafkaLag.toFixed(1)} s behind on ${worst?.topic} (${worst?.messagesBehind} messages)`
        : 'MirrorMaker 2 lag could not be measured (source cluster unreachable)',
    });
  }
  return breaches;
}

/**
 * The RPO gate: promotion goes ahead only when what is at risk is within every objective,
 * or when the run carries an explicit allowDataLoss decision, which is recorded.
 */
export const evaluateRpoGateStep = defineStep({
  name: 'evaluate-rpo-gate',
  input: RunWithStepsInputSchema,
  async run({ run, steps }, deps: Pick<DrDependencies, 'topology' | 'runRecords'>, clock) {
    const { dataAtRisk } = resultOf<{ dataAtRisk: DataAtRisk }>(steps, 'waitForDrain');
    const breaches = findRpoBreaches(dataAtRisk, deps.topology.objectives);
    const decision =
      breaches.length === 0 ? 'proceed' : run.allowDataLoss ? 'proceed-with-data-loss' : 'stop';
    if (decision === 'proceed-with-data-loss' && !run.dryRun) {
      await deps.runRecords.append(run.runId, {
        kind: 'decision.allowDataLoss.applied',
        at: clock.now().toISOString(),
        data: { ...run.allowDataLoss, breaches },
      });
    }
    return {
      action: 'observed' as const,
      observed: { breaches, allowDataLoss: run.allowDataLoss },
      changes:
        decision === 'proceed-with-data-loss'
          ? [`recorded the allowDataLoss decision of ${run.allowDataLoss?.approvedBy}`]
          : [],
      result: { decision, breaches },
    };
  },
});
