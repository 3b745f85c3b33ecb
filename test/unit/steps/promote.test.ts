import { promoteKafkaStep } from '../../../lambdas/promote-kafka/logic';
import { promotePostgresStep } from '../../../lambdas/promote-postgres/logic';
import { promoteRedisStep } from '../../../lambdas/promote-redis/logic';
import { NotReadyYetError, PromotionFailedError } from '../../../lambdas/shared/errors';
import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import { SOURCE, TARGET, dryRun, fakeDeps, mutations, sampleRun, writeCalls, type FakeWorld } from './fakes';

describe('promote-postgres', () => {
  const promote = (world: FakeWorld, run: Run = sampleRun(), replayTimeoutSeconds?: number) =>
    executeStep(
      promotePostgresStep,
      { run, ...(replayTimeoutSeconds ? { replayTimeoutSeconds } : {}) },
      world.deps,
      world.clock,
    );

  /** A standby that has received WAL it has not replayed yet. */
  function behind(world: FakeWorld) {
    Object.assign(world.postgres[TARGET]!.state, {
      lsn: '0/3000200',
      replayLsn: '0/3000000',
      replayPendingBytes: 512,
    });
  }

  it('waits for replay, promotes the standby and confirms a writable primary', async () => {
    const world = fakeDeps();
    behind(world);
    const { evidence, result } = await promote(world);
    const pg = world.postgres[TARGET]!;
    expect(pg.calls.map((c) => c.method)).toEqual(['status', 'waitForReplay', 'promote', 'status']);
    expect(pg.callsTo('waitForReplay')).toEqual([[30_000]]);
    expect(pg.state).toMatchObject({ role: 'primary', readOnly: false, timeline: 2 });
    expect(result).toEqual({ promoted: true, timeline: 2, lsn: '0/3000200', replayedUpTo: '0/3000200' });
    expect(evidence.action).toBe('changed');
    expect(evidence.changes).toEqual([
      `promoted PostgreSQL in ${TARGET} (pg_promote) after replaying up to 0/3000200; now timeline 2`,
    ]);
    expect(world.postgres[SOURCE]!.calls).toEqual([]);
  });

  it('passes the replay timeout it is given', async () => {
    const world = fakeDeps();
    await promote(world, sampleRun(), 5);
    expect(world.postgres[TARGET]!.callsTo('waitForReplay')).toEqual([[5_000]]);
  });

  it('replay not caught up → NotReadyYetError, and no promotion', async () => {
    const world = fakeDeps();
    world.postgres[TARGET]!.replayCatchesUp = false;
    await expect(promote(world)).rejects.toBeInstanceOf(NotReadyYetError);
    expect(world.postgres[TARGET]!.callsTo('promote')).toEqual([]);
    expect(world.postgres[TARGET]!.state.role).toBe('standby');
  });

  it('is idempotent: a second run calls promote again, which says alreadyDone → no-op, no second promotion', async () => {
    const world = fakeDeps();
    await promote(world);
    const before = mutations(world);
    const second = await promote(world);
    expect(world.postgres[TARGET]!.callsTo('promote')).toHaveLength(2);
    expect(world.postgres[TARGET]!.callsTo('waitForReplay')).toHaveLength(1);
    expect(second.evidence.action).toBe('no-op');
    expect(second.evidence.changes).toEqual([]);
    expect(second.result).toMatchObject({ promoted: true, timeline: 2 });
    expect(mutations(world)).toEqual(before);
  });

  it('already a primary that inherited the old primary’s fence: promote() is still called and lifts it', async () => {
    const world = fakeDeps();
    Object.assign(world.postgres[TARGET]!.state, { role: 'primary', readOnly: true, timeline: 2 });
    const { evidence } = await promote(world);
    expect(world.postgres[TARGET]!.callsTo('promote')).toHaveLength(1);
    expect(world.postgres[TARGET]!.state.readOnly).toBe(false);
    expect(evidence.action).toBe('changed');
  });

  it('not writable after promote → PromotionFailedError', async () => {
    const world = fakeDeps();
    world.postgres[TARGET]!.promoteOutcome = 'read-only';
    const err = await promote(world).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromotionFailedError);
    expect((err as Error).name).toBe('PromotionFailedError');
    expect((err as Error).message).toBe(`PostgreSQL in ${TARGET} is not a writable primary after promotion`);
  });

  it('still in recovery after promote → PromotionFailedError', async () => {
    const world = fakeDeps();
    world.postgres[TARGET]!.promoteOutcome = 'still-standby';
    await expect(promote(world)).rejects.toBeInstanceOf(PromotionFailedError);
  });

  it('dry run: neither waits nor promotes, and says what it would do', async () => {
    const world = fakeDeps();
    behind(world);
    const { evidence, result } = await promote(world, dryRun());
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes).toEqual([
      `would wait for WAL replay (512 bytes pending) and promote PostgreSQL in ${TARGET}`,
    ]);
    expect(result).toMatchObject({ promoted: false });
    expect(writeCalls(world)).toEqual([]);
    expect(world.postgres[TARGET]!.callsTo('waitForReplay')).toEqual([]);
  });

  it('dry run on an already promoted target reports nothing to do', async () => {
    const world = fakeDeps();
    Object.assign(world.postgres[TARGET]!.state, { role: 'primary', readOnly: false });
    const { evidence, result } = await promote(world, dryRun());
    expect(evidence).toMatchObject({ action: 'dry-run', changes: [] });
    expect(result.promoted).toBe(true);
    expect(writeCalls(world)).toEqual([]);
  });
});

