import type { DataAtRisk } from '../shared/measure/data-at-risk';
import { DR_METRICS, type StepFigure } from '../shared/metrics';

/** Replication lag at declaration, per store, for the dashboard; a store that could not be measured emits nothing. */
export function dataAtRiskFigures(atRisk: DataAtRisk): StepFigure[] {
  const figures: StepFigure[] = [];
  const add = (name: StepFigure['name'], unit: StepFigure['unit'], value: number | null) => {
    if (value !== null) figures.push({ name, unit, value });
  };
  add(DR_METRICS.postgresLagSeconds, 'Seconds', atRisk.postgres.lagSeconds);
  add(DR_METRICS.postgresLagBytes, 'Bytes', atRisk.postgres.lagBytes);
  if (atRisk.kafka.topics.length > 0) {
    add(DR_METRICS.kafkaLagSeconds, 'Seconds', atRisk.kafka.maxLagSeconds);
    add(
      DR_METRICS.kafkaMessagesBehind,
      'Count',
      atRisk.kafka.topics.reduce((sum, t) => sum + t.messagesBehind, 0),
    );
  }
  add(DR_METRICS.redisOffsetBehindBytes, 'Bytes', atRisk.redis.offsetBehindBytes);
  return figures;
}
