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

/** The workflows a run belongs to: failover (the default when absent) or the return to the primary region. */
export const WORKFLOWS = ['failover', 'failback'] as const;
export type Workflow = (typeof WORKFLOWS)[number];

/** Settings of a failback run (state-machines/failback.asl.json), carried in its run. */
export const FailbackSettingsSchema = z
  .object({
    /** Synthetic load / warm-up phase before the switchover (the runbook says 30 min in production). */
    warmupSeconds: z.number().int().min(0).max(7200),
    /** How long readiness may wait for replication to catch up before the failback is refused (one invocation: below Lambda's 900 s). */
    readinessTimeoutSeconds: z.number().int().min(1).max(840),
    /** The failover run this failback returns from, when known (linked in the evidence). */
    failoverRunId: z.string().min(1).optional(),
  })
  .strict();
export type FailbackSettings = z.infer<typeof FailbackSettingsSchema>;

/**
 * A planned return to the primary region, started from the console or the CLI by the
 * orchestrator deployed in the region being returned to. `sourceRegion` is where trading is
 * now (the failover's target), `targetRegion` the region to return to.
 */
export const FailbackRequestSchema = z
  .object({
    trigger: z.enum(['console', 'cli']),
    workflow: z.literal('failback'),
    /** drill (sandbox or rehearsal), failover (a real return after an incident) or dryRun. */
    mode: z.enum(RUN_MODES),
    sourceRegion: regionName,
    targetRegion: regionName,
    requestedBy: z.string().min(1, 'who started the run must be named'),
    reason: z.string().min(1).optional(),
    warmupSeconds: z.number().int().min(0).max(7200).default(1800),
    readinessTimeoutSeconds: z.number().int().min(1).max(840).default(300),
    failoverRunId: z.string().min(1).optional(),
  })
  .strict();
export type FailbackRequest = z.infer<typeof FailbackRequestSchema>;

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
    /** Absent on failover runs (the original schema); `failback` on a return to the primary region. */
    workflow: z.enum(WORKFLOWS).optional(),
    failback: FailbackSettingsSchema.optional(),
  })
  .strict();
export type Run = z.infer<typeof RunSchema>;
