import { runWorkflowLocally, type LocalExecutionResult } from '../../local-runner/run-workflow';
import { TaskTokenBroker } from '../../local-runner/approval';
import { topologyFromSandbox } from '../../local-runner/sandbox-topology';
import { DependencyPool } from '../../lambdas/shared/build-dependencies';
import { createAwsClients } from '../../lambdas/shared/adapters/aws/clients';
import { localStepInvoker } from '../../drill/step-invoker';
import { drillReportInput } from '../../drill/report-input';
import type { DrillRun } from '../../drill/run-drill';
import { buildEvidenceReport } from '../../report/build-report';
import { queryOnce } from '../../sandbox/postgres';
import { redisClient } from '../../sandbox/redis';
import { hotFeatures } from '../../drill/feature-seed';
import { useFreshSandbox } from './fresh-sandbox';
import { observeWorld, testDrill } from './drill-fixture';
import path from 'node:path';
import { REPO_ROOT } from '../../sandbox/sandbox';

const endpoints = useFreshSandbox('failover-drill', 26200, { postgres: { synchronous: true } });

/** A second failover trigger for the same application, started while the first waits for its approval. */
async function secondTrigger(): Promise<{ execution: LocalExecutionResult; steps: string[] }> {
  const e = endpoints();
  const topology = topologyFromSandbox(e);
  const pool = new DependencyPool({
    topology,
    region: e.secondary.region,
    aws: (region) => createAwsClients({ region, endpoint: e.aws.endpoint, credentials: e.aws.credentials }),
    datasetFile: path.join(REPO_ROOT, 'data', 'sample.csv'),
  });
  const invoker = localStepInvoker(pool);
  try {
    const execution = await runWorkflowLocally({
      workflow: 'failover',
      region: e.secondary.region,
      executionName: 'second-trigger',
      input: {
        trigger: 'console',
        mode: 'failover',
        sourceRegion: e.primary.region,
        targetRegion: e.secondary.region,
        requestedBy: 'another operator',
      },
      invoke: invoker.invoke,
      broker: new TaskTokenBroker(),
    });
    return { execution, steps: invoker.invocations.map((i) => i.step) };
  } finally {
    await pool.close();
  }
}

describe('a failover drill on the sandbox under load (synchronous replication)', () => {
  let drill: DrillRun;
  let second: { execution: LocalExecutionResult; steps: string[] } | undefined;

  beforeAll(async () => {
    drill = await testDrill(endpoints(), {
      approval: (decide) => {
        void secondTrigger().then((result) => {
          second = result;
          decide.approve('jest approver', 'evidence reviewed');
        });
      },
    });
  });

  test('the workflow resumes trading in the secondary region', () => {
    expect(drill.executions).toHaveLength(1);
    expect(drill.executions[0]!.status).toBe('SUCCEEDED');
    expect(drill.approval).toMatchObject({ decision: 'approved', by: 'jest approver' });
  });

  test('the standby is a writable primary and the old primary refuses writes', async () => {
    const world = await observeWorld(endpoints());
    expect(world.postgres.secondary).toEqual({ inRecovery: false, defaultReadOnly: false });
    await queryOnce(
      endpoints().secondary.postgres.port,
      `insert into risk_events (idempotency_key, account_id, event_type, severity) values ('post-failover-probe', 'ACC-0001', 'exposure_warning', 'info')`,
    );
    await expect(
      queryOnce(
        endpoints().primary.postgres.port,
        `set role tradepulse_app; insert into risk_events (idempotency_key, account_id, event_type, severity) values ('fenced-probe', 'ACC-0001', 'exposure_warning', 'info')`,
      ),
    ).rejects.toThrow(/read-only/);
  });

  test('Route 53 sends every trading endpoint to the secondary region, and its flags say trading is on there', async () => {
    const world = await observeWorld(endpoints());
    for (const regions of Object.values(world.routes))
      expect(regions).toEqual([endpoints().secondary.region]);
    expect(world.flags.secondary).toMatchObject({
      acceptNewOrders: true,
      strategyActivation: 'enabled',
      activeRegion: endpoints().secondary.region,
      deploymentFreeze: true,
    });
    expect(world.lock).toBeNull();
  });

  test('no acknowledged order was lost', () => {
    expect(drill.ackedWritesLost!.acknowledged).toBeGreaterThan(50);
    expect(drill.ackedWritesLost!.missing).toBe(0);
  });

  test('consumers resumed in the secondary region from translated offsets without skipping a message', () => {
    expect(drill.kafka!.acknowledged).toBeGreaterThan(20);
    expect(drill.kafka!.skipped).toBe(0);
    for (const duplicates of Object.values(drill.kafka!.duplicatesByPartition))
      expect(duplicates).toBeLessThanOrEqual(drill.topology.kafka.offsetLagMax);
  });

  test('the Redis replica is promoted and holds the hot keys from the verified snapshot', async () => {
    const redis = redisClient(endpoints().secondary.redis.port);
    await redis.connect();
    try {
      expect((await redis.role())[0]).toBe('master');
      for (const feature of hotFeatures().slice(0, 5)) expect(await redis.exists(feature.key)).toBe(1);
    } finally {
      redis.disconnect();
    }
  });

  test('a second trigger during the run was refused by the lock before it changed anything', () => {
    expect(second?.execution.status).toBe('FAILED');
    expect(second?.execution.error).toBe('LockHeldError');
    expect(second?.steps).toEqual(['ValidateInput', 'AcquireLock']);
  });

  test('the evidence report meets every objective of the runbook', () => {
    const report = buildEvidenceReport(drillReportInput(drill, true, 'task-token'));
    expect(report.outcome).toBe('resumed');
    const unmet = report.objectives.filter((o) => o.met !== true);
    expect(unmet).toEqual([]);
    expect(report.rpo.postgres.ackedWritesLost).toBe(0);
    expect(report.rpo.kafka.skipped).toBe(0);
    expect(report.rto.excludingApprovalSeconds).toBeLessThan(60);
  });
});
