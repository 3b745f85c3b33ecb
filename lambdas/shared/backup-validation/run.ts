import * as z from 'zod';
import { BACKUP_ID_PATTERN } from '../backup/contracts';
import { VALIDATED_STORES, type ValidatedStore } from './checks';

/** The backup kind each validated store's backups are listed under. */
export const BACKUP_KIND_OF = { postgres: 'postgres', redis: 'redis', kafka: 'kafka-offsets' } as const;

const backupIdOf = (store: ValidatedStore) =>
  z
    .string()
    .regex(
      BACKUP_ID_PATTERN,
      `must be a backup id like ${BACKUP_KIND_OF[store]}-20261127T043000123Z-1a2b3c4d`,
    )
    .refine(
      (id) => id.startsWith(`${BACKUP_KIND_OF[store]}-`),
      `must be a ${BACKUP_KIND_OF[store]} backup id`,
    );
const seconds = z
  .number()
  .int()
  .positive()
  .max(90 * 86_400);

/**
 * What starts a backup validation: an EventBridge Scheduler schedule (`{"trigger":"schedule"}`),
 * an operator (CLI, console), or an AWS Backup restore-testing job. Everything is optional:
 * by default the latest backup of every store is validated.
 */
export const BackupValidationInputSchema = z
  .object({
    trigger: z.enum(['schedule', 'cli', 'console', 'restore-testing']).default('schedule'),
    /** The schedule's input names the workflow it starts (events/backup-validation-schedule.json). */
    workflow: z.literal('backup-validation').optional(),
    requestedBy: z.string().min(1).default('scheduler'),
    reason: z.string().min(1).optional(),
    /** 'latest' (the default): the newest backup of each store; name backups in `backups` instead. */
    backup: z.literal('latest').optional(),
    /** EventBridge Scheduler's context (<aws.scheduler.*> placeholders), kept as evidence. */
    scheduledTime: z.string().min(1).optional(),
    scheduleExecutionId: z.string().min(1).optional(),
    attemptNumber: z.union([z.string(), z.number()]).optional(),
    stores: z
      .array(
        z.preprocess(
          // The backup kind's name is accepted for the store.
          (s) => (s === 'kafka-offsets' ? 'kafka' : s),
          z.enum(VALIDATED_STORES, { message: `must be one of ${VALIDATED_STORES.join(', ')}` }),
        ),
      )
      .min(1, 'name at least one store')
      .default([...VALIDATED_STORES])
      .refine((s) => new Set(s).size === s.length, 'a store is named twice'),
    /** Validate these backups instead of the latest of each kind. */
    backups: z
      .object({
        postgres: backupIdOf('postgres').optional(),
        redis: backupIdOf('redis').optional(),
        kafka: backupIdOf('kafka').optional(),
      })
      .strict()
      .default({}),
    /** Override the age limit (backup cadence + RPO objective) per store. */
    maxAgeSeconds: z
      .object({ postgres: seconds.optional(), redis: seconds.optional(), kafka: seconds.optional() })
      .strict()
      .default({}),
    postgres: z
      .object({
        /** amcheck's heapallindexed: also prove every heap tuple is indexed (slower). */
        heapAllIndexed: z.boolean().default(false),
        /**
         * Also hash the stored archive against the manifest before restoring (a second full
         * read). Off by default: the restore's stream authenticates every frame and checks both
         * SHA-256 before it ends, so a damaged archive fails the restore (and is torn down) anyway.
         */
        verifyCiphertextBeforeRestore: z.boolean().default(false),
      })
      .strict()
      .default({ heapAllIndexed: false, verifyCiphertextBeforeRestore: false }),
    kafka: z
      .object({
        /** Messages a translated offset may be from the primary's; default the record's offset.lag.max. */
        toleranceMessages: z.number().int().nonnegative().optional(),
        /** The replayed window of the mirrored topics. */
        windowSeconds: z.number().int().positive().max(86_400).default(300),
        maxRecords: z.number().int().positive().max(5_000_000).default(500_000),
      })
      .strict()
      .default({ windowSeconds: 300, maxRecords: 500_000 }),
    /** Set when the restore was made by an AWS Backup restore-testing job: the result is reported back to it. */
    restoreTesting: z
      .object({ restoreJobId: z.string().min(1) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    for (const store of Object.keys(input.backups) as ValidatedStore[])
      if (!input.stores.includes(store))
        ctx.addIssue({
          code: 'custom',
          path: ['backups', store],
          message: `names a ${store} backup but ${store} is not in stores (${input.stores.join(', ')})`,
        });
  });
export type BackupValidationInput = z.infer<typeof BackupValidationInputSchema>;

/** The validated run every later state receives at `$.run`. */
export const BackupValidationRunSchema = z
  .object({
    runId: z.string().min(1),
    executionId: z.string().min(1),
    application: z.string().min(1),
    region: z.string().min(1),
    trigger: z.enum(['schedule', 'cli', 'console', 'restore-testing']),
    requestedBy: z.string().min(1),
    reason: z.string().nullable(),
    /** What the schedule said about this start (time, execution id, attempt), when a schedule started it. */
    schedule: z.record(z.string(), z.string()).nullable(),
    startedAt: z.string().min(1),
    stores: z.array(z.enum(VALIDATED_STORES)).min(1),
    backups: z.object({
      postgres: z.string().optional(),
      redis: z.string().optional(),
      kafka: z.string().optional(),
    }),
    maxAgeSeconds: z.object({ postgres: z.number(), redis: z.number(), kafka: z.number() }).strict(),
    objectives: z
      .object({
        postgres: z.object({ rpoSeconds: z.number(), rtoSeconds: z.number() }).strict(),
        redis: z.object({ rpoSeconds: z.number(), rtoSeconds: z.number() }).strict(),
        kafka: z.object({ rpoSeconds: z.number(), rtoSeconds: z.number() }).strict(),
      })
      .strict(),
    postgres: z.object({ heapAllIndexed: z.boolean(), verifyCiphertextBeforeRestore: z.boolean() }).strict(),
    kafka: z
      .object({
        toleranceMessages: z.number().int().nonnegative().nullable(),
        windowSeconds: z.number().int().positive(),
        maxRecords: z.number().int().positive(),
      })
      .strict(),
    restoreJobId: z.string().nullable(),
  })
  .strict();
export type BackupValidationRun = z.infer<typeof BackupValidationRunSchema>;

export const RunInputSchema = z.object({ run: BackupValidationRunSchema }).strict();
