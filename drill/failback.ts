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
import { AuditTrailConsumer } from './audit-consumer';
import { journalFile } from './journal-source';
import {
  approvalBroker,
  executeWithRedrives,
  newRunId,
  sandboxAwsClients,
  TradingSession,
  type ApprovalAnswer,
  type DrillRun,
} from './run-drill';
import { localStepInvoker, type InjectedFault } from './step-invoker';

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
  const writerId = `loadgen-${runId}`;
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
  let session: TradingSession | undefined;
  try {
    session = await TradingSession.start({
      endpoints,
      topology,
      pool,
      route53: aws(target).route53,
      journalPath,
      ratePerSecond: options.ratePerSecond,
      writerId,
      // The topics may hold the failover leg's messages too: count this load's only.
      audit: new AuditTrailConsumer(`audit-trail-${runId}`, writerId),
      followKafkaRoute: true,
    });
    log(
      `load generator ${writerId} writing ${options.ratePerSecond}/s to ${session.gateway.regionOf('api')}`,
    );
    await sleep(options.loadBeforeSeconds * 1000);

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
    Object.assign(
      result,
      await session.afterWorkflow({
        switched,
        // Producers followed the Kafka stage to A; what they wrote to B before the pause reached A through the reversed MirrorMaker 2.
        resumeOn: {
          brokers: endpoints.primary.kafka.brokers,
          topics: [`${topology.kafka.sourceAliases[source]}.orders`, 'orders'],
        },
        afterResumeSeconds: options.afterResumeSeconds,
        acknowledgedKafka: () => journal.acknowledgedKafka('orders'),
      }),
    );
    const writer = pool.postgres(switched ? target : source);
    result.ackedWritesLost = await reconcileAcknowledgedWrites(roundTrip, writer);
    result.ackedWritesLostThisRun = await reconcileAcknowledgedWrites(journal, writer);
    return result;
  } finally {
    await session?.close();
    await pool.close();
    destroy();
  }
}
