import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runFailback, type FailbackDrillRun } from '../../drill/failback';
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

describe('a full round trip under load: failover A → B, then failback B → A', () => {
  let failover: DrillRun;
  let failback: FailbackDrillRun;
  let control: SelfManagedProcessControl;
  beforeAll(async () => {
    failover = await testDrill(endpoints());
    control = await sandboxProcessControl(endpoints.config);
    failback = await runFailback({
      endpoints: endpoints(),
      processControl: control,
      approval: (decide) => decide.approve('jest'),
      ratePerSecond: 30,
      loadBeforeSeconds: 2,
      warmupSeconds: 2,
      afterResumeSeconds: 2,
      reportsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tp-failback-')),
      failover,
    });
  });

  test('the failover succeeded and the failback workflow ran to trading resumed in A', () => {
    expect(failover.executions.at(-1)!.status).toBe('SUCCEEDED');
    const last = failback.executions.at(-1)!;
    expect([last.status, last.error, last.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(failback.failoverRunId).toBe(failover.runId);
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
