import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import * as z from 'zod';
import { TopologySchema, formatIssues, type Topology } from '../lambdas/shared/topology';

/**
 * The one typed deployment config the CDK app is built from: the topology every step
 * receives (lambdas/shared/topology.ts, reused as is) plus what only the deployment needs
 * — account, approvers, networking, keys, retention. Parsed at synth time; every error
 * names the field. Pure: reading the file and the CDK context happens in bin/.
 */

/** Regions of the commercial `aws` partition that CDK knows (the topology's ARNs are `arn:aws:`). */
export const KNOWN_REGIONS: readonly string[] = RegionInfo.regions
  .filter((r) => r.partition === 'aws')
  .map((r) => r.name);

const VALID_LOG_RETENTION_DAYS = Object.values(RetentionDays).filter(
  (v): v is number => typeof v === 'number',
);

const account = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');

/** IAM users and roles (also role paths) that may answer the approval. */
const principalArn = z
  .string()
  .regex(
    /^arn:aws:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/,
    'must be an IAM role or user ARN such as arn:aws:iam::111122223333:role/TradingDutyManager',
  );

const VpcSettingsSchema = z
  .object({
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id (vpc-…)'),
    /** Private subnets with a route to PostgreSQL, Kafka and Redis (and to the AWS APIs: NAT or VPC endpoints). */
    subnets: z
      .array(
        z
          .object({
            subnetId: z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id (subnet-…)'),
            availabilityZone: z.string().min(1),
          })
          .strict(),
      )
      .min(1, 'at least one subnet'),
    /** Security groups the data stores already admit; the network-reaching steps run in them. */
    securityGroupIds: z
      .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id (sg-…)'))
      .min(1, 'at least one security group'),
  })
  .strict();
export type VpcSettings = z.infer<typeof VpcSettingsSchema>;

/** Where the backup validation restores RDS / Aurora snapshots (temporary targets) in a region. */
const BackupRestoreSettingsSchema = z
  .object({
    /** A DB subnet group of this region whose subnets the restore-validating steps reach. */
    dbSubnetGroupName: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,254}$/,
        'must be a DB subnet group name (lowercase letters, digits, hyphens)',
      ),
    /** Security groups of the restored instance: they must admit the VPC steps. */
    securityGroupIds: z
      .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id (sg-…)'))
      .min(1, 'at least one security group'),
    /** @default the adapter's (db.t4g.medium) */
    instanceClass: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a DB instance class such as db.t4g.medium')
      .optional(),
  })
  .strict();
export type BackupRestoreSettings = z.infer<typeof BackupRestoreSettingsSchema>;

const RegionDeploymentSchema = z
  .object({
    /** Where the backup validation restores snapshots. @default not configured (restores on AWS are refused, naming the setting) */
    backupRestore: BackupRestoreSettingsSchema.optional(),
    /** Where the steps that reach PostgreSQL, Kafka and Redis run. @default no VPC (the sandbox-like case) */
    vpc: VpcSettingsSchema.optional(),
    /** An existing KMS key of this region for the topic and the evidence bucket. @default a key created by the stack */
    kmsKeyArn: z
      .string()
      .regex(
        /^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/,
        'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)',
      )
      .optional(),
  })
  .strict();
export type RegionDeployment = z.infer<typeof RegionDeploymentSchema>;

/** EventBridge Scheduler cron: six fields, `?` in day-of-month or day-of-week. */
const SCHEDULER_CRON = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/;
const TIME_ZONES = new Set(['UTC', ...Intl.supportedValuesOf('timeZone')]);

