import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SANDBOX_HOST, portOf, type SandboxConfig } from './config';
import type { SandboxEndpoints } from './endpoints';
import { ensureJava, ensureMaven, ensureMoto, ensurePostgres, ensureRedis } from './install';
import {
  ensureKafkaJars,
  kafkaHealth,
  startKafkaCluster,
  startMirrorMaker,
  createTopics,
  MIRROR_MAKER_NAME,
  MIRROR_SOURCE_ALIAS,
  MIRROR_TARGET_ALIAS,
  readMirrorMakerFlow,
} from './kafka';
import { SANDBOX_AWS_CREDENTIALS, seedAwsResources, startMoto } from './moto';
import { assertPortsFree } from './ports';
import {
  POSTGRES_APP_USER,
  POSTGRES_DATABASE,
  POSTGRES_OPERATOR,
  POSTGRES_REPLICATION_USER,
  POSTGRES_SERVERS,
  postgresHealth,
  postgresHostControl,
  startPostgresPair,
} from './postgres';
import { silentProgress, type Progress } from './progress';
import { redisHealth, startRedisPair } from './redis';
import { ProcessSupervisor } from './supervisor';
import type { MirrorControl, MirrorFlow } from '../lambdas/shared/adapters/contracts';
import type { SelfManagedProcessControl } from '../lambdas/shared/adapters/postgres/rebuild-host';
import { InvalidInputError } from '../lambdas/shared/errors';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export class SandboxAlreadyRunningError extends Error {
  override name = 'SandboxAlreadyRunningError';
}
export class SandboxNotRunningError extends Error {
  override name = 'SandboxNotRunningError';
}
export class SandboxStartError extends Error {
  override name = 'SandboxStartError';
}

const paths = (config: SandboxConfig) => ({
  data: path.join(config.rootDir, 'data'),
  registry: path.join(config.rootDir, 'processes.json'),
  endpoints: path.join(config.rootDir, 'endpoints.json'),
  // Logs live beside the sandbox, not inside it, so they survive the teardown that follows a failure.
  logs: path.join(path.dirname(config.rootDir), 'logs', path.basename(config.rootDir)),
});

const supervisorFor = (config: SandboxConfig) =>
  new ProcessSupervisor(paths(config).registry, paths(config).logs);

