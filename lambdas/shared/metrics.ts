/**
 * The CloudWatch metrics the steps emit (Embedded Metric Format through Powertools Metrics,
 * lambdas/shared/lambda-handler.ts) and the dashboard reads (lib/dr-dashboard.ts): one list
 * of names, so the two cannot drift apart.
 */

/** The namespace of every DR metric. */
export const DR_METRICS_NAMESPACE = 'TradePulse/DR';
/** Powertools' `service` dimension, on every metric. */
export const DR_SERVICE_NAME = 'tradepulse-dr';
/** The dimension StepDuration and StepFailed carry besides `service`: the step's name (`capture-data-at-risk`). */
export const STEP_DIMENSION = 'step';

export const DR_METRICS = {
  /** Every step, from the handler wrapper: how long the step's logic took (ms). Dimensions: service, step. */
  stepDuration: 'StepDuration',
  /** Every step, from the handler wrapper: 1 when the step threw. Dimensions: service, step. */
  stepFailed: 'StepFailed',
  /** capture-data-at-risk: seconds of PostgreSQL transactions the standby had not replayed at declaration. */
  postgresLagSeconds: 'PostgresReplicationLagSeconds',
  /** capture-data-at-risk: WAL bytes the standby had not replayed at declaration. */
  postgresLagBytes: 'PostgresReplicationLagBytes',
  /** capture-data-at-risk: MirrorMaker 2 lag of the worst critical topic, in seconds. */
  kafkaLagSeconds: 'KafkaReplicationLagSeconds',
  /** capture-data-at-risk: messages not yet mirrored, summed over the critical topics. */
  kafkaMessagesBehind: 'KafkaMessagesBehind',
  /** capture-data-at-risk: replication offset the Redis replica was behind, in bytes. */
  redisOffsetBehindBytes: 'RedisReplicationOffsetBehindBytes',
  /** resume-trading: declaration → trading resumed, the run's measured RTO, in seconds. */
  measuredRtoSeconds: 'MeasuredRtoSeconds',
} as const;
export type DrMetricName = (typeof DR_METRICS)[keyof typeof DR_METRICS];

/** One figure a step produced, as the handler wrapper emits it. */
export interface StepFigure {
  readonly name: DrMetricName;
  readonly unit: 'Seconds' | 'Milliseconds' | 'Bytes' | 'Count';
  readonly value: number;
}
