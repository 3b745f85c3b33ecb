import * as z from 'zod';
import { BackupValidationRunSchema } from './run';

/** A restore step's input: the run and the backup to restore (selected by SelectBackups). */
export const RestoreInputSchema = z
  .object({ run: BackupValidationRunSchema, backupId: z.string().min(1) })
  .strict();

/** A validation step's input: the run, the backup, and the target its restore step returned. */
export const restoredTargetInput = <T extends z.ZodTypeAny>(target: T) =>
  z.object({ run: BackupValidationRunSchema, backupId: z.string().min(1), target }).strict();

export const RestoredPostgresSchema = z
  .object({
    kind: z.enum(['sandbox-postgres', 'rds-instance', 'aurora-cluster']),
    targetId: z.string().min(1),
    backupId: z.string().min(1),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    database: z.string().min(1),
    operatorUser: z.string().min(1),
    applicationUser: z.string().min(1),
    restoreMs: z.number().nonnegative(),
    details: z.record(z.string(), z.unknown()),
  })
  .strict();

export const RestoredRedisSchema = z
  .object({
    kind: z.literal('sandbox-redis'),
    targetId: z.string().min(1),
    backupId: z.string().min(1),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    restoreMs: z.number().nonnegative(),
    details: z.record(z.string(), z.unknown()),
  })
  .strict();
