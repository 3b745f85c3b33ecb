import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { runFailback } from '../../drill/failback';
import type { DrillRun } from '../../drill/run-drill';
import { localStepInvoker } from '../../drill/step-invoker';
import { createAwsClients } from '../../lambdas/shared/adapters/aws/clients';
import { DynamoDbLockStore } from '../../lambdas/shared/adapters/aws/dynamodb-lock';
import { DynamoDbRunRecordStore } from '../../lambdas/shared/adapters/aws/dynamodb-run-records';
import type { SelfManagedProcessControl } from '../../lambdas/shared/adapters/postgres/rebuild-host';
import { DependencyPool } from '../../lambdas/shared/build-dependencies';
import { TaskTokenBroker } from '../../local-runner/approval';
import { runWorkflowLocally } from '../../local-runner/run-workflow';
import { topologyFromSandbox } from '../../local-runner/sandbox-topology';
import { awsClientConfig } from '../../sandbox/moto';
import { queryOnce } from '../../sandbox/postgres';
import { REPO_ROOT, sandboxProcessControl, stopServer } from '../../sandbox/sandbox';
import { observeWorld, testDrill } from './drill-fixture';
import { useFreshSandbox } from './fresh-sandbox';

const endpoints = useFreshSandbox('failback-guards', 26640, { postgres: { synchronous: true } });

/** The failback workflow started by the orchestrator of `orchestratorRegion` (the region returned to). */
async function requestFailback(
  input: Record<string, unknown>,
  orchestratorRegion: string,
  executionName: string,
) {
  const e = endpoints();
  const pool = new DependencyPool({
    topology: topologyFromSandbox(e),
    region: orchestratorRegion,
    aws: (region) => createAwsClients({ region, endpoint: e.aws.endpoint, credentials: e.aws.credentials }),
    datasetFile: path.join(REPO_ROOT, 'data', 'sample.csv'),
  });
  const invoker = localStepInvoker(pool);
  try {
    const execution = await runWorkflowLocally({
      workflow: 'failback',
      region: orchestratorRegion,
      executionName,
      input,
      invoke: invoker.invoke,
      broker: new TaskTokenBroker(),
    });
    return { execution, steps: invoker.invocations.map((i) => i.step) };
  } finally {
    await pool.close();
  }
}

function awsTable(region: string) {
  const e = endpoints();
  const dynamodb = new DynamoDBClient(awsClientConfig(e.aws.endpoint, region));
  const tableName = e.aws.resources.regional[region]!.lockTable;
  return {
    lock: new DynamoDbLockStore({ dynamodb, tableName }),
    records: new DynamoDbRunRecordStore({ dynamodb, tableName }),
    close: () => dynamodb.destroy(),
  };
}

/** What a refused request must not have touched: the world, and both regions' locks and run records. */
async function snapshot(executionName: string) {
  const e = endpoints();
  const tables = [awsTable(e.primary.region), awsTable(e.secondary.region)];
  try {
    return {
      world: await observeWorld(e),
      locks: await Promise.all(tables.map((t) => t.lock.current('tradepulse'))),
      records: await Promise.all(tables.map((t) => t.records.read(executionName))),
    };
  } finally {
    tables.forEach((t) => t.close());
  }
}

const failbackInput = (overrides: Record<string, unknown> = {}) => ({
  trigger: 'cli',
  workflow: 'failback',
  mode: 'drill',
  sourceRegion: endpoints().secondary.region,
  targetRegion: endpoints().primary.region,
  requestedBy: 'jest',
  warmupSeconds: 1,
  readinessTimeoutSeconds: 5,
  ...overrides,
});

async function expectRefusedInFirstState(
  input: Record<string, unknown>,
  orchestratorRegion: string,
  error: string,
  message: RegExp,
) {
  const executionName = `refused-${Math.random().toString(36).slice(2, 8)}`;
  const before = await snapshot(executionName);
  const { execution, steps } = await requestFailback(input, orchestratorRegion, executionName);
  expect([execution.status, execution.error]).toEqual(['FAILED', error]);
  expect(execution.cause).toMatch(message);
  expect(steps).toEqual(['ValidateFailbackRequest']);
  expect(await snapshot(executionName)).toEqual(before);
  expect(before.records).toEqual([null, null]);
}