describe('promote-kafka', () => {
  const promote = (world: FakeWorld, run: Run = sampleRun()) =>
    executeStep(promoteKafkaStep, { run }, world.deps, world.clock);

  it('checks ISR, then commits every group’s translated offsets on the target', async () => {
    const world = fakeDeps();
    const { evidence, result } = await promote(world);
    expect(world.kafka.calls.map((c) => c.method)).toEqual(['checkIsr', 'translateAndCommitOffsets']);
    expect(world.kafka.callsTo('translateAndCommitOffsets')).toEqual([[{ dryRun: false }]]);
    expect([...world.kafka.committed.keys()]).toEqual(['audit-trail', 'risk-engine']);
    expect(evidence.action).toBe('changed');
    expect(evidence.changes).toEqual([
      'committed translated offsets for group audit-trail on 1 partition(s)',
      'committed translated offsets for group risk-engine on 1 partition(s)',
    ]);
    expect(result).toEqual({
      groups: [
        { group: 'audit-trail', committed: true, skippedReason: null },
        { group: 'risk-engine', committed: true, skippedReason: null },
      ],
      isrOk: true,
    });
  });

  it('leaves groups already active on the target alone, and says why', async () => {
    const world = fakeDeps();
    world.kafka.groups[1]!.activeOnTarget = true;
    const { result } = await promote(world);
    expect(result.groups[1]).toEqual({
      group: 'risk-engine',
      committed: false,
      skippedReason: 'group-active-on-target',
    });
    expect(world.kafka.committed.has('risk-engine')).toBe(false);
  });

  it('is idempotent: a second run commits nothing and is a no-op', async () => {
    const world = fakeDeps();
    await promote(world);
    const before = mutations(world);
    const second = await promote(world);
    expect(second.evidence.action).toBe('no-op');
    expect(second.evidence.changes).toEqual([]);
    expect(second.result.groups.map((g) => g.skippedReason)).toEqual([
      'already-at-or-beyond',
      'already-at-or-beyond',
    ]);
    expect(mutations(world)).toEqual(before);
  });

  it('ISR below min.insync.replicas → PromotionFailedError naming the partition, before any commit', async () => {
    const world = fakeDeps();
    world.kafka.isr = [
      { topic: 'a.orders', partition: 0, isr: 1, minInsyncReplicas: 1 },
      { topic: 'a.fills', partition: 2, isr: 1, minInsyncReplicas: 2 },
    ];
    const err = await promote(world).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromotionFailedError);
    expect((err as Error).message).toBe(
      `Kafka in ${TARGET}: 1 partition(s) below min.insync.replicas (a.fills-2)`,
    );
    expect(world.kafka.callsTo('translateAndCommitOffsets')).toEqual([]);
    expect(world.kafka.committed.size).toBe(0);
  });

  it('dry run: translates with dryRun and commits nothing', async () => {
    const world = fakeDeps();
    world.kafka.groups.push({ group: 'no-checkpoint-yet', checkpoint: null });
    const { evidence } = await promote(world, dryRun());
    expect(evidence.action).toBe('dry-run');
    expect(world.kafka.callsTo('translateAndCommitOffsets')).toEqual([[{ dryRun: true }]]);
    expect(evidence.changes).toEqual([
      'would commit translated offsets for group audit-trail',
      'would commit translated offsets for group risk-engine',
    ]);
    expect(world.kafka.committed.size).toBe(0);
    expect(writeCalls(world)).toEqual([]);
  });
});

