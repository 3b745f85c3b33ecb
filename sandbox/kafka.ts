import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { SANDBOX_HOST } from './config';
import type { SandboxEndpoints } from './endpoints';
import { installOnce } from './install';
import type { Progress } from './progress';
import { runCommand } from './run-command';
import { waitUntil, type ProcessSupervisor } from './supervisor';

/** MirrorMaker 2 cluster alias of the primary region: mirrored topics on the secondary are `a.<topic>`. */
export const MIRROR_SOURCE_ALIAS = 'a';
/** MirrorMaker 2 cluster alias of the secondary region: after a failover it is the source, its topics mirrored as `b.<topic>` on the primary. */
export const MIRROR_TARGET_ALIAS = 'b';
/** The sandbox's one MirrorMaker 2 process (one direction at a time), by its supervisor name. */
export const MIRROR_MAKER_NAME = 'mirror-maker';
export const CRITICAL_TOPIC_PARTITIONS = 3;

/** Small, quick-starting JVMs: the whole sandbox has to stay under 3 GiB on 2 cores. */
function jvmFlags(heapMb: number): string[] {
  return [
    // With SerialGC the initial heap is committed up front: start small.
    '-Xms32m',
    `-Xmx${heapMb}m`,
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-XX:MaxMetaspaceSize=128m',
    '-XX:ReservedCodeCacheSize=64m',
    '-Xss512k',
    '-XX:CICompilerCount=2',
    '-Djava.awt.headless=true',
  ];
}

function pomXml(version: string): string {
  const dep = (artifact: string) =>
    `    <dependency><groupId>org.apache.kafka</groupId><artifactId>${artifact}</artifactId><version>${version}</version></dependency>`;
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tradepulse.sandbox</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${['kafka_2.13', 'kafka-tools', 'connect-mirror', 'connect-runtime'].map(dep).join('\n')}
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
`;
}

const LOG4J = `log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=\${kafka.log.file}
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.org.reflections=ERROR
`;

export interface KafkaJars {
  classpath: string;
  log4jConfig: string;
}

/** The broker, tools and MirrorMaker 2 jars from Maven Central, resolved once into the cache. */
export async function ensureKafkaJars(opts: {
  cacheDir: string;
  version: string;
  mvn: string;
  progress: Progress;
}): Promise<KafkaJars> {
  const dir = path.join(opts.cacheDir, `kafka-${opts.version}`);
  await installOnce(dir, async (tmp) => {
    opts.progress.step(`fetching Apache Kafka ${opts.version} and MirrorMaker 2 jars from Maven Central`);
    fs.writeFileSync(path.join(tmp, 'pom.xml'), pomXml(opts.version));
    await runCommand(opts.mvn, [
      '-B',
      '-q',
      '-f',
      path.join(tmp, 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${path.join(tmp, 'lib')}`,
      '-DincludeScope=runtime',
    ]);
    fs.writeFileSync(path.join(tmp, 'log4j.properties'), LOG4J);
    opts.progress.done(
      `Kafka ${opts.version}: ${fs.readdirSync(path.join(tmp, 'lib')).length} jars cached in ${dir}`,
    );
  });
  return { classpath: path.join(dir, 'lib', '*'), log4jConfig: path.join(dir, 'log4j.properties') };
}

function kafkaClient(bootstrap: string, clientId = 'tradepulse-sandbox') {
  return new Kafka({
    clientId,
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 100 },
    connectionTimeout: 2000,
  });
}

