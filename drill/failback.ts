import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SelfManagedProcessControl } from '../lambdas/shared/adapters/postgres/rebuild-host';
import { DependencyPool } from '../lambdas/shared/build-dependencies';
import type { AcknowledgedJournal } from '../lambdas/shared/dependencies';
import { reconcileAcknowledgedWrites } from '../lambdas/shared/ledger/reconcile';
import type { ProgressEvent } from '../local-runner/run-workflow';
import { topologyFromSandbox } from '../local-runner/sandbox-topology';
import type { SandboxEndpoints } from '../sandbox/endpoints';
import { REPO_ROOT } from '../sandbox/sandbox';
import { startLoadGenerator } from '../workload';
import { KafkaSink, type KafkaAck } from '../workload/kafka-sink';
import type { SinkConnection } from '../workload/postgres-sink';
import type { PlannedWrite } from '../workload/write-plan';
import { AuditTrailConsumer, kafkaContinuity } from './audit-consumer';
import { journalFile } from './journal-source';
import {
  approvalBroker,
  executeWithRedrives,
  newRunId,
  sandboxAwsClients,
  type ApprovalAnswer,
  type DrillRun,
} from './run-drill';
import { localStepInvoker, type InjectedFault } from './step-invoker';
import { TradingGatewayView } from './trading-gateway';

export interface FailbackDrillOptions {
  endpoints: SandboxEndpoints;
  /** Control of the sandbox's server processes (sandboxProcessControl): the rebuild steps stop, rewind and restart PostgreSQL and redirect MirrorMaker 2. */
  processControl: SelfManagedProcessControl;
  approval: ApprovalAnswer;
  ratePerSecond: number;
  /** Seconds of load in the failover region before the failback starts. */
  loadBeforeSeconds: number;
  /** The workflow's warm-up phase (synthetic load on the rebuilt region). */
  warmupSeconds: number;
  readinessTimeoutSeconds?: number;
  /** How long the load keeps going after trading resumes in the region returned to. */
  afterResumeSeconds: number;
  reportsDir: string;
  /** The failover this returns from: its run id is linked, its acknowledged writes are counted too. */
  failover?: Pick<DrillRun, 'runId' | 'journalPath'>;
  runId?: string;
  mode?: 'drill' | 'dryRun';
  faults?: InjectedFault[];
  /** Called before each step invocation (tests change the world at a precise point, e.g. pause WAL replay). */
  beforeStep?: (step: string, event: unknown) => Promise<void>;
  onProgress?: (event: ProgressEvent) => void;
  log?: (line: string) => void;
}

export interface FailbackDrillRun extends DrillRun {
  failoverRunId: string | null;
  /** Acknowledged writes of this run's load only (ackedWritesLost covers the failover's journal too). */
  ackedWritesLostThisRun: DrillRun['ackedWritesLost'];
}

/**
 * A producer that follows the Kafka bootstrap record, as the trading workloads do when the
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

/** Both journals as one: the failover's and the failback's acknowledged writes, for a round-trip count. */
function journals(...paths: string[]): AcknowledgedJournal {
  return {
    async acknowledgedPostgresWrites() {
      const all = await Promise.all(paths.map((p) => journalFile(p).acknowledgedPostgresWrites()));
      return all.flat();
    },
  };
}

/**
 * The failback drill on the sandbox after a failover drill: load running in the failover
 * region (the sandbox's secondary), state-machines/failback.asl.json executed in-process by
 * the orchestrator of the region returned to (the primary), with every Task bound to its
 * Lambda handler; the load follows the staggered switchover back, and every write acknowledged
 * over the round trip (the failover's journal too) is looked up in the primary at the end.
 */