function schemaFiles(): string[] {
  const dir = path.join(REPO_ROOT, 'schemas', 'postgres');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Endpoints of a running sandbox, or throws SandboxNotRunningError. */
export function readEndpoints(config: SandboxConfig): SandboxEndpoints {
  try {
    return JSON.parse(fs.readFileSync(paths(config).endpoints, 'utf8')) as SandboxEndpoints;
  } catch {
    throw new SandboxNotRunningError(
      `no sandbox is running in ${config.rootDir} (start one with 'npm run sandbox -- up')`,
    );
  }
}

function describeEndpoints(
  config: SandboxConfig,
  awsEndpoint: string,
  resources: SandboxEndpoints['aws']['resources'],
): SandboxEndpoints {
  const region = (name: string, pgPort: number, redisPort: number, kafkaPort: number) => ({
    region: name,
    postgres: { host: SANDBOX_HOST, port: pgPort, database: POSTGRES_DATABASE },
    redis: { host: SANDBOX_HOST, port: redisPort },
    kafka: { brokers: [`${SANDBOX_HOST}:${kafkaPort}`] },
  });
  return {
    primary: region(
      config.regions.primary,
      portOf(config, 'postgresPrimary'),
      portOf(config, 'redisPrimary'),
      portOf(config, 'kafkaA'),
    ),
    secondary: region(
      config.regions.secondary,
      portOf(config, 'postgresStandby'),
      portOf(config, 'redisReplica'),
      portOf(config, 'kafkaB'),
    ),
    aws: { endpoint: awsEndpoint, credentials: SANDBOX_AWS_CREDENTIALS, resources },
    postgresUsers: { operator: POSTGRES_OPERATOR, app: POSTGRES_APP_USER },
    mirrorSourceAlias: MIRROR_SOURCE_ALIAS,
    criticalTopics: config.criticalTopics,
  };
}

/**
 * Brings up both regions' servers, health-checks each, seeds the AWS endpoint and returns
 * where everything listens. On any failure everything started is torn down again.
 */
export interface BinaryOverrides {
  /** Use this redis-server instead of the installed one (tests use it to make a server die). */
  redisServer?: string;
}

export async function startSandbox(
  config: SandboxConfig,
  progress: Progress = silentProgress,
  binaries: BinaryOverrides = {},
): Promise<SandboxEndpoints> {
  const p = paths(config);
  const supervisor = supervisorFor(config);
  if (supervisor.list().some((proc) => supervisor.isRunning(proc.name))) {
    throw new SandboxAlreadyRunningError(
      `a sandbox is already running in ${config.rootDir}; stop it with 'npm run sandbox -- down'`,
    );
  }
  await stopSandbox(config); // leftovers of a crashed run
  await assertPortsFree(config);

  // apt must run one install at a time; the downloads after it can overlap.
  const postgresInstall = await ensurePostgres(progress);
  const redisServer = binaries.redisServer ?? (await ensureRedis(progress));
  const java = await ensureJava(progress);
  const mvn = await ensureMaven(progress);
  const [kafkaJars, motoPython] = await Promise.all([
    ensureKafkaJars({ cacheDir: config.cacheDir, version: config.kafka.version, mvn, progress }),
    ensureMoto(config.cacheDir, progress),
  ]);

  const timeoutMs = config.startTimeoutSeconds * 1000;
  fs.mkdirSync(p.data, { recursive: true, mode: 0o755 });
  try {
    progress.step('starting PostgreSQL, Redis, Kafka (2 clusters) and moto');
    const kafka = (async () => {
      const clusterOptions = {
        java,
        jars: kafkaJars,
        supervisor,
        dataRoot: p.data,
        heapMb: config.kafka.brokerHeapMb,
        timeoutMs,
      };
      const [a, b] = await Promise.all([
        startKafkaCluster({
          ...clusterOptions,
          name: 'kafka-a',
          port: portOf(config, 'kafkaA'),
          controllerPort: portOf(config, 'kafkaAController'),
        }),
        startKafkaCluster({
          ...clusterOptions,
          name: 'kafka-b',
          port: portOf(config, 'kafkaB'),
          controllerPort: portOf(config, 'kafkaBController'),
        }),
      ]);
      progress.done(`Kafka clusters ready (${a.bootstrap}, ${b.bootstrap})`);
      // Both regions have their own critical topics: producers write locally after a failover,
      // while MirrorMaker 2 mirrors the primary's into `<alias>.<topic>` on the secondary.
      await Promise.all([
        createTopics(a.bootstrap, config.criticalTopics),
        createTopics(b.bootstrap, config.criticalTopics),
      ]);
      await startMirrorMaker({
        java,
        jars: kafkaJars,
        supervisor,
        dataRoot: p.data,
        heapMb: config.kafka.mirrorMakerHeapMb,
        source: a.bootstrap,
        target: b.bootstrap,
        topics: config.criticalTopics,
        offsetLagMax: config.kafka.offsetLagMax,
        timeoutMs,
      });
      progress.done(
        `MirrorMaker 2 replicating ${config.criticalTopics.join(', ')} from ${config.regions.primary} to ${config.regions.secondary}`,
      );
    })();
    const postgres = startPostgresPair({
      install: postgresInstall,
      supervisor,
      dataRoot: p.data,
      primaryPort: portOf(config, 'postgresPrimary'),
      standbyPort: portOf(config, 'postgresStandby'),
      synchronous: config.postgres.synchronous,
      schemaFiles: schemaFiles(),
      timeoutMs,
    }).then(() =>
      progress.done(
        `PostgreSQL primary and ${config.postgres.synchronous ? 'synchronous' : 'asynchronous'} streaming standby ready`,
      ),
    );
    const redis = startRedisPair({
      redisServer,
      supervisor,
      dataRoot: p.data,
      primaryPort: portOf(config, 'redisPrimary'),
      replicaPort: portOf(config, 'redisReplica'),
      timeoutMs,
    }).then(() => progress.done('Redis primary and replica ready'));
    const aws = startMoto({ python: motoPython, supervisor, port: portOf(config, 'moto'), timeoutMs }).then(
      async (endpoint) => {
        const resources = await seedAwsResources(endpoint, config.regions.primary, config.regions.secondary);
        progress.done(`moto ready on ${endpoint}, seeded hosted zone ${resources.hostedZoneName}`);
        return { endpoint, resources };
      },
    );
    // Fail fast: once one part fails, stop every server so the others' waits end at once.
    const parts: Promise<unknown>[] = [kafka, postgres, redis, aws];
    const results = await Promise.allSettled(
      parts.map((part) =>
        part.catch(async (err: unknown) => {
          await supervisor.stopAll(2000);
          throw err;
        }),
      ),
    );
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0)
      throw new SandboxStartError(failures.map((f) => (f.reason as Error).message).join('\n\n'));
    const { endpoint, resources } = await aws;
    const endpoints = describeEndpoints(config, endpoint, resources);
    fs.writeFileSync(p.endpoints, JSON.stringify(endpoints, null, 2));
    return endpoints;
  } catch (err) {
    progress.warn(`start-up failed; tearing down everything that was started (logs kept in ${p.logs})`);
    await stopSandbox(config);
    throw err instanceof SandboxStartError ? err : new SandboxStartError((err as Error).message);
  }
}

