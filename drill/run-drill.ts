import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAwsClients, type AwsClients } from '../lambdas/shared/adapters/aws/clients';
import { DependencyPool } from '../lambdas/shared/build-dependencies';
import type { AllowDataLoss, RunMode } from '../lambdas/shared/run';
import type { Topology, TopologyInput } from '../lambdas/shared/topology';
import { TaskTokenBroker } from '../local-runner/approval';
import {
  runWorkflowLocally,
  type LocalExecutionResult,
  type ProgressEvent,
} from '../local-runner/run-workflow';
import { SANDBOX_FAILOVER_ALARM, topologyFromSandbox } from '../local-runner/sandbox-topology';
import type { SandboxEndpoints } from '../sandbox/endpoints';
import { REPO_ROOT } from '../sandbox/sandbox';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { startLoadGenerator, type LoadGenerator, type LoadGeneratorSummary } from '../workload';
import { KafkaSink, type KafkaAck } from '../workload/kafka-sink';
import type { SinkConnection } from '../workload/postgres-sink';
import type { PlannedWrite } from '../workload/write-plan';
import { AuditTrailConsumer, kafkaContinuity, type KafkaContinuity } from './audit-consumer';
import { seedHotFeatures } from './feature-seed';
import { journalFile } from './journal-source';
import { reconcileAcknowledgedWrites, type JournalReconciliation } from '../lambdas/shared/ledger/reconcile';
import { localStepInvoker, type InjectedFault, type InvocationRecord } from './step-invoker';
import { TradingGatewayView } from './trading-gateway';

export type ApprovalAnswer = (
  decide: { approve(by: string, comment?: string): void; reject(by: string, reason: string): void },
  evidence: unknown,
) => void;

export interface DrillOptions {
  endpoints: SandboxEndpoints;
  mode: RunMode;
  /** How the run is started: an operator's CLI call, or the alarm event EventBridge would send. */
  trigger: 'cli' | 'alarm';
  approval: ApprovalAnswer;
  allowDataLoss?: AllowDataLoss;
  ratePerSecond: number;
  warmupSeconds: number;
  /** How long the load keeps going after trading resumes in the promoted region. */
  afterResumeSeconds: number;
  reportsDir: string;
  onProgress?: (event: ProgressEvent) => void;
  log?: (line: string) => void;
  topologyOverrides?: Partial<TopologyInput>;
  faults?: InjectedFault[];
  /** Re-drive an earlier failed execution of this drill from the state that failed. */
  approvalTimeouts?: { timeoutSeconds?: number; heartbeatSeconds?: number };
  runId?: string;
}

export interface DrillRun {
  runId: string;
  topology: Topology;
  executions: LocalExecutionResult[];
  invocations: InvocationRecord[];
  load: LoadGeneratorSummary | null;
  journalPath: string;
  gateway: { pausedAt?: number; resumedAt?: number };
  kafka: KafkaContinuity | null;
  /** The journal's acknowledged writes looked up in the region writing at the end. */
  ackedWritesLost: JournalReconciliation | null;
  approval: {
    requestedAt: number | null;
    decidedAt: number | null;
    decision: 'approved' | 'rejected' | null;
    by: string | null;
    comment: string | null;
  };
}

export const newRunId = (now = new Date()) =>
  `drill-${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${crypto.randomBytes(3).toString('hex')}`;

/**
 * A full failover drill on the sandbox: hot features seeded and snapshotted, the load
 * generator and an audit-trail consumer running, failover.asl.json executed in-process with
 * every Task bound to its Lambda handler, then the load followed into the promoted region
 * and everything acknowledged counted against what survived.
 */
