import { captureDataAtRiskStep } from '../../../lambdas/capture-data-at-risk/logic';
import { checkTargetHealthStep } from '../../../lambdas/check-target-health/logic';
import { TargetUnhealthyError } from '../../../lambdas/shared/errors';
import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import { SOURCE, TARGET, dryRun, fakeDeps, mutations, sampleRun, writeCalls, type FakeWorld } from './fakes';

describe('check-target-health', () => {
  const check = (world: FakeWorld, run: Run = sampleRun()) =>
    executeStep(checkTargetHealthStep, { run }, world.deps, world.clock);

  async function unhealthy(world: FakeWorld): Promise<TargetUnhealthyError> {
    const err = await check(world).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetUnhealthyError);
    expect((err as Error).name).toBe('TargetUnhealthyError');
    return err as TargetUnhealthyError;
  }

  it('passes when the target’s standby, Kafka and Redis answer, and changes nothing', async () => {
    const world = fakeDeps();
    const { evidence, result } = await check(world);
    expect(result).toEqual({ healthy: true, postgresRole: 'standby' });
    expect(evidence.action).toBe('observed');
    expect(evidence.observed).toMatchObject({
      postgres: { reachable: true, role: 'standby' },
      kafka: { reachable: true },
      redis: { reachable: true, role: 'replica' },
    });
    expect(world.postgres[TARGET]!.callsTo('status')).toHaveLength(1);
    expect(world.postgres[SOURCE]!.calls).toEqual([]);
    expect(writeCalls(world)).toEqual([]);
  });

  it('accepts a target that is already the primary (a re-drive)', async () => {
    const world = fakeDeps();
    Object.assign(world.postgres[TARGET]!.state, { role: 'primary', readOnly: false });
    expect((await check(world)).result).toEqual({ healthy: true, postgresRole: 'primary' });
  });

  it('unreachable target PostgreSQL → TargetUnhealthyError naming it, with what was observed', async () => {
    const world = fakeDeps();
    world.postgres[TARGET]!.state.reachable = false;
    const err = await unhealthy(world);
    expect(err.message).toBe(`PostgreSQL in ${TARGET} unreachable: connect ECONNREFUSED`);
    expect(err.details).toMatchObject({ postgres: { reachable: false } });
  });

  it('target PostgreSQL without a role → TargetUnhealthyError', async () => {
    const world = fakeDeps();
    world.postgres[TARGET]!.state.role = 'unknown';
    expect((await unhealthy(world)).message).toBe(`PostgreSQL in ${TARGET} reports no role`);
  });

  it('unreachable Kafka → TargetUnhealthyError naming it', async () => {
    const world = fakeDeps();
    world.kafka.reachable = false;
    expect((await unhealthy(world)).message).toMatch(new RegExp(`^Kafka in ${TARGET} unreachable`));
  });

  it('unreachable Redis → TargetUnhealthyError naming it', async () => {
    const world = fakeDeps();
    world.redis[TARGET]!.state.reachable = false;
    expect((await unhealthy(world)).message).toBe(`Redis in ${TARGET} unreachable`);
  });

  it('reports every problem at once', async () => {
    const world = fakeDeps();
    world.postgres[TARGET]!.state.reachable = false;
    world.redis[TARGET]!.state.reachable = false;
    expect((await unhealthy(world)).message.split('; ')).toHaveLength(2);
  });

  it('does not care whether the source region answers', async () => {
    const world = fakeDeps();
    world.postgres[SOURCE]!.state.reachable = false;
    world.redis[SOURCE]!.state.reachable = false;
    await expect(check(world)).resolves.toMatchObject({ result: { healthy: true } });
  });
});

