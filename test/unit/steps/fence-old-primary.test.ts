import { fenceOldPrimaryStep } from '../../../lambdas/fence-old-primary/logic';
import { FencingFailedError } from '../../../lambdas/shared/errors';
import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import { SOURCE, TARGET, dryRun, fakeDeps, mutations, sampleRun, writeCalls, type FakeWorld } from './fakes';

const fence = (world: FakeWorld, run: Run = sampleRun()) =>
  executeStep(fenceOldPrimaryStep, { run }, world.deps, world.clock);

describe('fence-old-primary', () => {
  it('makes the old PostgreSQL primary refuse writes and stops the old Redis master taking writes', async () => {
    const world = fakeDeps();
    const { evidence, result } = await fence(world);
    expect(world.postgres[SOURCE]!.state.readOnly).toBe(true);
    expect(world.redis[SOURCE]!.state.fenced).toBe(true);
    expect(evidence.action).toBe('changed');
    expect(evidence.changes).toEqual([
      `made PostgreSQL in ${SOURCE} read-only, terminated 2 application sessions, verified a write is refused`,
      `stopped Redis in ${SOURCE} from accepting writes`,
    ]);
    expect(result).toEqual({
      postgres: { fenced: true, alreadyDone: false, terminatedSessions: 2, verifiedWriteRefused: true },
      redis: { fenced: true, alreadyDone: false },
    });
  });

  it('touches nothing in the target region', async () => {
    const world = fakeDeps();
    await fence(world);
    expect(world.postgres[TARGET]!.calls).toEqual([]);
    expect(world.redis[TARGET]!.calls).toEqual([]);
  });

  it('is idempotent: a second run is a no-op with no second change', async () => {
    const world = fakeDeps();
    await fence(world);
    const before = mutations(world);
    const second = await fence(world);
    expect(second.evidence.action).toBe('no-op');
    expect(second.evidence.changes).toEqual([]);
    expect(mutations(world)).toEqual(before);
  });

  it('observes before acting: both already fenced → no-op, nothing changed', async () => {
    const world = fakeDeps();
    world.postgres[SOURCE]!.state.readOnly = true;
    world.redis[SOURCE]!.state.fenced = true;
    const { evidence } = await fence(world);
    expect(evidence.action).toBe('no-op');
    expect(mutations(world)).toEqual([]);
  });

  it('a re-drive after PostgreSQL was fenced but Redis was not: fences Redis and reports a change', async () => {
    const world = fakeDeps();
    world.postgres[SOURCE]!.state.readOnly = true;
    const { evidence } = await fence(world);
    expect(evidence.action).toBe('changed');
    expect(evidence.changes).toEqual([`stopped Redis in ${SOURCE} from accepting writes`]);
    expect(mutations(world)).toEqual([`redis(${SOURCE}): fenced`]);
  });

  it('a write still accepted after fencing → FencingFailedError, and Redis is left alone', async () => {
    const world = fakeDeps();
    world.postgres[SOURCE]!.fenceRefusesWrites = false;
    const err = await fence(world).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FencingFailedError);
    expect((err as Error).name).toBe('FencingFailedError');
    expect((err as Error).message).toBe(`PostgreSQL in ${SOURCE} still accepted a write after fencing`);
    expect(world.redis[SOURCE]!.callsTo('fence')).toEqual([]);
  });

  it('an unreachable old PostgreSQL primary is recorded, not thrown; Redis is still fenced', async () => {
    const world = fakeDeps();
    world.postgres[SOURCE]!.state.reachable = false;
    const { evidence, result } = await fence(world);
    expect(result.postgres).toEqual({ fenced: false, unreachable: true });
    expect(result.redis).toMatchObject({ fenced: true });
    expect(world.postgres[SOURCE]!.callsTo('fence')).toEqual([]);
    expect(evidence.observed).toMatchObject({ postgres: { reachable: false } });
  });

  it('an unreachable old Redis master is recorded, not thrown', async () => {
    const world = fakeDeps();
    world.redis[SOURCE]!.state.reachable = false;
    const { result } = await fence(world);
    expect(result.redis).toEqual({ fenced: false, unreachable: true });
    expect(result.postgres).toMatchObject({ fenced: true });
  });

  it('dry run: fences nothing and says what it would do', async () => {
    const world = fakeDeps();
    const { evidence, result } = await fence(world, dryRun());
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes).toEqual([
      `would make PostgreSQL in ${SOURCE} read-only and terminate application sessions`,
      `would stop Redis in ${SOURCE} from accepting writes`,
    ]);
    expect(result).toEqual({ postgres: { fenced: false }, redis: { fenced: false } });
    expect(writeCalls(world)).toEqual([]);
    expect(world.postgres[SOURCE]!.state.readOnly).toBe(false);
  });

  it('dry run over an already read-only PostgreSQL: plans only the Redis fence', async () => {
    const world = fakeDeps();
    world.postgres[SOURCE]!.state.readOnly = true;
    const { evidence, result } = await fence(world, dryRun());
    expect(evidence.changes).toEqual([`would stop Redis in ${SOURCE} from accepting writes`]);
    expect(result.postgres).toEqual({ fenced: true });
    expect(writeCalls(world)).toEqual([]);
  });
});