// In order on one sandbox: refusals that change nothing, then a failover, a failback refused while
// replication is behind, and one toward a target made unhealthy (the re-drive is in failback-roundtrip).
describe('failback guards on the sandbox', () => {
  test('a failback while no failover has happened is refused in the first state, nothing changed', async () => {
    await expectRefusedInFirstState(
      failbackInput(),
      endpoints().primary.region,
      'NoFailoverToReturnFromError',
      /no failover to return from — us-east-1 is already primary \(every trading endpoint routes to us-east-1; the active-region parameter in us-west-2 names us-east-1\)/,
    );
  });

  test.each([
    ['malformed input', { requestedBy: undefined, warmupSeconds: -1 }, /requestedBy[\s\S]*warmupSeconds/],
    [
      'a failback into the wrong orchestrator',
      { sourceRegion: 'us-east-1', targetRegion: 'us-west-2' },
      /static stability/,
    ],
    [
      'an unknown region',
      { sourceRegion: 'eu-west-9' },
      /sourceRegion: region 'eu-west-9' is not in the topology/,
    ],
  ])(
    '%s is refused in the first state, naming the field, nothing changed',
    async (_name, overrides, message) => {
      await expectRefusedInFirstState(
        failbackInput(overrides),
        endpoints().primary.region,
        'InvalidInputError',
        message,
      );
    },
  );

  test('a failback while another DR run holds the lock is refused in the first state, the holder keeps it', async () => {
    const table = awsTable(endpoints().primary.region);
    const now = Date.now();
    const lease = {
      application: 'tradepulse',
      owner: 'arn:aws:states:us-east-1:000000000000:execution:tradepulse-dr-failover:other-run',
      runId: 'other-run',
      acquiredAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 600_000).toISOString(),
    };
    await table.lock.acquire(lease);
    try {
      await expectRefusedInFirstState(
        failbackInput(),
        endpoints().primary.region,
        'LockHeldError',
        /locked by DR run other-run/,
      );
      expect(await table.lock.current('tradepulse')).toMatchObject({ runId: 'other-run' });
    } finally {
      await table.lock.release('tradepulse', lease.owner);
      table.close();
    }
  });

  describe('after a failover A → B under load', () => {
    let failover: DrillRun;
    let control: SelfManagedProcessControl;
    const reportsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-failback-guards-'));
    const failbackDrill = (options: Partial<Parameters<typeof runFailback>[0]>) =>
      runFailback({
        endpoints: endpoints(),
        processControl: control,
        approval: (decide) => decide.approve('jest'),
        ratePerSecond: 30,
        loadBeforeSeconds: 1,
        warmupSeconds: 1,
        readinessTimeoutSeconds: 3,
        afterResumeSeconds: 1,
        reportsDir,
        failover,
        ...options,
      });
    beforeAll(async () => {
      failover = await testDrill(endpoints(), { afterResumeSeconds: 1 });
      control = await sandboxProcessControl(endpoints.config);
    });

    test('replication not caught up: the failback is refused with the reason after the rebuild, nothing switched', async () => {
      expect(failover.executions.at(-1)!.status).toBe('SUCCEEDED');
      const e = endpoints();
      let paused = false;
      const refused = await failbackDrill({
        runId: `${failover.runId}-refused`,
        // The rebuilt standby stops replaying just before readiness is checked; the load keeps writing in B.
        beforeStep: async (step, event) => {
          if (step === 'CheckReplicationCaughtUp' && (event as { scope?: string }).scope === 'readiness') {
            await queryOnce(e.primary.postgres.port, 'select pg_wal_replay_pause()');
            paused = true;
            // Make sure B has written past what A replayed (the load writes there) before readiness looks.
            const [{ lsn }] = (await queryOnce<{ lsn: string }>(
              e.primary.postgres.port,
              'select pg_last_wal_replay_lsn()::text as lsn',
            )) as [{ lsn: string }];
            for (let i = 0; i < 100; i++) {
              const [{ ahead }] = (await queryOnce<{ ahead: boolean }>(
                e.secondary.postgres.port,
                'select pg_current_wal_lsn() > $1::pg_lsn as ahead',
                [lsn],
              )) as [{ ahead: boolean }];
              if (ahead) break;
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          }
        },
      });
      try {
        const last = refused.executions.at(-1)!;
        expect(paused).toBe(true);
        expect([last.status, last.error]).toEqual(['FAILED', 'ReplicationNotCaughtUp']);
        expect(last.cause).toMatch(
          /not caught up after \d+ s: PostgreSQL in us-east-1 has not replayed up to/,
        );
        const steps = refused.invocations.map((i) => i.step);
        for (const step of ['QuiesceTrading', 'FenceOldPrimary', 'PromotePostgres', 'CutoverTraffic'])
          expect(steps).not.toContain(step);
        const world = await observeWorld(e);
        for (const sets of Object.values(world.routes)) expect(sets).toEqual([e.secondary.region]);
        expect(world.postgres.secondary.inRecovery).toBe(false);
        expect(world.flags.secondary.acceptNewOrders).toBe(true);
        expect(refused.ackedWritesLost!.missing).toBe(0);
      } finally {
        await queryOnce(e.primary.postgres.port, 'select pg_wal_replay_resume()');
      }
    });

    test('a failback toward a region that is not healthy is refused in the first state, nothing changed', async () => {
      const e = endpoints();
      await stopServer(endpoints.config, 'kafka-a');
      await expectRefusedInFirstState(
        failbackInput(),
        e.primary.region,
        'TargetUnhealthyError',
        /failback refused: us-east-1 is not healthy: Kafka in us-east-1 unreachable/,
      );
    });
  });
});