export async function runDrill(options: DrillOptions): Promise<DrillRun> {
  const log = options.log ?? (() => undefined);
  const { endpoints } = options;
  const runId = options.runId ?? newRunId();
  const source = endpoints.primary.region;
  const target = endpoints.secondary.region;
  const topology = topologyFromSandbox(endpoints, options.topologyOverrides);
  const { aws, destroy } = sandboxAwsClients(endpoints);
  const runDir = path.join(options.reportsDir, runId);
  fs.mkdirSync(runDir, { recursive: true });
  const journalPath = path.join(runDir, 'acknowledged-writes.jsonl');
  const journal = journalFile(journalPath);
  const pool = new DependencyPool({
    topology,
    region: target,
    aws,
    datasetFile: path.join(REPO_ROOT, 'data', 'sample.csv'),
    journal,
  });
  const result: DrillRun = {
    runId,
    topology,
    executions: [],
    invocations: [],
    load: null,
    journalPath,
    gateway: {},
    kafka: null,
    ackedWritesLost: null,
    approval: { requestedAt: null, decidedAt: null, decision: null, by: null, comment: null },
  };
  let session: TradingSession | undefined;
  try {
    const seeded = await seedHotFeatures(endpoints, aws(target).s3);
    log(
      `seeded ${seeded.keys} hot feature keys in ${source} and snapshot ${seeded.snapshotId} in ${target}'s bucket`,
    );
    session = await TradingSession.start({
      endpoints,
      topology,
      pool,
      route53: aws(target).route53,
      journalPath,
      ratePerSecond: options.ratePerSecond,
      writerId: `loadgen-${runId}`,
      audit: new AuditTrailConsumer(`audit-trail-${runId}`),
    });
    log(`load generator ${session.load.writerId} writing ${options.ratePerSecond}/s to ${source}`);
    await sleep(options.warmupSeconds * 1000);
    log(`warm-up done: ${session.load.stats().acknowledged.postgres} writes acknowledged`);

    const broker = approvalBroker(result.approval, options.approval);
    const invoker = localStepInvoker(pool, options.faults);
    const input =
      options.trigger === 'alarm'
        ? {
            trigger: 'alarm',
            mode: 'failover',
            alarm: { name: SANDBOX_FAILOVER_ALARM, state: 'ALARM', reason: 'sandbox drill' },
            time: new Date().toISOString(),
          }
        : {
            trigger: 'cli',
            mode: options.mode,
            sourceRegion: source,
            targetRegion: target,
            requestedBy: os.userInfo().username,
            reason: 'sandbox failover drill',
          };
    result.executions = await executeWithRedrives({
      workflow: 'failover',
      region: target,
      runId,
      input: options.allowDataLoss ? { ...input, allowDataLoss: options.allowDataLoss } : input,
      invoker,
      broker,
      log,
      faults: options.faults,
      onProgress: options.onProgress,
      approvalTimeouts: options.approvalTimeouts,
    });
    const execution = result.executions.at(-1)!;
    result.invocations = invoker.invocations;
    const switched = execution.status === 'SUCCEEDED' && options.mode !== 'dryRun';
    Object.assign(
      result,
      await session.afterWorkflow({
        switched,
        // The producers still write to A's cluster (as clients that keep their connections): its
        // topics reach B through MirrorMaker 2, B's own through `orders`.
        resumeOn: {
          brokers: endpoints.secondary.kafka.brokers,
          topics: [`${endpoints.mirrorSourceAlias}.orders`, 'orders'],
        },
        afterResumeSeconds: options.afterResumeSeconds,
        acknowledgedKafka: () => journal.acknowledgedKafka('orders'),
      }),
    );
    result.ackedWritesLost = await reconcileAcknowledgedWrites(
      journal,
      pool.postgres(switched ? target : source),
    );
    return result;
  } finally {
    await session?.close();
    await pool.close();
    destroy();
  }
}

export interface TradingSessionOptions {
  endpoints: SandboxEndpoints;
  topology: Topology;
  pool: DependencyPool;
  /** Route 53 client of the orchestrator's region (the gateway view reads the records through it). */
  route53: Route53Client;
  journalPath: string;
  ratePerSecond: number;
  writerId: string;
  audit: AuditTrailConsumer;
  /** Kafka producers reconnect when the bootstrap record moves (workloads following a staggered switchover). */
  followKafkaRoute?: boolean;
}

/**
 * The simulated trading world of a drill: the order gateway's view of DNS and flags, the load
 * generator writing where DNS points (new orders wait while the gateway is quiesced), and the
 * audit-trail consumer group in the region Kafka clients use, which stops when trading pauses
 * (in the real world the region's consumers stop with it) and resumes, after the workflow, in
 * the promoted region from the translated offsets.
 */
