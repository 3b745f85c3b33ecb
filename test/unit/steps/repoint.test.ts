import { announceRegionStep } from '../../../lambdas/announce-region/logic';
import { cutoverTrafficStep } from '../../../lambdas/cutover-traffic/logic';
import { NotReadyYetError } from '../../../lambdas/shared/errors';
import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import { TRADING_ENDPOINTS } from '../../../lambdas/shared/topology';
import { waitForDnsSyncStep } from '../../../lambdas/wait-for-dns-sync/logic';
import { SOURCE, TARGET, dryRun, fakeDeps, mutations, sampleRun, writeCalls, type FakeWorld } from './fakes';

const allTo = (region: string) => Object.fromEntries(TRADING_ENDPOINTS.map((e) => [e, region]));

describe('cutover-traffic', () => {
  const cutover = (world: FakeWorld, run: Run = sampleRun()) =>
    executeStep(cutoverTrafficStep, { run }, world.deps, world.clock);

  it('points every trading endpoint at the target region and returns the change to wait for', async () => {
    const world = fakeDeps();
    const { evidence, result } = await cutover(world);
    expect(world.router.callsTo('routeTo')).toEqual([[TARGET, { dryRun: false }]]);
    expect(world.router.active).toEqual(allTo(TARGET));
    expect(result).toEqual({ changeId: 'C0001', method: 'route53-weighted', alreadyDone: false });
    expect(evidence.action).toBe('changed');
    expect(evidence.observed.before).toEqual(allTo(SOURCE));
    expect(evidence.changes).toEqual([
      `pointed api.tradepulse.internal from ${SOURCE} to ${TARGET} (route53-weighted)`,
      `pointed pg.tradepulse.internal from ${SOURCE} to ${TARGET} (route53-weighted)`,
      `pointed kafka.tradepulse.internal from ${SOURCE} to ${TARGET} (route53-weighted)`,
      `pointed redis.tradepulse.internal from ${SOURCE} to ${TARGET} (route53-weighted)`,
    ]);
  });

  it('is idempotent: a second run is a no-op with no second change and nothing to wait for', async () => {
    const world = fakeDeps();
    await cutover(world);
    const before = mutations(world);
    const second = await cutover(world);
    expect(second.evidence.action).toBe('no-op');
    expect(second.evidence.changes).toEqual([]);
    expect(second.result).toEqual({ changeId: null, method: 'route53-weighted', alreadyDone: true });
    expect(mutations(world)).toEqual(before);
  });

  it('dry run: plans the change with dryRun, routes nothing', async () => {
    const world = fakeDeps();
    const { evidence, result } = await cutover(world, dryRun());
    expect(world.router.callsTo('routeTo')).toEqual([[TARGET, { dryRun: true }]]);
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes[0]).toBe(
      `would point api.tradepulse.internal from ${SOURCE} to ${TARGET} (route53-weighted)`,
    );
    expect(evidence.changes).toHaveLength(4);
    expect(result.changeId).toBeNull();
    expect(world.router.active).toEqual(allTo(SOURCE));
    expect(writeCalls(world)).toEqual([]);
  });
});

describe('wait-for-dns-sync', () => {
  const sync = (world: FakeWorld, changeId: string | null, run: Run = sampleRun()) =>
    executeStep(waitForDnsSyncStep, { run, changeId }, world.deps, world.clock);

  it('a pending change → NotReadyYetError (the ASL retries it)', async () => {
    const world = fakeDeps();
    Object.assign(world.router.active, allTo(TARGET));
    world.router.pendingPolls = 1;
    const err = await sync(world, 'C0001').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotReadyYetError);
    expect((err as Error).name).toBe('NotReadyYetError');
    expect((err as Error).message).toBe('DNS change C0001 is not INSYNC yet');
  });

  it('once INSYNC and every endpoint routes to the target, reports in sync', async () => {
    const world = fakeDeps();
    Object.assign(world.router.active, allTo(TARGET));
    world.router.pendingPolls = 1;
    await sync(world, 'C0001').catch(() => undefined);
    const { evidence, result } = await sync(world, 'C0001');
    expect(result).toEqual({ inSync: true, active: allTo(TARGET) });
    expect(evidence.action).toBe('observed');
    expect(world.router.callsTo('isChangeComplete')).toEqual([['C0001'], ['C0001']]);
  });

  it('without a change to wait for (cutover was a no-op), only reads the routes back', async () => {
    const world = fakeDeps();
    Object.assign(world.router.active, allTo(TARGET));
    await sync(world, null);
    expect(world.router.callsTo('isChangeComplete')).toEqual([]);
  });

  it('an endpoint still routed elsewhere → NotReadyYetError naming it', async () => {
    const world = fakeDeps();
    Object.assign(world.router.active, allTo(TARGET), { kafkaBootstrap: SOURCE });
    const err = await sync(world, null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotReadyYetError);
    expect((err as Error).message).toBe(`still routed elsewhere: kafkaBootstrap→${SOURCE}`);
  });

  it('dry run: the routes have not moved, and that is expected', async () => {
    const world = fakeDeps();
    const { result } = await sync(world, null, dryRun());
    expect(result.inSync).toBe(true);
    expect(writeCalls(world)).toEqual([]);
  });
});

describe('announce-region', () => {
  const announce = (world: FakeWorld, run: Run = sampleRun()) =>
    executeStep(announceRegionStep, { run }, world.deps, world.clock);

  it('sets the active-region parameter and publishes RegionPromoted', async () => {
    const world = fakeDeps();
    const { evidence, result } = await announce(world);
    expect(world.flags[TARGET]!.callsTo('set')).toEqual([[{ activeRegion: TARGET }]]);
    expect(world.flags[TARGET]!.state.activeRegion).toBe(TARGET);
    expect(world.events.published).toEqual([
      {
        detailType: 'RegionPromoted',
        detail: {
          runId: 'unit-run-1',
          application: 'tradepulse',
          region: TARGET,
          previousRegion: SOURCE,
          mode: 'drill',
        },
      },
    ]);
    expect(evidence).toMatchObject({
      action: 'changed',
      observed: { activeRegion: SOURCE },
      changes: [`set the active region to ${TARGET}`, 'published RegionPromoted'],
    });
    expect(result).toEqual({ activeRegion: TARGET });
    expect(world.flags[SOURCE]!.calls).toEqual([]);
  });

  it('is idempotent: a second run is a no-op with no second event', async () => {
    const world = fakeDeps();
    await announce(world);
    const before = mutations(world);
    const second = await announce(world);
    expect(second.evidence.action).toBe('no-op');
    expect(mutations(world)).toEqual(before);
    expect(world.events.published).toHaveLength(1);
  });

  it('observes before acting: target already active → no-op, no event', async () => {
    const world = fakeDeps();
    world.flags[TARGET]!.state.activeRegion = TARGET;
    const { evidence } = await announce(world);
    expect(evidence.action).toBe('no-op');
    expect(mutations(world)).toEqual([]);
    expect(world.events.calls).toEqual([]);
  });

  it('dry run: sets nothing, publishes nothing', async () => {
    const world = fakeDeps();
    const { evidence, result } = await announce(world, dryRun());
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes).toEqual([`would set the active region to ${TARGET} and publish RegionPromoted`]);
    expect(result).toEqual({ activeRegion: SOURCE });
    expect(writeCalls(world)).toEqual([]);
  });
});
