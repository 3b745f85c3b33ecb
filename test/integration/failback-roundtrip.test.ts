import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runFailback, type FailbackDrillRun } from '../../drill/failback';
import { drillReportInput } from '../../drill/report-input';
import { buildEvidenceReport } from '../../report/build-report';
import type { DrillRun } from '../../drill/run-drill';
import type { SelfManagedProcessControl } from '../../lambdas/shared/adapters/postgres/rebuild-host';
import { queryOnce } from '../../sandbox/postgres';
import { sandboxProcessControl } from '../../sandbox/sandbox';
import { observeWorld, testDrill } from './drill-fixture';
import { useFreshSandbox } from './fresh-sandbox';

const endpoints = useFreshSandbox('failback-roundtrip', 26630, { postgres: { synchronous: true } });

/** The steps' evidence of the last execution, by their `$.steps` key. */
function stepsOf(run: DrillRun): Record<string, { result?: Record<string, unknown> }> {
  const last = run.executions.at(-1)!;
  return (last.output as { steps?: Record<string, { result?: Record<string, unknown> }> }).steps ?? {};
}

describe('a full round trip under load: failover A → B, then failback B → A with a crash mid-switchover re-driven', () => {
  let failover: DrillRun;
  let failback: FailbackDrillRun;
  let control: SelfManagedProcessControl;
  beforeAll(async () => {
    failover = await testDrill(endpoints(), { warmupSeconds: 2, afterResumeSeconds: 1 });
    control = await sandboxProcessControl(endpoints.config);
    failback = await runFailback({
      endpoints: endpoints(),
      processControl: control,
      approval: (decide) => decide.approve('jest'),
      ratePerSecond: 30,
      loadBeforeSeconds: 1,
      warmupSeconds: 2,
      afterResumeSeconds: 1,
      reportsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tp-failback-')),
      failover,
      // PostgreSQL promoted in A, then the step crashes before answering: Kafka is switched, the writer record not yet.
      faults: [{ step: 'PromotePostgres', when: 'after', times: 1 }],
    });
  });

  test('the failover succeeded; the failback crashed in the switchover, went down the failure path, and its re-drive ran to trading resumed in A', () => {
    expect(failover.executions.at(-1)!.status).toBe('SUCCEEDED');
    const [first, redrive] = failback.executions;
    expect([first!.status, first!.failedState]).toEqual(['FAILED', 'PromotePostgres']);
    expect(first!.timeline.map((t) => t.state)).toEqual(
      expect.arrayContaining(['RecordFailure', 'NotifyFailure', 'ReleaseLockAfterFailure']),
    );
    expect([redrive!.status, redrive!.error, redrive!.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(redrive!.timeline[0]!.state).toBe('PromotePostgres');
    expect(failback.failoverRunId).toBe(failover.runId);
  });

  test('nothing was done twice: the re-driven promotion observed its goal held', () => {
    const actions = (step: string) =>
      failback.invocations.filter((i) => i.step === step).map((i) => i.action);
    expect(actions('PromotePostgres')).toEqual(['changed', 'no-op']);
    expect(actions('FenceOldPrimary')).toEqual(['changed']);
    expect(actions('PromoteKafka')).toHaveLength(1);
    expect(actions('RebuildPostgresStandby')).toEqual(['changed', 'changed']);
  });

  test('the failback evidence report says resumed, B → A, with the switchover timeline', () => {
    const report = buildEvidenceReport(drillReportInput(failback, true, 'task-token'));
    expect(report.outcome).toBe('resumed');
    expect([report.runId, report.sourceRegion, report.targetRegion]).toEqual([
      `${failover.runId}-failback`,
      endpoints().secondary.region,
      endpoints().primary.region,
    ]);
    expect(report.timeline.map((t) => t.state)).toEqual(
      expect.arrayContaining([
        'RebuildTarget',
        'ConfirmFinalLsn',
        'VerifyWorkloadsStage',
        'PostFailbackReview',
      ]),
    );
  });

  test('A is the writable primary again and B its streaming standby; Redis follows; Route 53 is back on A', async () => {
    const e = endpoints();
    const world = await observeWorld(e);
    expect(world.postgres.primary).toEqual({ inRecovery: false, defaultReadOnly: false });
    expect(world.postgres.secondary.inRecovery).toBe(true);
    const [receiver] = await queryOnce<{ status: string }>(
      e.secondary.postgres.port,
      'select status from pg_stat_wal_receiver',
    );
    expect(receiver?.status).toBe('streaming');
    expect(world.redis).toEqual({ primary: 'master', secondary: 'slave' });
    for (const sets of Object.values(world.routes)) expect(sets).toEqual([e.primary.region]);
    expect(world.flags.primary).toMatchObject({ acceptNewOrders: true, activeRegion: e.primary.region });
    expect(world.flags.secondary).toMatchObject({ activeRegion: e.primary.region, deploymentFreeze: false });
  });

  test('MirrorMaker 2 replicates A → B again, within the objective, as the post-failback review measured', async () => {
    const e = endpoints();
    const running = (await control.mirror.flows()).filter((f) => f.state === 'running');
    expect(running.map((f) => `${f.sourceRegion}->${f.targetRegion}`)).toEqual([
      `${e.primary.region}->${e.secondary.region}`,
    ]);
    const review = stepsOf(failback).postFailbackReview!.result!;
    expect(review).toMatchObject({ replicationHealthy: true, findings: [] });
  });

  test('the PostgreSQL switchover proved zero loss: final LSN replayed before promotion, ledger equal', () => {
    const steps = stepsOf(failback);
    const proof = steps.finalLsn!.result!;
    expect(proof).toMatchObject({ confirmed: true, bytesBehind: 0 });
    expect(proof.finalLsn).toBe(proof.replayedLsn);
    expect(steps.reconcileLedger!.result).toMatchObject({ parity: true, sev1: false });
  });

  test('zero acknowledged writes lost over the whole round trip, and no Kafka message skipped', () => {
    expect(failback.ackedWritesLostThisRun!.acknowledged).toBeGreaterThan(0);
    expect(failback.ackedWritesLost!.acknowledged).toBeGreaterThan(
      failback.ackedWritesLostThisRun!.acknowledged,
    );
    expect(failback.ackedWritesLost!.missing).toBe(0);
    expect(failover.kafka!.skipped).toBe(0);
    expect(failback.kafka!.acknowledged).toBeGreaterThan(0);
    expect(failback.kafka!.skipped).toBe(0);
  });
});