describe('promote-redis', () => {
  const promote = (world: FakeWorld, run: Run = sampleRun()) =>
    executeStep(promoteRedisStep, { run }, world.deps, world.clock);

  it('promotes the replica, then hydrates hot keys from the verified snapshot', async () => {
    const world = fakeDeps();
    const { evidence, result } = await promote(world);
    const redis = world.redis[TARGET]!;
    expect(redis.calls.map((c) => c.method)).toEqual(['status', 'promote', 'hydrateFromSnapshot', 'status']);
    expect(redis.callsTo('hydrateFromSnapshot')).toEqual([[{ dryRun: false }]]);
    expect(redis.state.role).toBe('master');
    expect(evidence.action).toBe('changed');
    expect(evidence.changes).toEqual([
      `promoted the Redis replica in ${TARGET}`,
      `hydrated 250 hot keys from verified snapshot ${redis.snapshot.name}`,
    ]);
    expect(result).toEqual({ promoted: true, snapshot: redis.snapshot.name, keysWritten: 250, keys: 1250 });
    expect(world.redis[SOURCE]!.calls).toEqual([]);
  });

  it('is idempotent: a second run is a no-op with no second promotion or hydration', async () => {
    const world = fakeDeps();
    await promote(world);
    const before = mutations(world);
    const second = await promote(world);
    expect(second.evidence.action).toBe('no-op');
    expect(second.evidence.changes).toEqual([]);
    expect(mutations(world)).toEqual(before);
    expect(world.redis[TARGET]!.state.keys).toBe(1250);
  });

  it('observes before acting: already master and hydrated → no-op, nothing changed', async () => {
    const world = fakeDeps();
    world.redis[TARGET]!.state.role = 'master';
    world.redis[TARGET]!.hydratedFrom = world.redis[TARGET]!.snapshot.name;
    const { evidence } = await promote(world);
    expect(evidence.action).toBe('no-op');
    expect(mutations(world)).toEqual([]);
  });

  it('dry run: promotes nothing, writes no key, and names the snapshot it would use', async () => {
    const world = fakeDeps();
    const { evidence, result } = await promote(world, dryRun());
    const redis = world.redis[TARGET]!;
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes).toEqual([
      `would promote the Redis replica in ${TARGET}`,
      `would hydrate hot keys from snapshot ${redis.snapshot.name}`,
    ]);
    expect(redis.callsTo('hydrateFromSnapshot')).toEqual([[{ dryRun: true }]]);
    expect(result).toMatchObject({ promoted: false, keysWritten: 0, keys: 1000 });
    expect(writeCalls(world)).toEqual([]);
    expect(redis.state).toMatchObject({ role: 'replica', keys: 1000 });
  });
});
