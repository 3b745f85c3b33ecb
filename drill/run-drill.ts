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
import { startLoadGenerator, type LoadGeneratorSummary } from '../workload';
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
  const gateway = new TradingGatewayView(topology, aws(target).route53, pool);
  const audit = new AuditTrailConsumer(`audit-trail-${runId}`);
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
  let stopping = false;
  try {
    const seeded = await seedHotFeatures(endpoints, aws(target).s3);
    log(
      `seeded ${seeded.keys} hot feature keys in ${source} and snapshot ${seeded.snapshotId} in ${target}'s bucket`,
    );
    await gateway.start();
    await audit.start(endpoints.primary.kafka.brokers, ['orders']);
    const regionEndpoints = (region: string) => (region === source ? endpoints.primary : endpoints.secondary);
    const load = startLoadGenerator({
      journalPath,
      ratePerSecond: options.ratePerSecond,
      writerId: `loadgen-${runId}`,
      postgres: () => ({
        ...regionEndpoints(gateway.regionOf('postgresWriter')).postgres,
        user: endpoints.postgresUsers.app,
      }),
      kafka: { brokers: () => regionEndpoints(gateway.regionOf('kafkaBootstrap')).kafka.brokers },
      gate: () => gateway.waitUntilAccepting(() => stopping),
      retry: { writeDeadlineMs: 120_000 },
      maxConsecutiveFailures: 100_000,
    });
    log(`load generator ${load.writerId} writing ${options.ratePerSecond}/s to ${source}`);
    await sleep(options.warmupSeconds * 1000);
    log(`warm-up done: ${load.stats().acknowledged.postgres} writes acknowledged`);

    // In the real world the region's consumers stop with it; here the audit trail stops once the gateway pauses.
    const stopAuditOnPause = (async () => {
      while (!gateway.view.pausedAt && !stopping) await sleep(50);
      await audit.stop();
    })();

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

    if (execution.status === 'SUCCEEDED' && options.mode !== 'dryRun') {
      await stopAuditOnPause;
      await audit.start(endpoints.secondary.kafka.brokers, [
        `${endpoints.mirrorSourceAlias}.orders`,
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

    if (execution.status === 'SUCCEEDED' && options.mode !== 'dryRun') {
      const acknowledged = await journal.acknowledgedKafka('orders');
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && kafkaContinuity(acknowledged, audit.consumed).skipped > 0)
        await sleep(250);
      await audit.stop();
      result.kafka = kafkaContinuity(acknowledged, audit.consumed);
    }
    result.ackedWritesLost = await reconcileAcknowledgedWrites(
      journal,
      pool.postgres(execution.status === 'SUCCEEDED' && options.mode !== 'dryRun' ? target : source),
    );
    return result;
  } finally {
    stopping = true;
    await audit.stop().catch(() => undefined);
    await gateway.stop();
    await pool.close();
    destroy();
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
