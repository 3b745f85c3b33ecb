import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import {
  DR_METRICS,
  DR_METRICS_NAMESPACE,
  DR_SERVICE_NAME,
  STEP_DIMENSION,
  type StepFigure,
} from './metrics';
import { executeStep, type StepDefinition } from './step';
import type { StepResult } from './evidence';

/** One logger for the service, at module scope (Powertools practice). */
export const logger = new Logger({ serviceName: DR_SERVICE_NAME });

/**
 * One Metrics instance for the service, at module scope: CloudWatch Embedded Metric Format
 * on stdout, which Lambda's log pipeline turns into metrics (no PutMetricData call).
 */
export const metrics = new Metrics({ namespace: DR_METRICS_NAMESPACE, serviceName: DR_SERVICE_NAME });

/** Supplies a step's dependencies for one invocation; long-lived parts are built once per execution environment. */
export type DependencyProvider<D> = (event: unknown) => Promise<D> | D;

export interface LambdaHandlerOptions<I, R> {
  /** The figures this step produces for the dashboard (replication lag, measured RTO, …). @default none */
  readonly figures?: (result: R, input: I) => readonly StepFigure[];
  /**
   * Where metrics go. @default the module's Metrics when running in Lambda
   * (AWS_LAMBDA_FUNCTION_NAME is set), none elsewhere: the local runner and the drill
   * print no EMF.
   */
  readonly metrics?: Metrics;
}

/**
 * The thin handler every step folder exports: middy with the Powertools logger, over the
 * same `executeStep` the local runner calls. `dependencies` must provide at least what the
 * step's logic declares (`P extends D`): a deployed handler passes
 * `fromEnvironment(<its providers>)` (aws-dependencies.ts), the local runner its pool.
 * Every invocation emits the step's duration (or a failure count) and the figures the step
 * declares, as EMF metrics the dashboard reads.
 */
export function lambdaHandler<I, D, R, P extends D = D>(
  step: StepDefinition<I, D, R>,
  dependencies: DependencyProvider<P>,
  options: LambdaHandlerOptions<I, R> = {},
) {
  const sink = options.metrics ?? (process.env.AWS_LAMBDA_FUNCTION_NAME ? metrics : undefined);
  return middy(async (event: unknown) => {
    logger.appendKeys({ step: step.name });
    let result: StepResult<R>;
    try {
      result = await executeStep(step, event, await dependencies(event));
    } catch (err) {
      if (sink) emitStepMetric(sink, step.name, DR_METRICS.stepFailed, MetricUnit.Count, 1);
      throw err;
    }
    logger.info('step finished', {
      action: result.evidence.action,
      changes: result.evidence.changes,
      durationMs: result.evidence.durationMs,
    });
    if (sink) {
      emitStepMetric(
        sink,
        step.name,
        DR_METRICS.stepDuration,
        MetricUnit.Milliseconds,
        result.evidence.durationMs,
      );
      emitFigures(sink, step, event, result.result, options.figures);
    }
    return result;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

/** One metric with the step dimension, published at once (its own EMF document). */
function emitStepMetric(
  sink: Metrics,
  stepName: string,
  name: string,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit],
  value: number,
) {
  const single = sink.singleMetric();
  single.addDimension(STEP_DIMENSION, stepName);
  single.addMetric(name, unit, value);
}

/** The step's own figures, with the service dimension only (one EMF document). Never fails the step. */
function emitFigures<I, D, R>(
  sink: Metrics,
  step: StepDefinition<I, D, R>,
  event: unknown,
  result: R,
  figures: LambdaHandlerOptions<I, R>['figures'],
) {
  if (!figures) return;
  try {
    const produced = figures(result, step.input.parse(event)).filter((f) => Number.isFinite(f.value));
    if (produced.length === 0) return;
    for (const figure of produced) sink.addMetric(figure.name, MetricUnit[figure.unit], figure.value);
    sink.publishStoredMetrics();
  } catch (err) {
    logger.warn('could not emit the step’s metrics', { error: (err as Error).message });
  }
}
