import { acquireLockStep } from '../../../lambdas/acquire-lock/logic';
import { releaseLockStep } from '../../../lambdas/release-lock/logic';
import { LockHeldError } from '../../../lambdas/shared/errors';
import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import { dryRun, fakeDeps, mutations, sampleRun, writeCalls, type FakeWorld } from './fakes';

const acquire = (world: FakeWorld, run: Run = sampleRun()) =>
  executeStep(acquireLockStep, { run }, world.deps, world.clock);
const release = (world: FakeWorld, run: Run = sampleRun()) =>
  executeStep(releaseLockStep, { run }, world.deps, world.clock);

const otherRun = sampleRun({
  runId: 'other-run',
  executionId: 'arn:aws:states:us-west-2:000000000000:execution:tradepulse-dr-failover:other-run',
});
const leaseOf = (run: Run, expiresAt: string) => ({
  application: run.application,
  owner: run.executionId,
  runId: run.runId,
  acquiredAt: '2026-11-27T00:00:00.000Z',
  expiresAt,
});

describe('acquire-lock', () => {
  it('takes the application lock for this execution with the topology’s lease', async () => {
    const world = fakeDeps();
    const { evidence, result } = await acquire(world);
    const expected = {
      application: 'tradepulse',
      owner: sampleRun().executionId,
      runId: 'unit-run-1',
      acquiredAt: '2026-11-27T00:00:10.000Z',
      expiresAt: '2026-11-27T02:00:10.000Z', // 7200 s lease
    };
    expect(world.lock.leases.get('tradepulse')).toEqual(expected);
    expect(result.holder).toEqual(expected);
    expect(evidence.action).toBe('changed');
    expect(evidence.changes).toEqual(['took the tradepulse DR lock until 2026-11-27T02:00:10.000Z']);
    expect(evidence.observed).toEqual({ previousHolder: null });
  });

  it('is idempotent: re-acquiring by the same execution (a re-drive) is a no-op', async () => {
    const world = fakeDeps();
    await acquire(world);
    const before = mutations(world);
    world.clock.advance(60_000);
    const second = await acquire(world);
    expect(second.evidence.action).toBe('no-op');
    expect(second.evidence.changes).toEqual([]);
    expect(mutations(world)).toEqual(before);
    expect(world.lock.leases.get('tradepulse')?.acquiredAt).toBe('2026-11-27T00:00:10.000Z');
  });

  it('refuses with LockHeldError while another execution holds an unexpired lease, leaving it in place', async () => {
    const world = fakeDeps();
    world.lock.leases.set('tradepulse', leaseOf(otherRun, '2026-11-27T01:00:00.000Z'));
    const err = await acquire(world).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockHeldError);
    expect((err as Error).name).toBe('LockHeldError');
    expect(world.lock.leases.get('tradepulse')?.runId).toBe('other-run');
    expect(mutations(world)).toEqual([]);
  });

  it('takes over a lease that has expired', async () => {
    const world = fakeDeps();
    world.lock.leases.set('tradepulse', leaseOf(otherRun, '2026-11-27T00:00:05.000Z'));
    const { evidence } = await acquire(world);
    expect(evidence.action).toBe('changed');
    expect(evidence.observed).toEqual({ previousHolder: expect.objectContaining({ runId: 'other-run' }) });
    expect(world.lock.leases.get('tradepulse')?.runId).toBe('unit-run-1');
  });

  it('dry run: takes no lock and reports that it would', async () => {
    const world = fakeDeps();
    const { evidence } = await acquire(world, dryRun());
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes).toEqual(['would take the tradepulse DR lock for 7200s']);
    expect(writeCalls(world)).toEqual([]);
    expect(world.lock.leases.size).toBe(0);
  });

  it('dry run: still refuses while another execution holds the lock', async () => {
    const world = fakeDeps();
    world.lock.leases.set('tradepulse', leaseOf(otherRun, '2026-11-27T01:00:00.000Z'));
    await expect(acquire(world, dryRun())).rejects.toBeInstanceOf(LockHeldError);
    expect(writeCalls(world)).toEqual([]);
  });
});

describe('release-lock', () => {
  it('releases the lock this execution holds', async () => {
    const world = fakeDeps();
    world.lock.leases.set('tradepulse', leaseOf(sampleRun(), '2026-11-27T02:00:00.000Z'));
    const { evidence, result } = await release(world);
    expect(world.lock.leases.has('tradepulse')).toBe(false);
    expect(world.lock.callsTo('release')).toEqual([['tradepulse', sampleRun().executionId]]);
    expect(evidence).toMatchObject({ action: 'changed', changes: ['released the tradepulse DR lock'] });
    expect(result).toEqual({ released: true });
  });

  it('is idempotent: releasing twice is a recorded no-op', async () => {
    const world = fakeDeps();
    world.lock.leases.set('tradepulse', leaseOf(sampleRun(), '2026-11-27T02:00:00.000Z'));
    await release(world);
    const before = mutations(world);
    const second = await release(world);
    expect(second.evidence.action).toBe('no-op');
    expect(second.result).toEqual({ released: false });
    expect(mutations(world)).toEqual(before);
  });

  it('never releases another execution’s lock', async () => {
    const world = fakeDeps();
    world.lock.leases.set('tradepulse', leaseOf(otherRun, '2026-11-27T02:00:00.000Z'));
    await expect(release(world)).rejects.toBeInstanceOf(LockHeldError);
    expect(world.lock.leases.get('tradepulse')?.runId).toBe('other-run');
  });

  it('dry run: releases nothing', async () => {
    const world = fakeDeps();
    world.lock.leases.set('tradepulse', leaseOf(dryRun(), '2026-11-27T02:00:00.000Z'));
    const { evidence } = await release(world, dryRun());
    expect(evidence.action).toBe('dry-run');
    expect(writeCalls(world)).toEqual([]);
    expect(world.lock.leases.has('tradepulse')).toBe(true);
  });
});