/** Stops every process this sandbox started and removes its directory. Idempotent. */
export async function stopSandbox(config: SandboxConfig, progress: Progress = silentProgress): Promise<void> {
  const supervisor = supervisorFor(config);
  const running = supervisor.list();
  if (running.length > 0)
    progress.step(`stopping ${running.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
  await supervisor.stopAll();
  fs.rmSync(config.rootDir, { recursive: true, force: true });
}

/** Stops one server of a running sandbox (tests use it to simulate a failure, e.g. MirrorMaker 2 dying). */
export async function stopServer(config: SandboxConfig, name: string): Promise<void> {
  const supervisor = supervisorFor(config);
  if (!supervisor.list().some((p) => p.name === name))
    throw new SandboxNotRunningError(`no server named ${name} in ${config.rootDir}`);
  await supervisor.stop(name);
}

export interface SandboxStatus {
  running: boolean;
  processes: { name: string; pid: number; alive: boolean; logFile: string }[];
  health?: {
    postgres: Awaited<ReturnType<typeof postgresHealth>>;
    redis: Awaited<ReturnType<typeof redisHealth>>;
    kafka: Awaited<ReturnType<typeof kafkaHealth>>;
    moto: { up: boolean };
  };
}

export async function sandboxStatus(config: SandboxConfig): Promise<SandboxStatus> {
  const supervisor = supervisorFor(config);
  const processes = supervisor.list().map((proc) => ({
    name: proc.name,
    pid: proc.pid,
    alive: supervisor.isRunning(proc.name),
    logFile: proc.logFile,
  }));
  if (!fs.existsSync(paths(config).endpoints)) return { running: false, processes };
  const endpoints = readEndpoints(config);
  const motoUp = await fetch(`${endpoints.aws.endpoint}/moto-api/`).then(
    (r) => r.ok,
    () => false,
  );
  return {
    running: processes.length > 0 && processes.every((proc) => proc.alive),
    processes,
    health: {
      postgres: await postgresHealth(endpoints.primary.postgres.port, endpoints.secondary.postgres.port),
      redis: await redisHealth(endpoints.primary.redis.port, endpoints.secondary.redis.port),
      kafka: await kafkaHealth(endpoints),
      moto: { up: motoUp },
    },
  };
}

/**
 * Control of a running sandbox's processes for the failback rebuild steps: each region's
 * PostgreSQL server (stop cleanly, pg_rewind/pg_basebackup, start again as the same managed
 * process) and the direction of its one MirrorMaker 2 process. Pass it to the DependencyPool
 * (`processControl`).
 */
export async function sandboxProcessControl(
  config: SandboxConfig,
  progress: Progress = silentProgress,
): Promise<SelfManagedProcessControl> {
  const supervisor = supervisorFor(config);
  const install = await ensurePostgres(progress);
  const dataRoot = paths(config).data;
  const timeoutMs = config.startTimeoutSeconds * 1000;
  const side = (region: string): 'primary' | 'secondary' => {
    if (region === config.regions.primary) return 'primary';
    if (region === config.regions.secondary) return 'secondary';
    throw new InvalidInputError(
      `region ${region} is not one of this sandbox's (${config.regions.primary}, ${config.regions.secondary})`,
    );
  };
  return {
    replicationUser: POSTGRES_REPLICATION_USER,
    postgres(region) {
      const name = POSTGRES_SERVERS[side(region)];
      const port = portOf(config, side(region) === 'primary' ? 'postgresPrimary' : 'postgresStandby');
      return postgresHostControl({
        install,
        supervisor,
        server: { name, dataDir: path.join(dataRoot, name), port },
        timeoutMs,
      });
    },
    mirror: new SandboxMirrorControl(config, supervisor, side, progress),
  };
}

