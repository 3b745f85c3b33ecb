import { observeTargetHealth } from '../check-target-health/logic';
import { ExecutionEventSchema, checkRunRegions } from '../validate-input/logic';
import type { DrDependencies } from '../shared/dependencies';
import {
  InvalidInputError,
  LockHeldError,
  NoFailoverToReturnFromError,
  TargetUnhealthyError,
} from '../shared/errors';
import { FailbackRequestSchema, type Run } from '../shared/run';
import { defineStep } from '../shared/step';
import { formatIssues } from '../shared/topology';

/**
 * The failback's first state: turns the operator's request into a run, and refuses it —
 * naming the reason, before any lock, record or change — when it is malformed, when another
 * DR run holds the lock, when the region to return to is not healthy, or when there is no
 * failover to return from (traffic and the active-region parameter already name the target).
 * Everything here is read-only.
 */
export const validateFailbackRequestStep = defineStep({
  name: 'validate-failback-request',
  input: ExecutionEventSchema,
  async run(
    { input, execution },
    deps: Pick<
      DrDependencies,
      'topology' | 'region' | 'lock' | 'flags' | 'router' | 'postgres' | 'kafka' | 'redis'
    >,
    clock,
  ) {
    const parsed = FailbackRequestSchema.safeParse(input);
    if (!parsed.success) {
      throw new InvalidInputError(`failback request rejected:\n${formatIssues(parsed.error.issues)}`);
    }
    const request = parsed.data;
    const { topology } = deps;
    const { sourceRegion, targetRegion } = request;
    checkRunRegions(deps, request, 'failback');

    const now = clock.now();
    const holder = await deps.lock.current(topology.application);
    if (holder && holder.owner !== execution.id && new Date(holder.expiresAt) > now) {
      throw new LockHeldError(
        `failback refused: ${topology.application} is locked by DR run ${holder.runId} until ${holder.expiresAt}`,
        { holder },
      );
    }

    const health = await observeTargetHealth({ sourceRegion, targetRegion }, deps);
    if (health.problems.length > 0) {
      throw new TargetUnhealthyError(
        `failback refused: ${targetRegion} is not healthy: ${health.problems.join('; ')}`,
        health.observed,
      );
    }

    const [routes, sourceFlags, targetFlags] = await Promise.all([
      deps.router.activeRegions(),
      deps.flags(sourceRegion).read(),
      deps.flags(targetRegion).read(),
    ]);
    const routedToTarget = Object.entries(routes).filter(([, region]) => region === targetRegion);
    const allRoutedToTarget = routedToTarget.length === Object.keys(routes).length;
    if (allRoutedToTarget || sourceFlags.activeRegion !== sourceRegion) {
      throw new NoFailoverToReturnFromError(
        `failback refused: no failover to return from — ${targetRegion} is already primary (` +
          [
            allRoutedToTarget ? `every trading endpoint routes to ${targetRegion}` : null,
            sourceFlags.activeRegion !== sourceRegion
              ? `the active-region parameter in ${sourceRegion} names ${sourceFlags.activeRegion}`
              : null,
          ]
            .filter(Boolean)
            .join('; ') +
          ')',
        {
          routes,
          sourceActiveRegion: sourceFlags.activeRegion,
          targetActiveRegion: targetFlags.activeRegion,
        },
      );
    }

    const run: Run = {
      runId: execution.name,
      executionId: execution.id,
      application: topology.application,
      mode: request.mode,
      dryRun: request.mode === 'dryRun',
      trigger: {
        kind: request.trigger,
        requestedBy: request.requestedBy,
        ...(request.reason ? { reason: request.reason } : {}),
      },
      sourceRegion,
      targetRegion,
      allowDataLoss: null,
      declaredAt: new Date(execution.startTime).toISOString(),
      workflow: 'failback',
      failback: {
        warmupSeconds: request.warmupSeconds,
        readinessTimeoutSeconds: request.readinessTimeoutSeconds,
        ...(request.failoverRunId ? { failoverRunId: request.failoverRunId } : {}),
      },
    };
    return {
      action: 'observed' as const,
      observed: {
        mode: request.mode,
        sourceRegion,
        targetRegion,
        lock: holder,
        routes,
        activeRegion: { [sourceRegion]: sourceFlags.activeRegion, [targetRegion]: targetFlags.activeRegion },
        targetHealth: health.observed,
      },
      changes: [],
      result: { run },
    };
  },
});
