import * as z from 'zod';

/**
 * The one typed description of what tradepulse-dr protects and how: regions and their
 * endpoints, the control-plane resources homed in each region, alarms, and the runbook's
 * recovery objectives. `bin/` (from the CDK config) and the local runner (from the
 * sandbox) build it; steps receive it, they never read the environment for it.
 */
const region = z
  .string()
  .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region name such as us-east-1');
const hostPort = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict();

export const TRADING_ENDPOINTS = ['api', 'postgresWriter', 'kafkaBootstrap', 'redis'] as const;
export type TradingEndpoint = (typeof TRADING_ENDPOINTS)[number];
const endpointMap = <T extends z.ZodTypeAny>(value: T) =>
  z.object({ api: value, postgresWriter: value, kafkaBootstrap: value, redis: value }).strict();

export const PostgresTopologySchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('self-managed'),
      ...hostPort.shape,
      database: z.string().min(1),
      /** Role with the rights to fence and promote (superuser on self-managed). */
      operatorUser: z.string().min(1),
      /** Role the trading applications use; fencing terminates its sessions. */
      applicationUser: z.string().min(1),
      /** Secrets Manager secret (same region) holding the operator password; absent in the sandbox (trust auth). */
      passwordSecretArn: z.string().startsWith('arn:').optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('rds'),
      ...hostPort.shape,
      database: z.string().min(1),
      operatorUser: z.string().min(1),
      applicationUser: z.string().min(1),
      passwordSecretArn: z.string().startsWith('arn:').optional(),
      dbInstanceIdentifier: z.string().min(1),
    })
    .strict(),
  z
    .object({
      kind: z.literal('aurora-global'),
      ...hostPort.shape,
      database: z.string().min(1),
      operatorUser: z.string().min(1),
      applicationUser: z.string().min(1),
      passwordSecretArn: z.string().startsWith('arn:').optional(),
      globalClusterIdentifier: z.string().min(1),
      dbClusterArn: z.string().startsWith('arn:'),
    })
    .strict(),
]);
export type PostgresTopology = z.infer<typeof PostgresTopologySchema>;

export const RegionTopologySchema = z
  .object({
    postgres: PostgresTopologySchema,
    kafka: z
      .object({ brokers: z.array(z.string().regex(/^[^:]+:\d+$/, 'must be host:port')).min(1) })
      .strict(),
    redis: hostPort,
    /** Control-plane resources homed in this region (static stability: a failover into it uses only these). */
    aws: z
      .object({
        snsTopicArn: z.string().startsWith('arn:aws:sns:'),
        evidenceBucket: z.string().min(3),
        lockTable: z.string().min(3),
        eventBusName: z.string().min(1).default('default'),
        /** KMS keys of scheduled backups (issue 5): data keys are generated under `dataKeyArn`, manifests signed by `signingKeyArn`. */
        backup: z
          .object({ dataKeyArn: z.string().startsWith('arn:'), signingKeyArn: z.string().startsWith('arn:') })
          .strict()
          .optional(),
        parameters: z
          .object({
            acceptNewOrders: z.string().startsWith('/'),
            strategyActivation: z.string().startsWith('/'),
            activeRegion: z.string().startsWith('/'),
            deploymentFreeze: z.string().startsWith('/'),
          })
          .strict(),
      })
      .strict(),
  })
  .strict();
export type RegionTopology = z.infer<typeof RegionTopologySchema>;

const objective = z
  .object({ rpoSeconds: z.number().nonnegative(), rtoSeconds: z.number().positive() })
  .strict();

/** The runbook's Recovery Objectives table. */
export const RUNBOOK_OBJECTIVES = {
  postgres: { rpoSeconds: 60, rtoSeconds: 600 },
  kafka: { rpoSeconds: 30, rtoSeconds: 480 },
  redis: { rpoSeconds: 300, rtoSeconds: 300 },
} as const;

export const TopologySchema = z
  .object({
    application: z.string().regex(/^[a-z][a-z0-9-]{1,40}$/, 'lower-case letters, digits and dashes'),
    regions: z
      .record(region, RegionTopologySchema)
      .refine((r) => Object.keys(r).length >= 2, 'at least two regions'),
    dns: z
      .object({
        method: z.enum(['route53-weighted', 'arc-routing-control']).default('route53-weighted'),
        hostedZoneId: z.string().min(1),
        /** The record name clients resolve, per trading endpoint. */
        records: endpointMap(z.string().min(1)),
        /** The CNAME target of each endpoint in each region; the set identifier is the region name. */
        targets: z.record(region, endpointMap(z.string().min(1))),
        ttlSeconds: z.number().int().min(1).max(300).default(5),
        arc: z
          .object({
            clusterEndpoints: z.array(z.object({ endpoint: z.string().url(), region })).min(1),
            routingControlArns: z.record(region, z.string().startsWith('arn:')),
          })
          .strict()
          .optional(),
      })
      .strict(),
    /** CloudWatch alarms that may start a failover, and which way. */
    alarms: z.record(z.string().min(1), z.object({ sourceRegion: region, targetRegion: region }).strict()),
    objectives: z
      .object({ postgres: objective, kafka: objective, redis: objective })
      .strict()
      .default(RUNBOOK_OBJECTIVES),
    kafka: z
      .object({
        criticalTopics: z.array(z.string().min(1)).min(1).default(['orders', 'fills', 'risk_events']),
        /** MirrorMaker 2 alias of each region as a replication source (mirrored topics are `<alias>.<topic>`). */
        sourceAliases: z.record(region, z.string().min(1)),
        /** The runbook's "Kafka replication lag < 30 s". */
        maxLagSeconds: z.number().positive().default(30),
        /** MirrorMaker 2 offset.lag.max: the bound on re-delivered messages after offset translation. */
        offsetLagMax: z.number().int().nonnegative().default(100),
      })
      .strict(),
    lockLeaseSeconds: z.number().int().min(60).default(7200),
    heightenedMonitoringMinutes: z.number().int().positive().default(120),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const [name, alarm] of Object.entries(t.alarms)) {
      for (const key of ['sourceRegion', 'targetRegion'] as const) {
        if (!t.regions[alarm[key]])
          ctx.addIssue({
            code: 'custom',
            path: ['alarms', name, key],
            message: `region ${alarm[key]} is not in regions`,
          });
      }
    }
    for (const r of Object.keys(t.regions)) {
      if (!t.dns.targets[r])
        ctx.addIssue({
          code: 'custom',
          path: ['dns', 'targets', r],
          message: 'every region needs DNS targets',
        });
      if (!t.kafka.sourceAliases[r])
        ctx.addIssue({
          code: 'custom',
          path: ['kafka', 'sourceAliases', r],
          message: 'every region needs a MirrorMaker 2 alias',
        });
    }
    if (t.dns.method === 'arc-routing-control' && !t.dns.arc) {
      ctx.addIssue({
        code: 'custom',
        path: ['dns', 'arc'],
        message: 'required when dns.method is arc-routing-control',
      });
    }
  });
export type Topology = z.infer<typeof TopologySchema>;
export type TopologyInput = z.input<typeof TopologySchema>;

export class TopologyConfigError extends Error {
  override name = 'TopologyConfigError';
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `  - ${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('\n');
}

export function parseTopology(input: unknown, source = 'topology config'): Topology {
  const result = TopologySchema.safeParse(input);
  if (!result.success)
    throw new TopologyConfigError(`Invalid ${source}:\n${formatIssues(result.error.issues)}`);
  return result.data;
}