export async function runFailback(options: FailbackDrillOptions): Promise<FailbackDrillRun> {
  const log = options.log ?? (() => undefined);
  const { endpoints } = options;
  const runId = options.runId ?? `${options.failover?.runId ?? newRunId()}-failback`;
  const source = endpoints.secondary.region;
  const target = endpoints.primary.region;
  const topology = topologyFromSandbox(endpoints);
  const { aws, destroy } = sandboxAwsClients(endpoints);
  const runDir = path.join(options.reportsDir, runId);
  fs.mkdirSync(runDir, { recursive: true });
  const journalPath = path.join(runDir, 'acknowledged-writes.jsonl');
  const journal = journalFile(journalPath);
  const roundTrip = journals(...(options.failover ? [options.failover.journalPath] : []), journalPath);
  const pool = new DependencyPool({
    topology,
    region: target,
    aws,
    datasetFile: path.join(REPO_ROOT, 'data', 'sample.csv'),
    journal: roundTrip,
    processControl: options.processControl,
  });
  const gateway = new TradingGatewayView(topology, aws(target).route53, pool);
  const writerId = `loadgen-${runId}`;
  const audit = new AuditTrailConsumer(`audit-trail-${runId}`, writerId);
  const result: FailbackDrillRun = {
    runId,
    topology,
    executions: [],
    invocations: [],
    load: null,
    journalPath,
    gateway: {},
    kafka: null,
    ackedWritesLost: null,
    ackedWritesLostThisRun: null,
    failoverRunId: options.failover?.runId ?? null,
    approval: { requestedAt: null, decidedAt: null, decision: null, by: null, comment: null },
  };
  let stopping = false;
  try {
    await gateway.start();
    const regionEndpoints = (region: string) => (region === target ? endpoints.primary : endpoints.secondary);
    await audit.start(regionEndpoints(gateway.regionOf('kafkaBootstrap')).kafka.brokers, ['orders']);
    const load = startLoadGenerator({
      journalPath,
      ratePerSecond: options.ratePerSecond,
      writerId,
      postgres: () => ({
        ...regionEndpoints(gateway.regionOf('postgresWriter')).postgres,
        user: endpoints.postgresUsers.app,
      }),
      kafka: { brokers: () => regionEndpoints(gateway.regionOf('kafkaBootstrap')).kafka.brokers },
      gate: () => gateway.waitUntilAccepting(() => stopping),
      connectors: {
        kafka: (worker, hooks) =>
          new RouteFollowingKafkaSink(
            new KafkaSink({
              brokers: () => regionEndpoints(gateway.regionOf('kafkaBootstrap')).kafka.brokers,
              clientId: `${writerId}-${worker}`,
              onConnect: (brokers, n) => hooks.onConnect(brokers.join(','), n),
            }),
            () => gateway.regionOf('kafkaBootstrap'),
          ),
      },
      retry: { writeDeadlineMs: 120_000 },
      maxConsecutiveFailures: 100_000,
    });
    log(`load generator ${writerId} writing ${options.ratePerSecond}/s to ${gateway.regionOf('api')}`);
    await sleep(options.loadBeforeSeconds * 1000);
    // The region's consumers stop when trading pauses and resume in the region returned to.
    const stopAuditOnPause = (async () => {
      while (!gateway.view.pausedAt && !stopping) await sleep(50);
      await audit.stop();
    })();

    const broker = approvalBroker(result.approval, options.approval);
    const local = localStepInvoker(pool, options.faults);
    const { beforeStep } = options;
    const invoker = beforeStep
      ? {
          ...local,
          invoke: async (step: string, event: unknown, state: string) => {
            await beforeStep(step, event);
            return local.invoke(step, event, state);
          },
        }
      : local;
    result.executions = await executeWithRedrives({
      workflow: 'failback',
      region: target,
      runId,
      input: {
        trigger: 'cli',
        workflow: 'failback',
        mode: options.mode ?? 'drill',
        sourceRegion: source,
        targetRegion: target,
        requestedBy: os.userInfo().username,
        reason: 'sandbox failback drill',
        warmupSeconds: options.warmupSeconds,
        readinessTimeoutSeconds: options.readinessTimeoutSeconds ?? 60,
        ...(options.failover ? { failoverRunId: options.failover.runId } : {}),
      },
      invoker,
      broker,
      log,
      faults: options.faults,
      onProgress: options.onProgress,
    });
    const execution = result.executions.at(-1)!;
    result.invocations = local.invocations;
    const switched = execution.status === 'SUCCEEDED' && options.mode !== 'dryRun';
    if (switched) {
      await stopAuditOnPause;
      await audit.start(endpoints.primary.kafka.brokers, [
        `${topology.kafka.sourceAliases[source]}.orders`,
        'orders',
      ]);
      await sleep(options.afterResumeSeconds * 1000);
    }
    stopping = true;
    result.load = await load.stop();
    await stopAuditOnPause;
    result.gateway = {
      ...(gateway.view.pausedAt ? { pausedAt: gateway.view.pausedAt } : {}),
      ...(gateway.view.resumedAt ? { resumedAt: gateway.view.resumedAt } : {}),
    };
    if (switched) {
      const acknowledged = await journal.acknowledgedKafka('orders');
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && kafkaContinuity(acknowledged, audit.consumed).skipped > 0)
        await sleep(250);
      await audit.stop();
      result.kafka = kafkaContinuity(acknowledged, audit.consumed);
    }
    const writer = pool.postgres(switched ? target : source);
    result.ackedWritesLost = await reconcileAcknowledgedWrites(roundTrip, writer);
    result.ackedWritesLostThisRun = await reconcileAcknowledgedWrites(journal, writer);
    return result;
  } finally {
    stopping = true;
    await audit.stop().catch(() => undefined);
    await gateway.stop();
    await pool.close();
    destroy();
  }
}
