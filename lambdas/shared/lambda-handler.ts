import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { executeStep, type StepDefinition } from './step';

/** One logger for the service, at module scope (Powertools practice). */
export const logger = new Logger({ serviceName: 'tradepulse-dr' });

/** Supplies a step's dependencies for one invocation; long-lived parts are built once per execution environment. */
export type DependencyProvider<D> = (event: unknown) => Promise<D> | D;

/**
 * The thin handler every step folder exports: middy with the Powertools logger, over the
 * same `executeStep` the local runner calls. `dependencies` must provide at least what the
 * step's logic declares (`P extends D`): a deployed handler passes
 * `fromEnvironment(<its providers>)` (aws-dependencies.ts), the local runner its pool.
 */
export function lambdaHandler<I, D, R, P extends D = D>(
  step: StepDefinition<I, D, R>,
  dependencies: DependencyProvider<P>,
) {
  return middy(async (event: unknown) => {
    logger.appendKeys({ step: step.name });
    const result = await executeStep(step, event, await dependencies(event));
    logger.info('step finished', {
      action: result.evidence.action,
      changes: result.evidence.changes,
      durationMs: result.evidence.durationMs,
    });
    return result;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}
