import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { InvalidInputError } from '../shared/errors';
import { ExecutionInputSchema, type Run } from '../shared/run';
import { defineStep } from '../shared/step';
import { formatIssues } from '../shared/topology';

/** What the first state of a workflow receives: the raw execution input and the execution's identity. */
export const ExecutionEventSchema = z
  .object({
    input: z.unknown(),
    execution: z
      .object({
        id: z.string().min(1),
        name: z.string().min(1),
        startTime: z.string().datetime({ offset: true }),
      })
      .strict(),
  })
  .strict();

/**
 * Both regions in the topology, distinct, and the target the orchestrator's own region: a run
 * into a region is started by the orchestrator deployed there (static stability).
 */
export function checkRunRegions(
  deps: Pick<DrDependencies, 'topology' | 'region'>,
  { sourceRegion, targetRegion }: { sourceRegion: string; targetRegion: string },
  workflow: 'failover' | 'failback',
): void {
  for (const [field, region] of [
    ['sourceRegion', sourceRegion],
    ['targetRegion', targetRegion],
  ] as const) {
    if (!deps.topology.regions[region]) {
      throw new InvalidInputError(
        `${field}: region '${region}' is not in the topology (known: ${Object.keys(deps.topology.regions).join(', ')})`,
      );
    }
  }
  if (sourceRegion === targetRegion)
    throw new InvalidInputError('targetRegion: must differ from sourceRegion');
  if (targetRegion !== deps.region) {
    throw new InvalidInputError(
      `targetRegion: this orchestrator runs in ${deps.region}; a ${workflow} into ${targetRegion} must be started by the orchestrator deployed there (static stability)`,
    );
  }
}

/**
 * Declare, part 1: turns whatever started the execution (alarm, console drill, CLI) into
 * a validated run. Nothing is locked or changed before this passes; every problem is
 * reported with the field it concerns.
 */
export const validateInputStep = defineStep({
  name: 'validate-input',
  input: ExecutionEventSchema,
  async run({ input, execution }, deps: Pick<DrDependencies, 'topology' | 'region'>) {
    const parsed = ExecutionInputSchema.safeParse(input);
    if (!parsed.success) {
      throw new InvalidInputError(`execution input rejected:\n${formatIssues(parsed.error.issues)}`);
    }
    const request = parsed.data;
    const { topology } = deps;
    let sourceRegion: string;
    let targetRegion: string;
    if (request.trigger === 'alarm') {
      const alarm = topology.alarms[request.alarm.name];
      if (!alarm) {
        throw new InvalidInputError(
          `alarm.name: '${request.alarm.name}' is not a configured failover alarm (known: ${Object.keys(topology.alarms).join(', ') || 'none'})`,
        );
      }
      if (request.alarm.state !== 'ALARM') {
        throw new InvalidInputError(
          `alarm.state: a failover starts only on ALARM, got '${request.alarm.state}'`,
        );
      }
      ({ sourceRegion, targetRegion } = alarm);
    } else {
      ({ sourceRegion, targetRegion } = request);
    }
    checkRunRegions(deps, { sourceRegion, targetRegion }, 'failover');
    const run: Run = {
      runId: execution.name,
      executionId: execution.id,
      application: topology.application,
      mode: request.mode,
      dryRun: request.mode === 'dryRun',
      trigger:
        request.trigger === 'alarm'
          ? {
              kind: 'alarm',
              alarmName: request.alarm.name,
              ...(request.alarm.reason ? { reason: request.alarm.reason } : {}),
            }
          : {
              kind: request.trigger,
              requestedBy: request.requestedBy,
              ...(request.reason ? { reason: request.reason } : {}),
            },
      sourceRegion,
      targetRegion,
      allowDataLoss: request.allowDataLoss ?? null,
      declaredAt: new Date(execution.startTime).toISOString(),
    };
    return {
      action: 'observed' as const,
      observed: { trigger: request.trigger, mode: request.mode, sourceRegion, targetRegion },
      changes: [],
      result: { run },
    };
  },
});