/** The sandbox's MirrorMaker 2 process as a MirrorControl: one flow at a time, restarted the other way round. */
class SandboxMirrorControl implements MirrorControl {
  private readonly regionsByAlias: Record<string, string>;

  constructor(
    private readonly config: SandboxConfig,
    private readonly supervisor: ProcessSupervisor,
    private readonly side: (region: string) => 'primary' | 'secondary',
    private readonly progress: Progress,
  ) {
    this.regionsByAlias = {
      [MIRROR_SOURCE_ALIAS]: config.regions.primary,
      [MIRROR_TARGET_ALIAS]: config.regions.secondary,
    };
  }

  private cluster(region: string) {
    const primary = this.side(region) === 'primary';
    return {
      alias: primary ? MIRROR_SOURCE_ALIAS : MIRROR_TARGET_ALIAS,
      bootstrap: `${SANDBOX_HOST}:${portOf(this.config, primary ? 'kafkaA' : 'kafkaB')}`,
    };
  }

  async flows(): Promise<MirrorFlow[]> {
    const flow = readMirrorMakerFlow(paths(this.config).data);
    if (!flow) return [];
    const managed = this.supervisor.list().find((p) => p.name === MIRROR_MAKER_NAME);
    return [
      {
        sourceRegion: this.regionsByAlias[flow.sourceAlias] ?? flow.sourceAlias,
        targetRegion: this.regionsByAlias[flow.targetAlias] ?? flow.targetAlias,
        state: this.supervisor.isRunning(MIRROR_MAKER_NAME) ? 'running' : 'stopped',
        mechanism: 'MirrorMaker 2 (dedicated mode, sandbox process)',
        mirroredTopics: flow.topics.map((t) => `${flow.sourceAlias}.${t}`),
        detail: {
          source: flow.source,
          target: flow.target,
          ...(managed ? { pid: managed.pid, logFile: managed.logFile } : {}),
        },
      },
    ];
  }

  async replicate(sourceRegion: string, targetRegion: string) {
    if (this.side(sourceRegion) === this.side(targetRegion))
      throw new InvalidInputError(`cannot mirror ${sourceRegion} into itself`);
    const before = await this.flows();
    const running = before.find((f) => f.state === 'running');
    if (running && running.sourceRegion === sourceRegion && running.targetRegion === targetRegion)
      return { alreadyDone: true, stopped: [], started: null, flow: running };
    const stopped: MirrorFlow[] = [];
    if (running) stopped.push({ ...running, state: 'stopped' as const });
    await this.supervisor.stop(MIRROR_MAKER_NAME); // also forgets a dead one
    const java = await ensureJava(this.progress);
    const mvn = await ensureMaven(this.progress);
    const jars = await ensureKafkaJars({
      cacheDir: this.config.cacheDir,
      version: this.config.kafka.version,
      mvn,
      progress: this.progress,
    });
    const source = this.cluster(sourceRegion);
    const target = this.cluster(targetRegion);
    await startMirrorMaker({
      java,
      jars,
      supervisor: this.supervisor,
      dataRoot: paths(this.config).data,
      heapMb: this.config.kafka.mirrorMakerHeapMb,
      source: source.bootstrap,
      sourceAlias: source.alias,
      target: target.bootstrap,
      targetAlias: target.alias,
      topics: this.config.criticalTopics,
      offsetLagMax: this.config.kafka.offsetLagMax,
      timeoutMs: this.config.startTimeoutSeconds * 1000,
    });
    const [flow] = await this.flows();
    return { alreadyDone: false, stopped, started: flow!, flow: flow! };
  }
}

/**
 * The process supervisor and data directory of a sandbox: backup validation starts its
 * disposable restore targets under them, so `sandbox down` stops and removes those too.
 */
export function sandboxProcesses(config: SandboxConfig): { supervisor: ProcessSupervisor; dataRoot: string } {
  return { supervisor: supervisorFor(config), dataRoot: paths(config).data };
}