export class TradingSession {
  private stopping = false;
  private auditStopped: Promise<void> = Promise.resolve();
  load!: LoadGenerator;

  private constructor(
    private readonly o: TradingSessionOptions,
    readonly gateway: TradingGatewayView,
  ) {}

  static async start(o: TradingSessionOptions): Promise<TradingSession> {
    const session = new TradingSession(o, new TradingGatewayView(o.topology, o.route53, o.pool));
    await session.begin();
    return session;
  }

  /** The sandbox side of a region. */
  regionEndpoints(region: string) {
    return region === this.o.endpoints.primary.region ? this.o.endpoints.primary : this.o.endpoints.secondary;
  }

  private async begin(): Promise<void> {
    const { o, gateway } = this;
    await gateway.start();
    const kafkaBrokers = () => this.regionEndpoints(gateway.regionOf('kafkaBootstrap')).kafka.brokers;
    await o.audit.start(kafkaBrokers(), ['orders']);
    this.load = startLoadGenerator({
      journalPath: o.journalPath,
      ratePerSecond: o.ratePerSecond,
      writerId: o.writerId,
      postgres: () => ({
        ...this.regionEndpoints(gateway.regionOf('postgresWriter')).postgres,
        user: o.endpoints.postgresUsers.app,
      }),
      kafka: { brokers: kafkaBrokers },
      gate: () => gateway.waitUntilAccepting(() => this.stopping),
      retry: { writeDeadlineMs: 120_000 },
      maxConsecutiveFailures: 100_000,
      ...(o.followKafkaRoute
        ? {
            connectors: {
              kafka: (worker, hooks) =>
                new RouteFollowingKafkaSink(
                  new KafkaSink({
                    brokers: kafkaBrokers,
                    clientId: `${o.writerId}-${worker}`,
                    onConnect: (brokers, n) => hooks.onConnect(brokers.join(','), n),
                  }),
                  () => gateway.regionOf('kafkaBootstrap'),
                ),
            },
          }
        : {}),
    });
    this.auditStopped = (async () => {
      while (!gateway.view.pausedAt && !this.stopping) await sleep(50);
      await o.audit.stop();
    })();
  }

  /**
   * After the workflow: when it switched regions, the audit trail resumes on `resumeOn` and the
   * load keeps going for `afterResumeSeconds`; then the load stops, and what Kafka acknowledged
   * is compared with what the consumer group processed in either region.
   */
  async afterWorkflow(a: {
    switched: boolean;
    resumeOn: { brokers: string[]; topics: string[] };
    afterResumeSeconds: number;
    acknowledgedKafka: () => Promise<Set<number>>;
  }): Promise<Pick<DrillRun, 'load' | 'gateway' | 'kafka'>> {
    const { audit } = this.o;
    const view = this.gateway.view;
    if (a.switched) {
      await this.auditStopped;
      await audit.start(a.resumeOn.brokers, a.resumeOn.topics);
      await sleep(a.afterResumeSeconds * 1000);
    }
    this.stopping = true;
    const load = await this.load.stop();
    await this.auditStopped;
    const gateway = {
      ...(view.pausedAt ? { pausedAt: view.pausedAt } : {}),
      ...(view.resumedAt ? { resumedAt: view.resumedAt } : {}),
    };
    if (!a.switched) return { load, gateway, kafka: null };
    const acknowledged = await a.acknowledgedKafka();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && kafkaContinuity(acknowledged, audit.consumed).skipped > 0)
      await sleep(250);
    await audit.stop();
    return { load, gateway, kafka: kafkaContinuity(acknowledged, audit.consumed) };
  }

  async close(): Promise<void> {
    this.stopping = true;
    await this.o.audit.stop().catch(() => undefined);
    await this.gateway.stop();
  }
}

/**
 * A producer that follows the Kafka bootstrap record, as the trading workloads do when a
 * switchover announces the region: the next write after the record moved reconnects to the
 * promoted cluster. (A plain producer keeps its connections to the old cluster, which is still
 * up in a planned switchover and no longer mirrored once replication runs the other way.)
 */
