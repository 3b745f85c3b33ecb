import * as z from 'zod';
import { InvalidInputError } from '../shared/errors';
import type { BackupValidationDependencies } from '../shared/backup-validation/dependencies';
import { maxBackupAgeSeconds } from '../shared/backup-validation/checks';
import { BackupValidationInputSchema, type BackupValidationRun } from '../shared/backup-validation/run';
import { defineStep } from '../shared/step';
import { formatIssues } from '../shared/topology';

const InputSchema = z
  .object({
    input: z.unknown(),
    execution: z
      .object({ id: z.string().min(1), name: z.string().min(1), startTime: z.string().min(1) })
      .strict(),
  })
  .strict();

/**
 * Validates what started the backup validation (schedule, operator, AWS Backup restore
 * testing) and fixes the run: which stores, which backups, the age limits from the runbook's
 * objectives. Bad input is refused here, before anything is read or restored.
 */
export const startBackupValidationStep = defineStep({
  name: 'start-backup-validation',
  input: InputSchema,
  async run({ input, execution }, deps: Pick<BackupValidationDependencies, 'topology' | 'region'>) {
    const parsed = BackupValidationInputSchema.safeParse(input ?? {});
    if (!parsed.success)
      throw new InvalidInputError(
        `backup validation input is invalid:\n${formatIssues(parsed.error.issues)}`,
        {
          issues: parsed.error.issues.map((i) => ({
            path: i.path.map(String).join('.'),
            message: i.message,
          })),
        },
      );
    const i = parsed.data;
    const objectives = deps.topology.objectives;
    const run: BackupValidationRun = {
      runId: execution.name,
      executionId: execution.id,
      application: deps.topology.application,
      region: deps.region,
      trigger: i.trigger,
      requestedBy: i.requestedBy,
      reason: i.reason ?? null,
      schedule:
        i.scheduledTime || i.scheduleExecutionId || i.attemptNumber !== undefined
          ? Object.fromEntries(
              Object.entries({
                scheduledTime: i.scheduledTime,
                scheduleExecutionId: i.scheduleExecutionId,
                attemptNumber: i.attemptNumber === undefined ? undefined : String(i.attemptNumber),
              }).filter((e): e is [string, string] => e[1] !== undefined),
            )
          : null,
      startedAt: execution.startTime,
      stores: i.stores,
      backups: i.backups,
      maxAgeSeconds: {
        postgres: i.maxAgeSeconds.postgres ?? maxBackupAgeSeconds('postgres', objectives.postgres.rpoSeconds),
        redis: i.maxAgeSeconds.redis ?? maxBackupAgeSeconds('redis', objectives.redis.rpoSeconds),
        kafka: i.maxAgeSeconds.kafka ?? maxBackupAgeSeconds('kafka', objectives.kafka.rpoSeconds),
      },
      objectives: {
        postgres: { ...objectives.postgres },
        redis: { ...objectives.redis },
        kafka: { ...objectives.kafka },
      },
      postgres: i.postgres,
      kafka: {
        toleranceMessages: i.kafka.toleranceMessages ?? null,
        windowSeconds: i.kafka.windowSeconds,
        maxRecords: i.kafka.maxRecords,
      },
      restoreJobId: i.restoreTesting?.restoreJobId ?? null,
    };
    return {
      action: 'observed' as const,
      observed: { trigger: i.trigger, stores: i.stores, named: i.backups },
      changes: [],
      result: { run },
    };
  },
});