async function withAdmin<T>(
  bootstrap: string,
  fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>,
): Promise<T> {
  const admin = kafkaClient(bootstrap).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export interface KafkaClusterOptions {
  name: string;
  java: string;
  jars: KafkaJars;
  supervisor: ProcessSupervisor;
  dataRoot: string;
  port: number;
  controllerPort: number;
  heapMb: number;
  timeoutMs: number;
}

function serverProperties(o: KafkaClusterOptions, logDir: string): string {
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${SANDBOX_HOST}:${o.controllerPort}
listeners=PLAINTEXT://${SANDBOX_HOST}:${o.port},CONTROLLER://${SANDBOX_HOST}:${o.controllerPort}
advertised.listeners=PLAINTEXT://${SANDBOX_HOST}:${o.port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${logDir}
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
log.retention.ms=3600000
log.segment.bytes=16777216
log.cleaner.dedupe.buffer.size=8388608
log.cleaner.threads=1
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
num.replica.fetchers=1
`;
}

/** One single-node KRaft cluster (combined broker + controller), ready when it answers metadata. */
export async function startKafkaCluster(o: KafkaClusterOptions): Promise<{ bootstrap: string }> {
  const dir = path.join(o.dataRoot, o.name);
  const logDir = path.join(dir, 'log');
  fs.mkdirSync(dir, { recursive: true });
  const propsFile = path.join(dir, 'server.properties');
  fs.writeFileSync(propsFile, serverProperties(o, logDir));
  // A cluster id starting with '-' would be read as an option by the storage tool.
  let clusterId: string;
  do clusterId = crypto.randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-'));
  const log = path.join(o.supervisor.logDir, `${o.name}.log`);
  const logging = (file: string) => [
    `-Dlog4j.configuration=file:${o.jars.log4jConfig}`,
    `-Dkafka.log.file=${file}`,
  ];
  await runCommand(o.java, [
    ...jvmFlags(128),
    ...logging(`${log}.format`),
    '-cp',
    o.jars.classpath,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    propsFile,
  ]);
  o.supervisor.start(o.name, o.java, [
    ...jvmFlags(o.heapMb),
    ...logging(log),
    '-cp',
    o.jars.classpath,
    'kafka.Kafka',
    propsFile,
  ]);
  const bootstrap = `${SANDBOX_HOST}:${o.port}`;
  await waitUntil(
    `${o.name} to answer metadata on ${bootstrap}`,
    () => withAdmin(bootstrap, async (a) => (await a.describeCluster()).brokers.length > 0),
    {
      timeoutMs: o.timeoutMs,
      intervalMs: 500,
      alive: () => o.supervisor.assertRunning(o.name),
    },
  );
  return { bootstrap };
}

export async function createTopics(bootstrap: string, topics: string[]): Promise<void> {
  await withAdmin(bootstrap, (admin) =>
    admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({
        topic,
        numPartitions: CRITICAL_TOPIC_PARTITIONS,
        replicationFactor: 1,
      })),
    }),
  );
}

export interface MirrorMakerOptions {
  java: string;
  jars: KafkaJars;
  supervisor: ProcessSupervisor;
  dataRoot: string;
  heapMb: number;
  /** Bootstrap servers of the cluster mirrored from, and its alias. @default alias MIRROR_SOURCE_ALIAS */
  source: string;
  sourceAlias?: string;
  /** Bootstrap servers of the cluster mirrored into, and its alias. @default alias MIRROR_TARGET_ALIAS */
  target: string;
  targetAlias?: string;
  topics: string[];
  offsetLagMax: number;
  timeoutMs: number;
}

/** Which way the sandbox's MirrorMaker 2 replicates, as recorded beside its properties. */
export interface MirrorMakerFlow {
  sourceAlias: string;
  targetAlias: string;
  source: string;
  target: string;
  topics: string[];
}

const mirrorMakerDir = (dataRoot: string) => path.join(dataRoot, MIRROR_MAKER_NAME);

/** The flow the sandbox's MirrorMaker 2 was last started with (null when it never was). */
export function readMirrorMakerFlow(dataRoot: string): MirrorMakerFlow | null {
  try {
    return JSON.parse(
      fs.readFileSync(path.join(mirrorMakerDir(dataRoot), 'flow.json'), 'utf8'),
    ) as MirrorMakerFlow;
  } catch {
    return null;
  }
}

/** `a` → `b` by default; the reverse (failback) flow swaps the aliases, every other setting the same. */
function mirrorMakerProperties(o: MirrorMakerOptions): string {
  const a = o.sourceAlias ?? MIRROR_SOURCE_ALIAS;
  const b = o.targetAlias ?? MIRROR_TARGET_ALIAS;
  return `clusters = ${a}, ${b}
${a}.bootstrap.servers = ${o.source}
${b}.bootstrap.servers = ${o.target}
${a}->${b}.enabled = true
${a}->${b}.topics = ${o.topics.join(', ')}
${a}->${b}.groups = .*
${b}->${a}.enabled = false
${b}->${a}.emit.heartbeats.enabled = false
replication.policy.class = org.apache.kafka.connect.mirror.DefaultReplicationPolicy
tasks.max = 1
emit.checkpoints.enabled = true
emit.checkpoints.interval.seconds = 1
sync.group.offsets.enabled = true
sync.group.offsets.interval.seconds = 1
emit.heartbeats.enabled = true
emit.heartbeats.interval.seconds = 1
refresh.topics.interval.seconds = 5
refresh.groups.interval.seconds = 5
offset.lag.max = ${o.offsetLagMax}
# MirrorMaker 2 reads worker settings with the target cluster's prefix; unprefixed ones are ignored.
${b}.offset.flush.interval.ms = 1000
plugin.discovery = service_load
${b}.plugin.discovery = service_load
sync.topic.acls.enabled = false
sync.topic.configs.enabled = true
replication.factor = 1
checkpoints.topic.replication.factor = 1
heartbeats.topic.replication.factor = 1
offset-syncs.topic.replication.factor = 1
config.storage.replication.factor = 1
offset.storage.replication.factor = 1
status.storage.replication.factor = 1
offset.storage.partitions = 1
status.storage.partitions = 1
dedicated.mode.enable.internal.rest = false
`;
}

/** MirrorMaker 2 in dedicated mode, ready once every critical topic exists mirrored on the target. */
export async function startMirrorMaker(o: MirrorMakerOptions): Promise<void> {
  const dir = mirrorMakerDir(o.dataRoot);
  fs.mkdirSync(dir, { recursive: true });
  const sourceAlias = o.sourceAlias ?? MIRROR_SOURCE_ALIAS;
  const targetAlias = o.targetAlias ?? MIRROR_TARGET_ALIAS;
  const propsFile = path.join(dir, 'mm2.properties');
  fs.writeFileSync(propsFile, mirrorMakerProperties(o));
  const flow: MirrorMakerFlow = {
    sourceAlias,
    targetAlias,
    source: o.source,
    target: o.target,
    topics: o.topics,
  };
  fs.writeFileSync(path.join(dir, 'flow.json'), JSON.stringify(flow, null, 2));
  const log = path.join(o.supervisor.logDir, `${MIRROR_MAKER_NAME}.log`);
  o.supervisor.start(MIRROR_MAKER_NAME, o.java, [
    ...jvmFlags(o.heapMb),
    `-Dlog4j.configuration=file:${o.jars.log4jConfig}`,
    `-Dkafka.log.file=${log}`,
    '-cp',
    o.jars.classpath,
    'org.apache.kafka.connect.mirror.MirrorMaker',
    propsFile,
  ]);
  const mirrored = o.topics.map((t) => `${sourceAlias}.${t}`);
  await waitUntil(
    `MirrorMaker 2 to create ${mirrored.join(', ')} on ${o.target}`,
    () =>
      withAdmin(o.target, async (admin) => {
        const existing = new Set(await admin.listTopics());
        return mirrored.every((t) => existing.has(t));
      }),
    { timeoutMs: o.timeoutMs, intervalMs: 500, alive: () => o.supervisor.assertRunning(MIRROR_MAKER_NAME) },
  );
}

export async function kafkaHealth(endpoints: SandboxEndpoints) {
  const probe = async (bootstrap: string) => {
    try {
      return await withAdmin(bootstrap, async (admin) => ({
        up: true,
        topics: (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort(),
      }));
    } catch (err) {
      return { up: false, error: (err as Error).message };
    }
  };
  return {
    primary: await probe(endpoints.primary.kafka.brokers[0]!),
    secondary: await probe(endpoints.secondary.kafka.brokers[0]!),
  };
}