describe('capture-data-at-risk', () => {
  const capture = (world: FakeWorld, run: Run = sampleRun()) =>
    executeStep(captureDataAtRiskStep, { run }, world.deps, world.clock);

  function lagging(world: FakeWorld) {
    world.postgres[SOURCE]!.state.lsn = '0/3000100';
    Object.assign(world.postgres[TARGET]!.state, {
      lsn: '0/3000100',
      replayLsn: '0/3000000',
      replayPendingBytes: 256,
      replayDelaySeconds: 0.4,
    });
    world.kafka.lag = [
      { topic: 'orders', messagesBehind: 12, lagSeconds: 1.5 },
      { topic: 'fills', messagesBehind: 3, lagSeconds: 0.7 },
    ];
    world.redis[SOURCE]!.state.replicationOffset = 10_500;
    world.redis[TARGET]!.state.replicationOffset = 10_000;
  }

  it('measures PostgreSQL, MirrorMaker 2 and Redis lag and appends it to the run record', async () => {
    const world = fakeDeps();
    lagging(world);
    const { evidence, result } = await capture(world);
    expect(result).toEqual({
      measuredAt: '2026-11-27T00:00:10.000Z',
      postgres: {
        primaryReachable: true,
        lagBytes: 256,
        lagSeconds: 0.4,
        primaryLsn: '0/3000100',
        standbyReplayLsn: '0/3000000',
      },
      kafka: {
        topics: [
          { topic: 'orders', messagesBehind: 12, lagSeconds: 1.5 },
          { topic: 'fills', messagesBehind: 3, lagSeconds: 0.7 },
        ],
        maxLagSeconds: 1.5,
      },
      redis: { primaryReachable: true, offsetBehindBytes: 500, replicaLinkUp: true },
    });
    expect(evidence.action).toBe('observed');
    expect(world.runRecords.entriesOf('unit-run-1')).toEqual([
      { kind: 'data-at-risk.declaration', at: '2026-11-27T00:00:10.000Z', data: result },
    ]);
    expect(writeCalls(world)).toEqual(['runRecords.append']);
  });

  it('a caught-up standby has zero seconds at risk even when its last replayed transaction is old', async () => {
    const world = fakeDeps();
    world.postgres[TARGET]!.state.replayDelaySeconds = 900; // idle primary: nothing new to replay
    expect((await capture(world)).result.postgres).toMatchObject({ lagBytes: 0, lagSeconds: 0 });
  });

  it('with the old primary unreachable, falls back to what the standby received but has not replayed', async () => {
    const world = fakeDeps();
    world.postgres[SOURCE]!.state.reachable = false;
    Object.assign(world.postgres[TARGET]!.state, { replayPendingBytes: 4096, replayDelaySeconds: 2 });
    expect((await capture(world)).result.postgres).toEqual({
      primaryReachable: false,
      lagBytes: 4096,
      lagSeconds: 2,
      primaryLsn: null,
      standbyReplayLsn: '0/3000000',
    });
  });

  it('unmeasurable MirrorMaker 2 lag (source cluster gone) is infinite, not zero', async () => {
    const world = fakeDeps();
    world.kafka.lag = null;
    expect((await capture(world)).result.kafka).toEqual({
      topics: [],
      maxLagSeconds: Number.POSITIVE_INFINITY,
    });
  });

  it('Redis offset behind is unknown when the old primary does not answer', async () => {
    const world = fakeDeps();
    world.redis[SOURCE]!.state.reachable = false;
    expect((await capture(world)).result.redis).toEqual({
      primaryReachable: false,
      offsetBehindBytes: null,
      replicaLinkUp: true,
    });
  });

  it('is repeatable: a second run only observes again', async () => {
    const world = fakeDeps();
    await capture(world);
    const second = await capture(world);
    expect(second.evidence.action).toBe('observed');
    expect(
      mutations(world).filter((m) => !m.startsWith('runRecords: appended data-at-risk.declaration')),
    ).toEqual([]);
  });

  it('dry run: measures but records nothing', async () => {
    const world = fakeDeps();
    lagging(world);
    const { result } = await capture(world, dryRun());
    expect(result.postgres.lagBytes).toBe(256);
    expect(writeCalls(world)).toEqual([]);
  });
});
