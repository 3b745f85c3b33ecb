import * as z from 'zod';

export const RUN_MODES = ['failover', 'drill', 'dryRun'] as const;
export type RunMode = (typeof RUN_MODES)[number];

/** An explicit, recorded decision to promote although data at risk exceeds an RPO objective (cf. Aurora's AllowDataLoss). */
export const AllowDataLossSchema = z
  .object({
    approvedBy: z.string().min(1, 'who decided must be named'),
    reason: z.string().min(10, 'the reason must say why (10 characters or more)'),
  })
  .strict();
export type AllowDataLoss = z.infer<typeof AllowDataLossSchema>;

const regionName = z
  .string()
  .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region name such as us-west-2');

/** What the EventBridge rule's input transformer sends for an alarm. */
export const AlarmTriggerInputSchema = z
  .object({
    trigger: z.literal('alarm'),
    mode: z.literal('failover'),
    alarm: z
      .object({ name: z.string().min(1), state: z.string().min(1), reason: z.string().optional() })
      .strict(),
    time: z.string().datetime({ offset: true, message: 'must be an ISO-8601 timestamp' }),
    allowDataLoss: AllowDataLossSchema.optional(),
  })
  .strict();

/** A drill or planned failover started from the console or the CLI. */
export const OperatorTriggerInputSchema = z
  .object({
    trigger: z.enum(['console', 'cli']),
    mode: z.enum(RUN_MODES),
    sourceRegion: regionName,
    targetRegion: regionName,
    requestedBy: z.string().min(1, 'who started the run must be named'),
    reason: z.string().min(1).optional(),
    allowDataLoss: AllowDataLossSchema.optional(),
  })
  .strict();

export const ExecutionInputSchema = z.discriminatedUnion('trigger', [
  AlarmTriggerInputSchema,
  OperatorTriggerInputSchema.extend({ trigger: z.literal('console') }),
  OperatorTriggerInputSchema.extend({ trigger: z.literal('cli') }),
]);
export type ExecutionInput = z.infer<typeof ExecutionInputSchema>;

/** The validated run every later state receives at `$.run`. */
export const RunSchema = z
  .object({
    runId: z.string().min(1),
    executionId: z.string().min(1),
    application: z.string().min(1),
    mode: z.enum(RUN_MODES),
    dryRun: z.boolean(),
    trigger: z
      .object({
        kind: z.enum(['alarm', 'console', 'cli']),
        alarmName: z.string().optional(),
        requestedBy: z.string().optional(),
        reason: z.string().optional(),
      })
      .strict(),
    sourceRegion: regionName,
    targetRegion: regionName,
    allowDataLoss: AllowDataLossSchema.nullable(),
    declaredAt: z.string().datetime({ offset: true }),
  })
  .strict();
export type Run = z.infer<typeof RunSchema>;