const BackupValidationSettingsSchema = z
  .object({
    /** Start the backup validation on this schedule. @default true */
    enabled: z.boolean().default(true),
    /** EventBridge Scheduler cron expression. @default cron(0 3 * * ? *) (03:00 every day) */
    scheduleExpression: z
      .string()
      .default('cron(0 3 * * ? *)')
      .refine(
        (cron) => {
          const m = SCHEDULER_CRON.exec(cron);
          return Boolean(m) && (m![3] === '?' || m![5] === '?') && m![3] !== m![5];
        },
        {
          message:
            'must be an EventBridge Scheduler cron expression cron(minutes hours day-of-month month day-of-week year) with ? in exactly one of day-of-month and day-of-week, e.g. cron(0 3 * * ? *)',
        },
      ),
    /** IANA time zone the cron is evaluated in. @default UTC */
    timezone: z
      .string()
      .default('UTC')
      .refine((tz) => TIME_ZONES.has(tz), {
        message: 'must be an IANA time zone such as UTC or Europe/London',
      }),
    /**
     * Hours between two scheduled runs (what the cron says): with a day of grace, the
     * "did not run" alarm fires after this many hours + 24 without a started execution.
     * At most 144 (CloudWatch evaluates at most 7 days). @default 24
     */
    expectedIntervalHours: z.number().int().min(1).max(144).default(24),
    /** Scheduler retries when StartExecution fails, before the dead-letter queue. @default 3 */
    retryAttempts: z.number().int().min(0).max(185).default(3),
    /** Oldest start request Scheduler still delivers, in minutes. @default 60 */
    maxEventAgeMinutes: z.number().int().min(1).max(1440).default(60),
  })
  .strict();
export type BackupValidationSettings = z.infer<typeof BackupValidationSettingsSchema>;

const s3BucketName = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const dynamoTableName = /^[A-Za-z0-9_.-]{3,255}$/;
const ssmParameterName = /^\/[A-Za-z0-9_.\-/]{1,1010}$/;

