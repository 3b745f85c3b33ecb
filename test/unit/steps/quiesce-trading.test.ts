import { quiesceTradingStep } from '../../../lambdas/quiesce-trading/logic';
import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import { SOURCE, TARGET, dryRun, fakeDeps, mutations, sampleRun, writeCalls, type FakeWorld } from './fakes';

const quiesce = (world: FakeWorld, run: Run = sampleRun()) =>
  executeStep(quiesceTradingStep, { run }, world.deps, world.clock);
const frozen = { acceptNewOrders: false, strategyActivation: 'disabled' };

describe('quiesce-trading', () => {
  it('disables strategy activation and new orders in the target region and, where it answers, the source', async () => {
    const world = fakeDeps();
    const { evidence, result } = await quiesce(world);
    expect(world.flags[TARGET]!.state).toMatchObject(frozen);
    expect(world.flags[SOURCE]!.state).toMatchObject(frozen);
    expect(world.flags[TARGET]!.callsTo('set')).toEqual([[frozen]]);
    expect(world.flags[SOURCE]!.callsTo('set')).toEqual([[frozen]]);
    expect(evidence.action).toBe('changed');
    expect(evidence.changes).toEqual([
      `${TARGET}: acceptNewOrders set to its frozen value`,
      `${TARGET}: strategyActivation set to its frozen value`,
      `${SOURCE}: acceptNewOrders set to its frozen value`,
      `${SOURCE}: strategyActivation set to its frozen value`,
    ]);
    expect(evidence.observed).toMatchObject({
      target: { acceptNewOrders: true },
      sourceRegion: { reachable: true },
    });
    expect(result).toEqual({ quiesced: true });
  });

  it('does not touch the deployment freeze or the active region', async () => {
    const world = fakeDeps();
    await quiesce(world);
    expect(world.flags[TARGET]!.state).toMatchObject({ deploymentFreeze: false, activeRegion: SOURCE });
  });

  it('is idempotent: a second run is a no-op with no second change', async () => {
    const world = fakeDeps();
    await quiesce(world);
    const before = mutations(world);
    const second = await quiesce(world);
    expect(second.evidence.action).toBe('no-op');
    expect(second.evidence.changes).toEqual([]);
    expect(mutations(world)).toEqual(before);
  });

  it('observes before acting: trading already quiesced in both regions → no-op, nothing changed', async () => {
    const world = fakeDeps();
    Object.assign(world.flags[TARGET]!.state, frozen);
    Object.assign(world.flags[SOURCE]!.state, frozen);
    const { evidence } = await quiesce(world);
    expect(evidence.action).toBe('no-op');
    expect(mutations(world)).toEqual([]);
  });

  it('tolerates an unreachable source region: the target is quiesced and the failure recorded, not thrown', async () => {
    const world = fakeDeps();
    world.flags[SOURCE]!.reachable = false;
    const { evidence, result } = await quiesce(world);
    expect(result).toEqual({ quiesced: true });
    expect(world.flags[TARGET]!.state).toMatchObject(frozen);
    expect(evidence.action).toBe('changed');
    expect(evidence.observed.sourceRegion).toEqual({ unreachable: `flags(${SOURCE}): connect ECONNREFUSED` });
    expect(evidence.changes.every((c) => c.startsWith(TARGET))).toBe(true);
  });

  it('an unreachable target region fails the step (its flags are authoritative)', async () => {
    const world = fakeDeps();
    world.flags[TARGET]!.reachable = false;
    await expect(quiesce(world)).rejects.toThrow(/ECONNREFUSED/);
    expect(world.flags[SOURCE]!.calls).toEqual([]);
  });

  it('dry run: sets no flag anywhere and says what it would do', async () => {
    const world = fakeDeps();
    const { evidence, result } = await quiesce(world, dryRun());
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes).toEqual([
      'would set STRATEGY_ACTIVATION=disabled and ACCEPT_NEW_ORDERS=false in both regions',
    ]);
    expect(result).toEqual({ quiesced: false });
    expect(writeCalls(world)).toEqual([]);
  });
});
