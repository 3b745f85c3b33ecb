import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createAwsClients, type AwsClients } from '../lambdas/shared/adapters/aws/clients';
import { SandboxRestoreTargets } from '../lambdas/shared/adapters/restore/sandbox-restore-targets';
import { DependencyPool } from '../lambdas/shared/build-dependencies';
import { localStepInvoker, type InvocationRecord } from '../drill/step-invoker';
import { TaskTokenBroker } from '../local-runner/approval';
import {
  runWorkflowLocally,
  type LocalExecutionResult,
  type ProgressEvent,
} from '../local-runner/run-workflow';
import { topologyFromSandbox } from '../local-runner/sandbox-topology';
import type { SandboxConfig } from '../sandbox/config';
import type { SandboxEndpoints } from '../sandbox/endpoints';
import { ensurePostgres, ensureRedis } from '../sandbox/install';
import { silentProgress } from '../sandbox/progress';
import { REPO_ROOT, sandboxProcesses } from '../sandbox/sandbox';
import { sandboxBackups } from './sandbox-backups';

export const BACKUP_VALIDATION_REPORTS_DIR = path.join(REPO_ROOT, 'reports', 'backup-validation');

export interface BackupValidationOptions {
  endpoints: SandboxEndpoints;
  config: SandboxConfig;
  /** The execution input (see lambdas/shared/backup-validation/run.ts). @default {trigger: 'cli'} */
  input?: unknown;
  /** The region whose evidence bucket holds the backups, and where the workflow runs. @default the secondary */
  region?: string;
  runId?: string;
  reportsDir?: string;
  onProgress?: (event: ProgressEvent) => void;
  /** Called after each step answered, before the workflow goes on (tests damage a restored target here). */
  afterStep?: (step: string, result: unknown) => Promise<void> | void;
}

export interface BackupValidationRun {
  runId: string;
  execution: LocalExecutionResult;
  invocations: InvocationRecord[];
  /** The RecordBackupValidation result: outcome, summary, evidence key and SHA-256. */
  record: {
    outcome: 'passed' | 'failed' | 'rejected';
    summary: string;
    reasons: string[];
    failedChecks: string[];
    evidenceKey: string;
    sha256: string;
  } | null;
  /** The report as archived in the evidence store (read back and checked against its SHA-256). */
  report: Record<string, unknown> | null;
  reportFile: string | null;
}

export const newValidationRunId = (now = new Date()) =>
  `bv-${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${crypto.randomBytes(3).toString('hex')}`;

/**
 * Runs state-machines/backup-validation.asl.json on the sandbox, every Task bound to its
 * Lambda handler, with the sandbox's disposable restore targets (data directories and ports
 * under the sandbox's supervisor). Writes reports/backup-validation/<run-id>/report.json:
 * the archived evidence report, read back from the evidence store and verified against
 * its SHA-256, plus the execution's timeline.
 */
export async function runBackupValidation(options: BackupValidationOptions): Promise<BackupValidationRun> {
  const { endpoints, config } = options;
  const region = options.region ?? endpoints.secondary.region;
  const runId = options.runId ?? newValidationRunId();
  const topology = topologyFromSandbox(endpoints);
  const clients = new Map<string, AwsClients>();
  const aws = (r: string) => {
    if (!clients.has(r))
      clients.set(
        r,
        createAwsClients({
          region: r,
          endpoint: endpoints.aws.endpoint,
          credentials: endpoints.aws.credentials,
        }),
      );
    return clients.get(r)!;
  };
  const backups = sandboxBackups(endpoints, { region });
  const backupReader = backups.service;
  const [install, redisServer] = await Promise.all([
    ensurePostgres(silentProgress),
    ensureRedis(silentProgress),
  ]);
  const processes = sandboxProcesses(config);
  const restoreTargets = new SandboxRestoreTargets({
    supervisor: processes.supervisor,
    dataRoot: processes.dataRoot,
    postgres: { bindir: install.bindir, ...(install.runAs ? { runAs: install.runAs } : {}) },
    redisServer,
    backups: backupReader,
    database: endpoints.primary.postgres.database,
    operatorUser: endpoints.postgresUsers.operator,
    applicationUser: endpoints.postgresUsers.app,
  });
  const pool = new DependencyPool({
    topology,
    region,
    aws,
    datasetFile: path.join(REPO_ROOT, 'data', 'sample.csv'),
    restoreTargets,
    backupReader,
  });
  const invoker = localStepInvoker(pool);
  try {
    const execution = await runWorkflowLocally({
      workflow: 'backup-validation',
      region,
      executionName: runId,
      input: options.input ?? { trigger: 'cli', requestedBy: process.env.USER ?? 'operator' },
      broker: new TaskTokenBroker(),
      invoke: async (step, event, state) => {
        const result = await invoker.invoke(step, event, state);
        await options.afterStep?.(step, result);
        return result;
      },
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    await invoker.idle();
    const record = recordOf(execution);
    let report: Record<string, unknown> | null = null;
    let reportFile: string | null = null;
    const dir = path.join(options.reportsDir ?? BACKUP_VALIDATION_REPORTS_DIR, runId);
    fs.mkdirSync(dir, { recursive: true });
    if (record) {
      const bucket = topology.regions[region]!.aws.evidenceBucket;
      const object = await aws(region).s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: record.evidenceKey }),
      );
      const bytes = Buffer.from(await object.Body!.transformToByteArray());
      const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
      if (sha256 !== record.sha256)
        throw new Error(`the archived report ${record.evidenceKey} does not match its recorded SHA-256`);
      report = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
      reportFile = path.join(dir, 'report.json');
      fs.writeFileSync(reportFile, bytes);
    }
    fs.writeFileSync(
      path.join(dir, 'execution.json'),
      JSON.stringify(
        {
          runId,
          status: execution.status,
          error: execution.error ?? null,
          cause: execution.cause ?? null,
          evidence: record ? { key: record.evidenceKey, sha256: record.sha256 } : null,
          timeline: execution.timeline,
          invocations: invoker.invocations,
        },
        null,
        2,
      ),
    );
    return { runId, execution, invocations: invoker.invocations, record, report, reportFile };
  } finally {
    await invoker.idle();
    await pool.close();
    for (const c of clients.values()) c.destroy();
    backups.close();
  }
}

/** The RecordBackupValidation result, from the final output or the failed run's last state input. */
function recordOf(execution: LocalExecutionResult): BackupValidationRun['record'] {
  const candidates = [execution.output, ...Object.values(execution.stateInputs)];
  for (const value of candidates) {
    const record = (value as { steps?: { record?: { result?: BackupValidationRun['record'] } } } | undefined)
      ?.steps?.record?.result;
    if (record?.evidenceKey) return record;
  }
  return null;
}
