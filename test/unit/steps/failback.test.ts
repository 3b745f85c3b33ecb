import { announceRegionStep } from '../../../lambdas/announce-region/logic';
import { checkReplicationCaughtUpStep } from '../../../lambdas/check-replication-caught-up/logic';
import { confirmFinalLsnStep } from '../../../lambdas/confirm-final-lsn/logic';
import { cutoverTrafficStep } from '../../../lambdas/cutover-traffic/logic';
import { promoteRedisStep } from '../../../lambdas/promote-redis/logic';
import { validateFailbackRequestStep } from '../../../lambdas/validate-failback-request/logic';
import { verifySwitchoverStageStep } from '../../../lambdas/verify-switchover-stage/logic';
import { warmUpTargetStep } from '../../../lambdas/warm-up-target/logic';
import type { Run } from '../../../lambdas/shared/run';
import { FailbackRequestSchema, ExecutionInputSchema } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import fs from 'node:fs';
import path from 'node:path';
import { TRADING_ENDPOINTS } from '../../../lambdas/shared/topology';
import { SOURCE, TARGET, fakeDeps, mutations, sampleRun, writeCalls, type FakeWorld } from './fakes';

/**
 * The failback's own steps, on the fake world read the failback's way round: trading runs in
 * SOURCE (where the failover went), the orchestrator and the region returned to are TARGET.
 */
const failbackRun = (overrides: Partial<Run> = {}): Run =>
  sampleRun({
    workflow: 'failback',
    failback: { warmupSeconds: 3, readinessTimeoutSeconds: 5 },
    ...overrides,
  });

const execution = {
  id: 'arn:aws:states:us-west-2:000000000000:execution:tradepulse-dr-failback:fb-1',
  name: 'fb-1',
  startTime: '2026-11-27T00:00:00.000Z',
};
const request = (overrides: Record<string, unknown> = {}) => ({
  trigger: 'cli',
  workflow: 'failback',
  mode: 'drill',
  sourceRegion: SOURCE,
  targetRegion: TARGET,
  requestedBy: 'jest',
  warmupSeconds: 3,
  ...overrides,
});

describe('events/failback-console.json', () => {
  it('is a valid failback request (30 min warm-up), and not a failover input', () => {
    const file = path.resolve(import.meta.dirname, '../../../events/failback-console.json');
    const event = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    expect(FailbackRequestSchema.parse(event)).toMatchObject({ workflow: 'failback', warmupSeconds: 1800 });
    expect(ExecutionInputSchema.safeParse(event).success).toBe(false);
  });
});