class RouteFollowingKafkaSink implements SinkConnection<KafkaAck> {
  private connectedTo: string | null = null;
  constructor(
    private readonly sink: KafkaSink,
    private readonly region: () => string,
  ) {}
  async write(write: PlannedWrite): Promise<KafkaAck> {
    const region = this.region();
    if (this.connectedTo !== null && this.connectedTo !== region) await this.sink.reset();
    this.connectedTo = region;
    return this.sink.write(write);
  }
  reset(): Promise<void> {
    return this.sink.reset();
  }
  close(): Promise<void> {
    return this.sink.close();
  }
}

/** SDK clients per region against the sandbox's AWS endpoint, created once and destroyed together. */
export function sandboxAwsClients(endpoints: SandboxEndpoints) {
  const clients = new Map<string, AwsClients>();
  const aws = (region: string) => {
    if (!clients.has(region))
      clients.set(
        region,
        createAwsClients({
          region,
          endpoint: endpoints.aws.endpoint,
          credentials: endpoints.aws.credentials,
        }),
      );
    return clients.get(region)!;
  };
  return { aws, destroy: () => clients.forEach((c) => c.destroy()) };
}

/** The task-token broker of a drill: the approval is answered by `answer` and recorded in `record`. */
export function approvalBroker(record: DrillRun['approval'], answer: ApprovalAnswer): TaskTokenBroker {
  const broker = new TaskTokenBroker();
  broker.onWaiting((token, payload) => {
    record.requestedAt = Date.now();
    answer(
      {
        approve: (by, comment) => {
          Object.assign(record, {
            decidedAt: Date.now(),
            decision: 'approved',
            by,
            comment: comment ?? null,
          });
          broker.sendTaskSuccess(token, {
            approved: true,
            approvedBy: by,
            at: new Date().toISOString(),
            ...(comment ? { comment } : {}),
          });
        },
        reject: (by, reason) => {
          Object.assign(record, { decidedAt: Date.now(), decision: 'rejected', by, comment: reason });
          broker.sendTaskFailure(token, 'ApprovalRejected', `${by}: ${reason}`);
        },
      },
      (payload as { evidence?: unknown }).evidence,
    );
  });
  return broker;
}

/**
 * Runs a workflow of state-machines/ in-process; after a crash injected into a step, re-drives
 * it from the failed state (its lock taken again first), as an operator would.
 */
export async function executeWithRedrives(o: {
  workflow: string;
  region: string;
  runId: string;
  input: unknown;
  invoker: ReturnType<typeof localStepInvoker>;
  broker: TaskTokenBroker;
  log: (line: string) => void;
  faults?: InjectedFault[] | undefined;
  onProgress?: ((event: ProgressEvent) => void) | undefined;
  approvalTimeouts?: { timeoutSeconds?: number; heartbeatSeconds?: number } | undefined;
}): Promise<LocalExecutionResult[]> {
  const execute = (redrive?: { fromState: string; input: unknown }) =>
    runWorkflowLocally({
      workflow: o.workflow,
      region: o.region,
      executionName: o.runId,
      input: o.input,
      invoke: o.invoker.invoke,
      broker: o.broker,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.approvalTimeouts ? { approvalTimeouts: o.approvalTimeouts } : {}),
      ...(redrive ? { redrive } : {}),
    });
  const executions = [await execute()];
  let execution = executions[0]!;
  const crashed = (e: LocalExecutionResult) => e.timeline.some((t) => t.error === 'InjectedCrash');
  while (
    execution.status === 'FAILED' &&
    execution.failedState &&
    crashed(execution) &&
    executions.length <= (o.faults?.length ?? 0)
  ) {
    o.log(`re-driving ${o.runId} from ${execution.failedState}`);
    const redriveFrom = execution.failedState;
    await o.invoker.idle();
    await o.invoker.invoke('AcquireLock', { run: redriveRun(execution) }, 'RedriveReacquireLock');
    execution = await execute({ fromState: redriveFrom, input: execution.stateInputs[redriveFrom] });
    executions.push(execution);
  }
  return executions;
}

function redriveRun(execution: LocalExecutionResult): unknown {
  const failed = execution.failedState
    ? (execution.stateInputs[execution.failedState] as { run?: unknown })
    : undefined;
  return failed?.run;
}
