import path from 'node:path';
import { z } from 'zod';

/** Loopback only: the sandbox never listens on, or talks to, anything else. */
export const SANDBOX_HOST = '127.0.0.1';

const port = z.number().int().min(1024).max(65535);

/** Offsets from `portBase` of every port the sandbox binds. */
export const PORT_OFFSETS = {
  postgresPrimary: 0,
  postgresStandby: 1,
  redisPrimary: 2,
  redisReplica: 3,
  kafkaA: 4,
  kafkaAController: 5,
  kafkaB: 6,
  kafkaBController: 7,
  moto: 8,
} as const;
export type PortName = keyof typeof PORT_OFFSETS;

export const SandboxConfigSchema = z
  .object({
    /** Directory the sandbox owns: data directories, logs, state. Removed by `down`. */
    rootDir: z.string().min(1),
    /** Directory for downloaded artifacts (Kafka jars, moto venv) kept across runs. */
    cacheDir: z.string().min(1),
    portBase: port.max(65535 - 9).default(25400),
    regions: z
      .object({
        primary: z.string().regex(/^[a-z]{2}-[a-z]+-\d$/, 'must look like an AWS region, e.g. us-east-1'),
        secondary: z.string().regex(/^[a-z]{2}-[a-z]+-\d$/, 'must look like an AWS region, e.g. us-west-2'),
      })
      .strict()
      .refine((r) => r.primary !== r.secondary, 'primary and secondary must be different regions')
      .default({ primary: 'us-east-1', secondary: 'us-west-2' }),
    postgres: z
      .object({
        /** Synchronous replication (synchronous_standby_names) for zero-RPO runs. */
        synchronous: z.boolean().default(false),
      })
      .strict()
      .default({ synchronous: false }),
    kafka: z
      .object({
        version: z
          .string()
          .regex(/^3\.\d+\.\d+$/, 'must be a Kafka 3.x version (kafkajs cannot talk to 4.x)')
          .default('3.9.2'),
        brokerHeapMb: z.number().int().min(128).max(2048).default(256),
        mirrorMakerHeapMb: z.number().int().min(128).max(2048).default(256),
        /** MirrorMaker 2 `offset.lag.max`: the bound on duplicates after offset translation. */
        offsetLagMax: z.number().int().min(0).default(10),
      })
      .strict()
      .default({ version: '3.9.2', brokerHeapMb: 256, mirrorMakerHeapMb: 256, offsetLagMax: 10 }),
    /** Kafka topics MirrorMaker 2 replicates from the primary to the secondary region. */
    criticalTopics: z
      .array(z.string().regex(/^[a-zA-Z0-9._-]+$/))
      .min(1)
      .default(['orders', 'fills', 'risk_events']),
    startTimeoutSeconds: z.number().int().min(10).max(900).default(120),
  })
  .strict();

export type SandboxConfig = z.infer<typeof SandboxConfigSchema>;
export type SandboxConfigInput = z.input<typeof SandboxConfigSchema>;

export class SandboxConfigError extends Error {
  override name = 'SandboxConfigError';
}

/** Validates a config, naming every offending field; never returns a partial config. */
export function parseSandboxConfig(input: unknown, source = 'sandbox config'): SandboxConfig {
  const result = SandboxConfigSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new SandboxConfigError(`Invalid ${source}:\n${problems.join('\n')}`);
  }
  return result.data;
}

export function portOf(config: SandboxConfig, name: PortName): number {
  return config.portBase + PORT_OFFSETS[name];
}

export function defaultSandboxConfig(
  repoRoot: string,
  name = 'default',
  overrides: Partial<SandboxConfigInput> = {},
) {
  return parseSandboxConfig({
    rootDir: path.join(repoRoot, '.sandbox', name),
    cacheDir: path.join(repoRoot, '.sandbox', 'cache'),
    ...overrides,
  });
}
