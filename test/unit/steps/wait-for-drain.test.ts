import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import { waitForDrainStep } from '../../../lambdas/wait-for-drain/logic';
import {
  SOURCE,
  TARGET,
  dryRun,
  fakeDeps,
  sampleAggregates,
  sampleRun,
  writeCalls,
  type FakeWorld,
} from './fakes';

const drain = (world: FakeWorld, run: Run = sampleRun(), maxWaitSeconds?: number) =>
  executeStep(
    waitForDrainStep,
    { run, ...(maxWaitSeconds ? { maxWaitSeconds } : {}) },
    world.deps,
    world.clock,
  );

/** Distinguishable baselines: which cluster the aggregates came from. */
function world(): FakeWorld {
  const w = fakeDeps();
  w.postgres[SOURCE]!.aggregates = sampleAggregates({
    lsn: '0/3000000',
    capturedAt: '2026-11-27T00:00:11.000Z',
  });
  w.postgres[TARGET]!.aggregates = sampleAggregates({
    lsn: '0/2FFFF00',
    capturedAt: '2026-11-27T00:00:12.000Z',
  });
  return w;
}

describe('wait-for-drain', () => {
  it('an idle primary drains after two polls with the same LSN', async () => {
    const w = world();
    const { evidence, result } = await drain(w);
    expect(evidence.observed).toMatchObject({
      primaryReachable: true,
      drained: true,
      polls: 2,
      waitedMs: 250,
    });
    expect(w.sleeps).toEqual([250]);
    expect(result.drained).toBe(true);
  });

  it('waits until no application transaction is open', async () => {
    const w = world();
    w.postgres[SOURCE]!.statusScript = [
      { activeApplicationTransactions: 2 },
      { activeApplicationTransactions: 1 },
      { activeApplicationTransactions: 0 },
    ];
    const { evidence } = await drain(w);
    expect(evidence.observed).toMatchObject({ drained: true, polls: 3, activeApplicationTransactions: 0 });
    expect(w.sleeps).toEqual([250, 250]);
  });

  it('waits until the WAL position is stable, even with no transaction open', async () => {
    const w = world();
    w.postgres[SOURCE]!.statusScript = [{ lsn: '0/2FFFF00' }, { lsn: '0/2FFFF80' }, { lsn: '0/3000000' }];
    const { evidence } = await drain(w);
    expect(evidence.observed).toMatchObject({ drained: true, polls: 4, waitedMs: 750 });
    expect(evidence.durationMs).toBe(750);
  });

  it('gives up after maxWaitSeconds and reports not drained', async () => {
    const w = world();
    w.postgres[SOURCE]!.state.activeApplicationTransactions = 1;
    const { evidence, result } = await drain(w, sampleRun(), 1);
    expect(evidence.observed).toMatchObject({
      drained: false,
      polls: 6,
      waitedMs: 1250,
      activeApplicationTransactions: 1,
    });
    expect(result.drained).toBe(false);
    expect(result.baseline.region).toBe(SOURCE);
  });

  it('takes the ledger baseline from the old primary when it answers, and records it', async () => {
    const w = world();
    const { result } = await drain(w);
    expect(result.baseline).toEqual({ region: SOURCE, aggregates: w.postgres[SOURCE]!.aggregates });
    expect(w.postgres[TARGET]!.callsTo('ledgerAggregates')).toEqual([]);
    expect(w.runRecords.entriesOf('unit-run-1').map((e) => e.kind)).toEqual([
      'data-at-risk.after-drain',
      'ledger.baseline',
    ]);
    expect(w.runRecords.entriesOf('unit-run-1', 'ledger.baseline')[0]).toEqual({
      kind: 'ledger.baseline',
      at: '2026-11-27T00:00:11.000Z',
      data: { region: SOURCE, baseline: w.postgres[SOURCE]!.aggregates },
    });
  });

  it('with the old primary unreachable: no waiting, baseline from the standby, drained by definition', async () => {
    const w = world();
    w.postgres[SOURCE]!.state.reachable = false;
    const { evidence, result } = await drain(w);
    expect(w.sleeps).toEqual([]);
    expect(evidence.observed).toMatchObject({ primaryReachable: false, drained: false, polls: 0 });
    expect(result).toMatchObject({
      drained: true,
      primaryReachable: false,
      baseline: { region: TARGET, aggregates: w.postgres[TARGET]!.aggregates },
    });
    expect(w.postgres[SOURCE]!.callsTo('ledgerAggregates')).toEqual([]);
  });

  it('an old primary that is no longer a primary is not waited on either', async () => {
    const w = world();
    w.postgres[SOURCE]!.state.role = 'standby';
    const { result } = await drain(w);
    expect(w.sleeps).toEqual([]);
    expect(result.baseline.region).toBe(TARGET);
  });

  it('snapshots Kafka offsets into the run record when MirrorMaker 2 lags by maxLagSeconds or more', async () => {
    const w = world();
    w.kafka.lag = [{ topic: 'orders', messagesBehind: 900, lagSeconds: 30 }];
    const { evidence } = await drain(w);
    expect(w.kafka.callsTo('snapshotSourceOffsets')).toHaveLength(1);
    expect(evidence.observed.kafkaOffsetSnapshotTaken).toBe(true);
    expect(w.runRecords.entriesOf('unit-run-1', 'kafka.offset-snapshot').map((e) => e.data)).toEqual([
      w.kafka.sourceOffsets,
    ]);
  });

  it('takes no Kafka snapshot when the lag is under maxLagSeconds', async () => {
    const w = world();
    w.kafka.lag = [{ topic: 'orders', messagesBehind: 800, lagSeconds: 29.9 }];
    const { evidence } = await drain(w);
    expect(w.kafka.callsTo('snapshotSourceOffsets')).toEqual([]);
    expect(evidence.observed.kafkaOffsetSnapshotTaken).toBe(false);
    expect(w.runRecords.entriesOf('unit-run-1', 'kafka.offset-snapshot')).toEqual([]);
  });

  it('records an unavailable snapshot instead of failing when the source cluster is gone', async () => {
    const w = world();
    w.kafka.lag = null;
    w.kafka.snapshotFails = true;
    await drain(w);
    expect(w.runRecords.entriesOf('unit-run-1', 'kafka.offset-snapshot').map((e) => e.data)).toEqual([
      { unavailable: `kafka(${SOURCE}→${TARGET}) source: connect ECONNREFUSED` },
    ]);
  });

  it('measures what is still at risk after draining', async () => {
    const w = world();
    w.postgres[SOURCE]!.state.lsn = '0/3000400';
    Object.assign(w.postgres[TARGET]!.state, { replayLsn: '0/3000000', replayDelaySeconds: 1.2 });
    const { result } = await drain(w);
    expect(result.dataAtRisk.postgres).toMatchObject({
      primaryReachable: true,
      lagBytes: 1024,
      lagSeconds: 1.2,
    });
  });

  it('dry run: measures and waits the same, but records nothing and changes nothing', async () => {
    const w = world();
    w.kafka.lag = [{ topic: 'orders', messagesBehind: 900, lagSeconds: 45 }];
    const { result } = await drain(w, dryRun());
    expect(result.drained).toBe(true);
    expect(writeCalls(w)).toEqual([]);
  });
});