export const DeploymentConfigSchema = z
  .object({
    /** The account every orchestrator stack is deployed to (no lookups at synth). */
    account,
    /** Who may answer the approval task (SendTaskSuccess/Failure/Heartbeat): they assume the stack's approver role. */
    approverPrincipalArns: z
      .array(principalArn, {
        error: (issue) =>
          issue.input === undefined
            ? 'is required: the IAM roles or users who may answer the approval (at least one)'
            : 'must be a list of IAM role or user ARNs',
      })
      .min(1, 'at least one approver principal is required'),
    /** Retention of the Lambda and state-machine log groups. @default 90 */
    logRetentionDays: z
      .number()
      .int()
      .refine((d) => VALID_LOG_RETENTION_DAYS.includes(d), {
        message: `must be a CloudWatch Logs retention (${VALID_LOG_RETENTION_DAYS.join(', ')})`,
      })
      .default(90),
    /** Default Object Lock COMPLIANCE retention of the evidence bucket. @default 2555 (about seven years) */
    evidenceRetentionDays: z.number().int().min(1).max(36500).default(2555),
    /** Powertools log level of the steps. @default INFO */
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    /** Bundle the AWS SDK v3 into each step instead of using the Lambda runtime's copy. @default false */
    bundleAwsSdk: z.boolean().default(false),
    /** The scheduled backup validation (issue 5's workflow), when state-machines/backup-validation.asl.json exists. */
    backupValidation: BackupValidationSettingsSchema.prefault({}),
    /** Per orchestrator region: networking and keys. @default {} (no VPC, a stack-created key) */
    regions: z.record(z.string(), RegionDeploymentSchema).default({}),
    /** What the steps see (DR_TOPOLOGY): regions, endpoints, DNS, alarms, objectives. */
    topology: TopologySchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    const topologyRegions = Object.keys(config.topology.regions);
    for (const region of topologyRegions) {
      if (!KNOWN_REGIONS.includes(region)) {
        issue(
          ['topology', 'regions', region],
          `unknown AWS region '${region}' (known: ${KNOWN_REGIONS.join(', ')})`,
        );
      }
    }
    for (const [region, settings] of Object.entries(config.regions)) {
      if (!config.topology.regions[region]) {
        issue(
          ['regions', region],
          `'${region}' is not one of topology.regions (${topologyRegions.join(', ')})`,
        );
        continue;
      }
      settings.vpc?.subnets.forEach((subnet, i) => {
        if (!subnet.availabilityZone.startsWith(region)) {
          issue(
            ['regions', region, 'vpc', 'subnets', i, 'availabilityZone'],
            `must be an availability zone of ${region}`,
          );
        }
      });
      if (settings.kmsKeyArn && arnRegion(settings.kmsKeyArn) !== region) {
        issue(['regions', region, 'kmsKeyArn'], `must be a key in ${region} (static stability)`);
      }
    }
    for (const [region, r] of Object.entries(config.topology.regions)) {
      const at = (...path: (string | number)[]) => ['topology', 'regions', region, ...path];
      const topic = parseArn(r.aws.snsTopicArn);
      if (
        !topic ||
        topic.region !== region ||
        topic.account !== config.account ||
        !/^[A-Za-z0-9_-]{1,256}$/.test(topic.resource)
      ) {
        issue(
          at('aws', 'snsTopicArn'),
          `must be arn:aws:sns:${region}:${config.account}:<topic name> (the stack creates it)`,
        );
      }
      if (!s3BucketName.test(r.aws.evidenceBucket))
        issue(at('aws', 'evidenceBucket'), 'must be a valid S3 bucket name');
      if (!dynamoTableName.test(r.aws.lockTable))
        issue(at('aws', 'lockTable'), 'must be a valid DynamoDB table name');
      if (!/^[A-Za-z0-9._\-/]{1,256}$/.test(r.aws.eventBusName) || r.aws.eventBusName.startsWith('arn:')) {
        issue(at('aws', 'eventBusName'), 'must be the name (not the ARN) of an event bus in this region');
      }
      for (const [flag, name] of Object.entries(r.aws.parameters)) {
        if (!ssmParameterName.test(name))
          issue(
            at('aws', 'parameters', flag),
            'must be an SSM parameter name such as /tradepulse/trading/FLAG',
          );
      }
      const pg = r.postgres;
      for (const key of ['dataKeyArn', 'signingKeyArn'] as const) {
        const arn = r.aws.backup?.[key];
        if (arn && (!/^arn:aws:kms:/.test(arn) || arnRegion(arn) !== region))
          issue(at('aws', 'backup', key), `must be a KMS key of ${region} (static stability)`);
      }
      if (pg.kind === 'aurora-global' && arnRegion(pg.dbClusterArn) !== region) {
        issue(at('postgres', 'dbClusterArn'), `must be the Aurora cluster in ${region}`);
      }
      if (
        pg.passwordSecretArn &&
        !/^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(pg.passwordSecretArn)
      ) {
        issue(at('postgres', 'passwordSecretArn'), 'must be a Secrets Manager secret ARN');
      } else if (pg.passwordSecretArn && arnRegion(pg.passwordSecretArn) !== region) {
        // Every orchestrator reads the replica in its own region (same name): the primary copy is the database's region.
        issue(
          at('postgres', 'passwordSecretArn'),
          `must be the secret in ${region}, the database's region (replicated to every orchestrator region under the same name)`,
        );
      } else if (pg.passwordSecretArn && parseArn(pg.passwordSecretArn)!.account !== config.account) {
        issue(at('postgres', 'passwordSecretArn'), `must be a secret of account ${config.account}`);
      }
    }
  });

export type DeploymentConfig = z.infer<typeof DeploymentConfigSchema>;
export type DeploymentConfigInput = z.input<typeof DeploymentConfigSchema>;

export class DeploymentConfigError extends Error {
  override name = 'DeploymentConfigError';
}

/** Validates a deployment config; throws DeploymentConfigError listing every bad field by its path. */
export function parseDeploymentConfig(input: unknown, source = 'deployment config'): DeploymentConfig {
  const result = DeploymentConfigSchema.safeParse(input);
  if (!result.success)
    throw new DeploymentConfigError(`Invalid ${source}:\n${formatIssues(result.error.issues)}`);
  return result.data;
}

/** The settings of one orchestrator region, defaults applied. */
export function regionDeployment(config: DeploymentConfig, region: string): RegionDeployment {
  return config.regions[region] ?? {};
}

export function orchestratorRegions(topology: Topology): string[] {
  return Object.keys(topology.regions);
}

export interface ParsedArn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

export function parseArn(arn: string): ParsedArn | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const [, partition, service, region, accountId, ...rest] = parts;
  return {
    partition: partition!,
    service: service!,
    region: region!,
    account: accountId!,
    resource: rest.join(':'),
  };
}

export function arnRegion(arn: string): string | undefined {
  return parseArn(arn)?.region;
}
