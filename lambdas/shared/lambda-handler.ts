import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DrDependencies } from './dependencies';
import { executeStep, type StepDefinition } from './step';

/** One logger for the service, at module scope (Powertools practice). */
export const logger = new Logger({ serviceName: 'tradepulse-dr' });

/** Supplies a step's dependencies for one invocation; long-lived parts are built once per execution environment. */
export type DependencyProvider<D> = (event: unknown) => Promise<D> | D;

/** Dependencies of a deployed Lambda: the topology and region from its environment (see aws-dependencies). */
export const fromEnvironment: DependencyProvider<DrDependencies> = async (event) => {
  const { dependenciesFromEnvironment } = await import('./aws-dependencies');
  return dependenciesFromEnvironment()(event);
};

/**
 * The thin handler every step folder exports: middy with the Powertools logger, over the
 * same `executeStep` the local runner calls.
 */
export function lambdaHandler<I, D, R>(
  step: StepDefinition<I, D, R>,
  dependencies: DependencyProvider<D> = fromEnvironment as unknown as DependencyProvider<D>,
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
