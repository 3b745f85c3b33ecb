import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createAwsClients } from '../../lambdas/shared/adapters/aws/clients';
import { DynamoDbRunRecordStore } from '../../lambdas/shared/adapters/aws/dynamodb-run-records';
import { DependencyPool } from '../../lambdas/shared/build-dependencies';
import { RUNBOOK_OBJECTIVES } from '../../lambdas/shared/topology';
import { TaskTokenBroker } from '../../local-runner/approval';
import { runWorkflowLocally } from '../../local-runner/run-workflow';
import { SANDBOX_FAILOVER_ALARM, topologyFromSandbox } from '../../local-runner/sandbox-topology';
import { localStepInvoker } from '../../drill/step-invoker';
import { awsClientConfig } from '../../sandbox/moto';
import { REPO_ROOT, stopServer } from '../../sandbox/sandbox';
import { observeWorld, testDrill } from './drill-fixture';
import { useFreshSandbox } from './fresh-sandbox';

const endpoints = useFreshSandbox('failover-guards', 26210);

async function startWith(input: unknown, executionName: string) {
  const e = endpoints();
  const pool = new DependencyPool({
    topology: topologyFromSandbox(e),
    region: e.secondary.region,
    aws: (region) => createAwsClients({ region, endpoint: e.aws.endpoint, credentials: e.aws.credentials }),
    datasetFile: path.join(REPO_ROOT, 'data', 'sample.csv'),
  });
  const invoker = localStepInvoker(pool);
  try {
    const execution = await runWorkflowLocally({
      workflow: 'failover',
      region: e.secondary.region,
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

async function runRecord(runId: string) {
  const e = endpoints();
  const dynamodb = new DynamoDBClient(awsClientConfig(e.aws.endpoint, e.secondary.region));
  try {
    return await new DynamoDbRunRecordStore({
      dynamodb,
      tableName: e.aws.resources.regional[e.secondary.region]!.lockTable,
    }).read(runId);
  } finally {
    dynamodb.destroy();
  }
}

// The tests run in order on one sandbox: first those that must change nothing, then the RPO gate.
describe('failover guards on the sandbox', () => {
  test('a dry run goes through every step, reports what it would do, and changes nothing anywhere', async () => {
    const before = await observeWorld(endpoints());
    const drill = await testDrill(endpoints(), { mode: 'dryRun' });
    const after = await observeWorld(endpoints());
    expect(drill.executions[0]!.status).toBe('SUCCEEDED');
    expect(after).toEqual(before);
    expect(after.postgres.secondary.inRecovery).toBe(true);
    const actions = new Set(
      drill.invocations.filter((i) => i.step !== 'WriteEvidenceBundle').map((i) => i.action),
    );
    expect([...actions].every((a) => a === 'dry-run' || a === 'observed' || a === 'no-op')).toBe(true);
    expect(drill.invocations.map((i) => i.step)).toEqual(
      expect.arrayContaining([
        'FenceOldPrimary',
        'PromotePostgres',
        'PromoteKafka',
        'PromoteRedis',
        'CutoverTraffic',
      ]),
    );
    expect(drill.invocations.map((i) => i.step)).not.toContain('RequestApproval');
  });

  test.each([
    [
      'malformed input',
      { trigger: 'cli', mode: 'drill', sourceRegion: 'us-east-1' },
      /targetRegion|requestedBy/,
    ],
    [
      'an unknown mode',
      {
        trigger: 'cli',
        mode: 'yolo',
        sourceRegion: 'us-east-1',
        targetRegion: 'us-west-2',
        requestedBy: 'x',
      },
      /mode/,
    ],
    [
      'an alarm that is not a failover alarm',
      {
        trigger: 'alarm',
        mode: 'failover',
        alarm: { name: 'disk-full', state: 'ALARM' },
        time: '2026-11-27T00:00:00Z',
      },
      /alarm\.name: 'disk-full' is not a configured failover alarm/,
    ],
    [
      'an alarm back to OK',
      {
        trigger: 'alarm',
        mode: 'failover',
        alarm: { name: SANDBOX_FAILOVER_ALARM, state: 'OK' },
        time: '2026-11-27T00:00:00Z',
      },
      /alarm\.state/,
    ],
    [
      'an unknown region',
      {
        trigger: 'cli',
        mode: 'drill',
        sourceRegion: 'eu-west-9',
        targetRegion: 'us-west-2',
        requestedBy: 'x',
      },
      /sourceRegion: region 'eu-west-9' is not in the topology/,
    ],
    [
      'a failover into the wrong orchestrator',
      {
        trigger: 'cli',
        mode: 'drill',
        sourceRegion: 'us-west-2',
        targetRegion: 'us-east-1',
        requestedBy: 'x',
      },
      /static stability/,
    ],
  ])(
    '%s is rejected in the Declare step, naming the field, before any lock or mutation',
    async (_name, input, message) => {
      const before = await observeWorld(endpoints());
      const executionName = `bad-input-${Math.random().toString(36).slice(2, 8)}`;
      const { execution, steps } = await startWith(input, executionName);
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('InvalidInputError');
      expect(execution.cause).toMatch(message);
      expect(steps).toEqual(['ValidateInput']);
      expect(await runRecord(executionName)).toBeNull();
      expect(await observeWorld(endpoints())).toEqual(before);
    },
  );

  describe('with MirrorMaker 2 stopped, so Kafka data at risk grows past a 1 s RPO objective', () => {
    const objectives = { ...RUNBOOK_OBJECTIVES, kafka: { rpoSeconds: 1, rtoSeconds: 480 } };
    beforeAll(async () => {
      await stopServer(endpoints.config, 'mirror-maker');
    });

    test('the workflow stops before promotion without an allowDataLoss decision', async () => {
      const drill = await testDrill(endpoints(), { topologyOverrides: { objectives } });
      const execution = drill.executions[0]!;
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('RpoObjectiveExceeded');
      expect(drill.invocations.map((i) => i.step)).not.toContain('FenceOldPrimary');
      const world = await observeWorld(endpoints());
      expect(world.postgres.secondary.inRecovery).toBe(true);
      expect(world.postgres.primary.defaultReadOnly).toBe(false);
      expect(world.routes.postgresWriter).toEqual([endpoints().primary.region]);
      expect(world.flags.secondary.acceptNewOrders).toBe(false);
      expect(world.lock).toBeNull();
      const record = await runRecord(drill.runId);
      expect(record?.outcome).toBe('stopped-rpo-gate');
    });

    test('with allowDataLoss it promotes and records the decision; a rejected approval then leaves trading frozen', async () => {
      const allowDataLoss = {
        approvedBy: 'incident commander',
        reason: 'region lost; MirrorMaker 2 backlog accepted as data loss',
      };
      const drill = await testDrill(endpoints(), {
        topologyOverrides: { objectives },
        allowDataLoss,
        approval: (decide) => decide.reject('jest approver', 'ledger needs a manual look first'),
      });
      const execution = drill.executions[0]!;
      expect(execution.error).toBe('ApprovalRejected');
      expect(drill.invocations.map((i) => i.step)).toEqual(
        expect.arrayContaining(['FenceOldPrimary', 'PromotePostgres', 'CutoverTraffic', 'RequestApproval']),
      );
      expect(drill.invocations.map((i) => i.step)).not.toContain('ResumeTrading');
      const world = await observeWorld(endpoints());
      expect(world.postgres.secondary.inRecovery).toBe(false);
      expect(world.flags.secondary.acceptNewOrders).toBe(false);
      expect(world.lock).toBeNull();
      const record = await runRecord(drill.runId);
      expect(record?.outcome).toBe('rejected');
      expect(record?.entries.map((e) => e.kind)).toEqual(
        expect.arrayContaining([
          'decision.allowDataLoss.requested',
          'decision.allowDataLoss.applied',
          'outcome.rejected',
        ]),
      );
    });
  });
});