describe('validate-failback-request', () => {
  const validate = (world: FakeWorld, input: unknown = request()) =>
    executeStep(validateFailbackRequestStep, { input, execution }, world.deps, world.clock);
  const refused = async (world: FakeWorld, input: unknown, name: string) => {
    const writesBefore = writeCalls(world);
    const err = (await validate(world, input).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe(name);
    expect(writeCalls(world)).toEqual(writesBefore);
    return err.message;
  };

  it('turns a request into a failback run, read-only', async () => {
    const world = fakeDeps();
    const { result, evidence } = await validate(world);
    expect(result.run).toMatchObject({
      runId: 'fb-1',
      workflow: 'failback',
      sourceRegion: SOURCE,
      targetRegion: TARGET,
      failback: { warmupSeconds: 3, readinessTimeoutSeconds: 300 },
      allowDataLoss: null,
    });
    expect(evidence.observed).toMatchObject({ activeRegion: { [SOURCE]: SOURCE } });
    expect(writeCalls(world)).toEqual([]);
  });

  it('refuses when no failover happened: the target is already primary', async () => {
    const world = fakeDeps();
    for (const e of TRADING_ENDPOINTS) world.router.active[e] = TARGET;
    world.flags[SOURCE]!.state.activeRegion = TARGET;
    expect(await refused(world, request(), 'NoFailoverToReturnFromError')).toBe(
      `failback refused: no failover to return from — ${TARGET} is already primary (every trading endpoint routes to ${TARGET}; the active-region parameter in ${SOURCE} names ${TARGET})`,
    );
  });

  it('refuses while another DR run holds the lock', async () => {
    const world = fakeDeps();
    await world.lock.acquire({
      application: 'tradepulse',
      owner: 'other-execution',
      runId: 'other',
      acquiredAt: '2026-11-27T00:00:00.000Z',
      expiresAt: '2026-11-27T02:00:00.000Z',
    });
    const before = mutations(world).length;
    expect(await refused(world, request(), 'LockHeldError')).toMatch(/locked by DR run other until/);
    expect(mutations(world)).toHaveLength(before);
  });

  it('refuses a target that is not healthy, naming what is wrong', async () => {
    const world = fakeDeps();
    world.redis[TARGET]!.state.reachable = false;
    expect(await refused(world, request(), 'TargetUnhealthyError')).toBe(
      `failback refused: ${TARGET} is not healthy: Redis in ${TARGET} unreachable`,
    );
  });

  it.each([
    [{ requestedBy: '' }, /requestedBy/],
    [{ workflow: 'failover' }, /workflow/],
    [{ warmupSeconds: 99999 }, /warmupSeconds/],
    [{ sourceRegion: TARGET }, /targetRegion: must differ from sourceRegion/],
    [{ sourceRegion: TARGET, targetRegion: SOURCE }, /static stability/],
  ])('rejects a malformed request %j naming the field', async (overrides, message) => {
    expect(await refused(fakeDeps(), request(overrides), 'InvalidInputError')).toMatch(message);
  });
});

describe('check-replication-caught-up', () => {
  const check = (world: FakeWorld, scope: 'readiness' | 'kafka-drained', run = failbackRun()) =>
    executeStep(checkReplicationCaughtUpStep, { run, scope }, world.deps, world.clock);

  it('readiness: caught up when the standby replayed the primary LSN, MM2 within objective, Redis linked', async () => {
    const world = fakeDeps();
    const { result } = await check(world, 'readiness');
    expect(result).toMatchObject({ caughtUp: true, reasons: [], postgres: { lagBytes: 0 } });
    expect(writeCalls(world)).toEqual([]);
  });

  it('readiness: polls until caught up', async () => {
    const world = fakeDeps();
    world.postgres[TARGET]!.state.replayLsn = '0/2FFFF00';
    world.postgres[TARGET]!.statusScript = [{}, {}, { replayLsn: '0/3000000' }];
    const { result } = await check(world, 'readiness');
    expect(result.caughtUp).toBe(true);
    expect(world.sleeps.length).toBeGreaterThan(0);
  });

  it('readiness: not caught up within the timeout → caughtUp false with every reason, nothing changed', async () => {
    const world = fakeDeps();
    world.postgres[TARGET]!.state.replayLsn = '0/2FFFF00';
    world.kafka.lag = [{ topic: 'orders', messagesBehind: 500, lagSeconds: 45 }];
    world.redis[TARGET]!.state.linkUp = false;
    const { result } = await check(world, 'readiness');
    expect(result.caughtUp).toBe(false);
    expect(result.reasons).toEqual([
      `PostgreSQL in ${TARGET} has not replayed up to 0/3000000 (replayed 0/2FFFF00, 256 bytes behind)`,
      `MirrorMaker 2 ${SOURCE} → ${TARGET} lags 45 s, objective 30 s`,
      `the Redis replica in ${TARGET} is not linked to ${SOURCE}`,
    ]);
    expect(result.summary).toMatch(
      /^failback refused, replication us-east-1 → us-west-2 not caught up after 5 s/,
    );
    expect(world.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5000);
    expect(writeCalls(world)).toEqual([]);
  });

  it('readiness: a target that is not a streaming standby is not ready', async () => {
    const world = fakeDeps();
    world.postgres[TARGET]!.state.walReceiverStatus = null;
    const { result } = await check(world, 'readiness');
    expect(result.reasons[0]).toMatch(/is not a streaming standby/);
  });

  it('kafka-drained: throws NotReadyYetError while any message is not mirrored', async () => {
    const world = fakeDeps();
    world.kafka.lag = [{ topic: 'orders', messagesBehind: 3, lagSeconds: 1 }];
    const err = (await check(world, 'kafka-drained').catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('NotReadyYetError');
    expect(err.message).toMatch(/orders: 3 message\(s\) not yet mirrored into us-west-2/);
  });

  it('kafka-drained in a dry run (producers not paused) reports what is behind instead of failing', async () => {
    const world = fakeDeps();
    world.kafka.lag = [{ topic: 'orders', messagesBehind: 3, lagSeconds: 1 }];
    const { result } = await check(world, 'kafka-drained', failbackRun({ mode: 'dryRun', dryRun: true }));
    expect(result).toMatchObject({
      caughtUp: false,
      reasons: ['orders: 3 message(s) not yet mirrored into us-west-2'],
    });
  });

  it('kafka-drained: passes with every topic mirrored to the last message', async () => {
    const { result } = await check(fakeDeps(), 'kafka-drained');
    expect(result.caughtUp).toBe(true);
  });
});

describe('confirm-final-lsn', () => {
  const confirm = (world: FakeWorld, run = failbackRun()) =>
    executeStep(confirmFinalLsnStep, { run, timeoutSeconds: 2 }, world.deps, world.clock);

  it('records both LSNs when the fenced primary’s final LSN is replayed', async () => {
    const world = fakeDeps();
    Object.assign(world.postgres[SOURCE]!.state, { readOnly: true, lsn: '0/3000000' });
    const { result } = await confirm(world);
    expect(result).toMatchObject({
      confirmed: true,
      finalLsn: '0/3000000',
      replayedLsn: '0/3000000',
      bytesBehind: 0,
    });
    expect(world.runRecords.entriesOf('unit-run-1', 'switchover.final-lsn')).toHaveLength(1);
  });

  it('refuses a primary that still takes writes: its LSN is not final', async () => {
    const world = fakeDeps();
    const err = (await confirm(world).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('FinalLsnMismatchError');
    expect(err.message).toMatch(/is not a fenced primary/);
  });

  it('stops before promotion when the standby has not replayed the final LSN in time', async () => {
    const world = fakeDeps();
    Object.assign(world.postgres[SOURCE]!.state, { readOnly: true, lsn: '0/3000100' });
    const err = (await confirm(world).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('FinalLsnMismatchError');
    expect(err.message).toMatch(
      /replayed 0\/3000000 but the fenced primary in us-east-1 ended at 0\/3000100 \(256 bytes behind/,
    );
    expect(writeCalls(world)).toEqual([]);
  });

  it('a dry run reports both positions and fails nothing (nothing was fenced)', async () => {
    const world = fakeDeps();
    Object.assign(world.postgres[SOURCE]!.state, { lsn: '0/3000100' });
    const { evidence, result } = await confirm(world, failbackRun({ mode: 'dryRun', dryRun: true }));
    expect(evidence.action).toBe('dry-run');
    expect(result).toMatchObject({ confirmed: false, finalLsn: '0/3000100', bytesBehind: 256 });
    expect(writeCalls(world)).toEqual([]);
  });

  it('on a re-drive after the promotion, reports the proof already made', async () => {
    const world = fakeDeps();
    Object.assign(world.postgres[SOURCE]!.state, { role: 'standby' });
    Object.assign(world.postgres[TARGET]!.state, { role: 'primary', readOnly: false });
    expect((await confirm(world)).result).toMatchObject({ confirmed: true, alreadyPromoted: true });
  });
});

describe('staggered switchover steps', () => {
  it('cutover-traffic passes the endpoints of one stage to the router', async () => {
    const world = fakeDeps();
    const calls: unknown[] = [];
    const router = world.deps.router;
    world.deps.router = {
      ...router,
      activeRegions: () => router.activeRegions(),
      isChangeComplete: (id) => router.isChangeComplete(id),
      routeTo: async (region, opts) => {
        calls.push(opts);
        return { method: 'route53-weighted', alreadyDone: false, changeId: 'C1', records: [] };
      },
    };
    await executeStep(
      cutoverTrafficStep,
      { run: failbackRun(), endpoints: ['kafkaBootstrap'] },
      world.deps,
      world.clock,
    );
    expect(calls).toEqual([{ dryRun: false, endpoints: ['kafkaBootstrap'] }]);
  });

  it('verify-switchover-stage kafka: fails while the bootstrap record still routes to the source', async () => {
    const world = fakeDeps();
    const err = (await executeStep(
      verifySwitchoverStageStep,
      { run: failbackRun(), stage: 'kafka' },
      world.deps,
      world.clock,
    ).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('VerificationFailedError');
    expect(err.message).toBe(
      `switchover stage kafka does not hold: kafkaBootstrap routes to ${SOURCE}, not ${TARGET}`,
    );
    world.router.active.kafkaBootstrap = TARGET;
    const { result } = await executeStep(
      verifySwitchoverStageStep,
      { run: failbackRun(), stage: 'kafka' },
      world.deps,
      world.clock,
    );
    expect(result).toEqual({ stage: 'kafka', verified: true });
  });

  it('announce-region in a failback sets both regions’ parameters (the target’s was stale) and publishes RegionPromoted', async () => {
    const world = fakeDeps();
    world.flags[TARGET]!.state.activeRegion = TARGET; // never updated while the region was away
    const { evidence } = await executeStep(
      announceRegionStep,
      { run: failbackRun() },
      world.deps,
      world.clock,
    );
    expect(world.flags[SOURCE]!.state.activeRegion).toBe(TARGET);
    expect(world.events.published.map((e) => e.detailType)).toEqual(['RegionPromoted']);
    expect(evidence.changes).toEqual([
      `set the active region to ${TARGET} in ${TARGET} and ${SOURCE}`,
      'published RegionPromoted',
    ]);
    const again = await executeStep(announceRegionStep, { run: failbackRun() }, world.deps, world.clock);
    expect(again.evidence.action).toBe('no-op');
    expect(world.events.published).toHaveLength(1);
  });

  it('verify-switchover-stage in a dry run reports what does not hold yet', async () => {
    const world = fakeDeps();
    const { evidence, result } = await executeStep(
      verifySwitchoverStageStep,
      { run: failbackRun({ mode: 'dryRun', dryRun: true }), stage: 'postgres' },
      world.deps,
      world.clock,
    );
    expect(result).toEqual({ stage: 'postgres', verified: false });
    expect(evidence.observed.notYet).toEqual([
      `postgresWriter routes to ${SOURCE}, not ${TARGET}`,
      `PostgreSQL in ${TARGET} is not a writable primary (role standby)`,
      `PostgreSQL in ${SOURCE} still accepts writes`,
    ]);
  });

  it('promote-redis without hydration promotes the in-sync replica and replays no snapshot', async () => {
    const world = fakeDeps();
    const { result } = await executeStep(
      promoteRedisStep,
      { run: failbackRun(), hydrate: false },
      world.deps,
      world.clock,
    );
    expect(result).toMatchObject({ promoted: true, snapshot: null, keysWritten: 0 });
    expect(world.redis[TARGET]!.state.role).toBe('master');
    expect(world.redis[TARGET]!.hydratedFrom).toBeNull();
  });
});

describe('warm-up-target', () => {
  it('runs synthetic load rounds until the phase ends, sampling replication, changing nothing', async () => {
    const world = fakeDeps();
    const { result } = await executeStep(
      warmUpTargetStep,
      { run: failbackRun(), startedAt: world.clock.now().toISOString() },
      world.deps,
      world.clock,
    );
    expect(result).toMatchObject({ complete: true, phaseSeconds: 3 });
    expect(result.rounds).toBeGreaterThanOrEqual(3);
    expect(writeCalls(world)).toEqual([]);
  });

  it('a phase longer than one invocation returns incomplete, to be invoked again', async () => {
    const world = fakeDeps();
    const run = failbackRun({ failback: { warmupSeconds: 1800, readinessTimeoutSeconds: 5 } });
    const { result } = await executeStep(
      warmUpTargetStep,
      { run, startedAt: world.clock.now().toISOString(), maxInvocationSeconds: 10 },
      world.deps,
      world.clock,
    );
    expect(result.complete).toBe(false);
  });

  it('fails when the Redis replica link breaks during the phase', async () => {
    const world = fakeDeps();
    world.redis[TARGET]!.state.linkUp = false;
    const err = (await executeStep(
      warmUpTargetStep,
      { run: failbackRun(), startedAt: world.clock.now().toISOString() },
      world.deps,
      world.clock,
    ).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('WarmUpFailedError');
    expect(err.message).toMatch(/the Redis replica link into us-west-2 is down/);
  });
});
