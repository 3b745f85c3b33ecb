/**
 * The failback rebuild steps' logic over fakes: what they observe, when they act, what they
 * record. The adapters themselves are proven on real servers (test/integration/failback-rebuild.test.ts)
 * and, for AWS, with aws-sdk-client-mock.
 */
import type {
  KafkaAdapter,
  MirrorControl,
  MirrorFlow,
  PostgresRebuilder,
  PostgresRebuildPlan,
  RedisReplicaAttacher,
  RedisReplicaState,
  TopicReplicationLag,
} from '../../../lambdas/shared/adapters/contracts';
import { InvalidInputError, NotReadyYetError, TransientError } from '../../../lambdas/shared/errors';
import { executeStep } from '../../../lambdas/shared/step';
import { rebuildPostgresStandbyStep } from '../../../lambdas/rebuild-postgres-standby/logic';
import { reattachRedisReplicaStep } from '../../../lambdas/reattach-redis-replica/logic';
import { reverseKafkaMirroringStep } from '../../../lambdas/reverse-kafka-mirroring/logic';
import { SOURCE, TARGET, sampleRun, sampleTopology } from './fakes';

// The failback run: the current primary (TARGET of the failover) is its source, the old primary its target.
const failbackRun = (dryRun = false) =>
  sampleRun({ sourceRegion: TARGET, targetRegion: SOURCE, dryRun, ...(dryRun ? { mode: 'dryRun' } : {}) });

class FakeRebuilder implements PostgresRebuilder {
  calls: string[] = [];
  replica = false;
  constructor(
    readonly primary: string,
    readonly rebuilt: string,
  ) {}
  async inspect(): Promise<PostgresRebuildPlan> {
    return {
      alreadyReplica: this.replica,
      method: this.replica ? null : 'pg_rewind',
      reason: this.replica ? 'already streams' : 'diverged at 0/302C550',
      primary: { region: this.primary },
      replica: { region: this.rebuilt },
    };
  }
  async rebuild(opts: { method: string }) {
    this.calls.push(`rebuild:${opts.method}`);
    const already = this.replica;
    this.replica = true;
    return {
      alreadyDone: already,
      method: already ? 'none' : opts.method === 'auto' ? 'pg_rewind' : opts.method,
      reason: 'diverged at 0/302C550',
      lsns: { divergenceSwitchpoint: '0/302C550' },
      timingsMs: { total: 1200, rewind: 300 },
      verification: { streaming: true },
    };
  }
}

describe('rebuild-postgres-standby', () => {
  const setup = () => {
    const made: FakeRebuilder[] = [];
    const deps = {
      postgresRebuilder: (primary: string, rebuilt: string) => {
        const r = new FakeRebuilder(primary, rebuilt);
        made.push(r);
        return made[0] ?? r;
      },
    };
    return { made, deps };
  };

  test('rebuilds the target region as a standby of the source region, and a re-run is a no-op', async () => {
    const { made, deps } = setup();
    const first = await executeStep(rebuildPostgresStandbyStep, { run: failbackRun() }, deps);
    expect(made[0]).toMatchObject({ primary: TARGET, rebuilt: SOURCE });
    expect(first.evidence.action).toBe('changed');
    expect(first.result).toMatchObject({
      rebuilt: true,
      method: 'pg_rewind',
      lsns: { divergenceSwitchpoint: '0/302C550' },
    });
    expect(first.evidence.changes[0]).toMatch(
      `rebuilt PostgreSQL in ${SOURCE} as a streaming standby of ${TARGET} with pg_rewind`,
    );
    const again = await executeStep(rebuildPostgresStandbyStep, { run: failbackRun() }, deps);
    expect(again.evidence).toMatchObject({ action: 'no-op', changes: [] });
    expect(made[0]!.calls).toEqual(['rebuild:auto']);
  });

  test('a dry run reports the method and why, and changes nothing', async () => {
    const { made, deps } = setup();
    const { evidence, result } = await executeStep(
      rebuildPostgresStandbyStep,
      { run: failbackRun(true), method: 'pg_basebackup' },
      deps,
    );
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes[0]).toMatch(/would rebuild .* with pg_basebackup \(diverged at 0\/302C550\)/);
    expect(result.method).toBe('pg_basebackup');
    expect(made[0]!.calls).toEqual([]);
  });

  test('bad input is refused naming the field, before anything is touched', async () => {
    const { made, deps } = setup();
    await expect(
      executeStep(rebuildPostgresStandbyStep, { run: failbackRun(), method: 'rsync' }, deps),
    ).rejects.toThrow(/method/);
    await expect(
      executeStep(rebuildPostgresStandbyStep, { run: sampleRun({ targetRegion: SOURCE }) }, deps),
    ).rejects.toThrow(InvalidInputError);
    expect(made).toHaveLength(0);
  });
});

class FakeAttacher implements RedisReplicaAttacher {
  state: RedisReplicaState = {
    reachable: true,
    role: 'master',
    master: null,
    linkUp: null,
    replicaOffset: 900,
    primaryOffset: 1200,
    attached: false,
    fenceSet: true,
    keys: 10,
  };
  attaches = 0;
  async inspect() {
    return { ...this.state };
  }
  async attach() {
    this.attaches += 1;
    const before = { ...this.state };
    this.state = {
      ...this.state,
      role: 'replica',
      master: '127.0.0.1:1',
      linkUp: true,
      replicaOffset: 1200,
      attached: true,
      fenceSet: false,
    };
    return {
      alreadyDone: false,
      before,
      after: { ...this.state },
      fenceCleared: before.fenceSet,
      waitedMs: 40,
    };
  }
}

describe('reattach-redis-replica', () => {
  test('re-attaches the fenced old primary, clears the fence, and a re-run is a no-op', async () => {
    const attacher = new FakeAttacher();
    const regions: string[][] = [];
    const deps = { redisReplica: (p: string, r: string) => (regions.push([p, r]), attacher) };
    const first = await executeStep(reattachRedisReplicaStep, { run: failbackRun() }, deps);
    expect(regions[0]).toEqual([TARGET, SOURCE]);
    expect(first.evidence.action).toBe('changed');
    expect(first.evidence.changes).toEqual([
      expect.stringMatching(
        `made Redis in ${SOURCE} a replica of ${TARGET} \\(was master\\); caught up at offset 1200`,
      ),
      `cleared the old primary's write fence (min-replicas-to-write) in ${SOURCE}`,
    ]);
    expect(first.result).toEqual({ attached: true, replicaOffset: 1200, primaryOffset: 1200, keys: 10 });
    const again = await executeStep(reattachRedisReplicaStep, { run: failbackRun() }, deps);
    expect(again.evidence.action).toBe('no-op');
    expect(attacher.attaches).toBe(1);
  });

  test('a dry run says what it would do', async () => {
    const attacher = new FakeAttacher();
    const { evidence } = await executeStep(
      reattachRedisReplicaStep,
      { run: failbackRun(true) },
      { redisReplica: () => attacher },
    );
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes[0]).toMatch(/would make Redis .* a replica .* and clear its write fence/);
    expect(attacher.attaches).toBe(0);
  });
});

class FakeMirror implements MirrorControl {
  running: MirrorFlow = flow(SOURCE, TARGET);
  replicated: string[] = [];
  async flows() {
    return [this.running];
  }
  async replicate(source: string, target: string) {
    this.replicated.push(`${source}->${target}`);
    const stopped = { ...this.running, state: 'stopped' as const };
    this.running = flow(source, target);
    return { alreadyDone: false, stopped: [stopped], started: this.running, flow: this.running };
  }
}

function flow(source: string, target: string): MirrorFlow {
  return {
    sourceRegion: source,
    targetRegion: target,
    state: 'running',
    mechanism: 'MirrorMaker 2',
    mirroredTopics: [`${source === SOURCE ? 'a' : 'b'}.orders`],
  };
}

function fakeKafka(lags: TopicReplicationLag[][]): KafkaAdapter & { reads: number } {
  const adapter = {
    reads: 0,
    async replicationLag() {
      const lag = lags[Math.min(adapter.reads, lags.length - 1)]!;
      adapter.reads += 1;
      return lag;
    },
  };
  return adapter as unknown as KafkaAdapter & { reads: number };
}

describe('reverse-kafka-mirroring', () => {
  const topology = sampleTopology();
  const setup = (lags: TopicReplicationLag[][]) => {
    const mirror = new FakeMirror();
    const kafka = fakeKafka(lags);
    const routes: string[] = [];
    const slept: number[] = [];
    const deps = {
      topology,
      mirrorControl: () => mirror,
      kafka: (s: string, t: string) => (routes.push(`${s}->${t}`), kafka),
      sleep: async (ms: number) => void slept.push(ms),
    };
    return { mirror, kafka, routes, slept, deps };
  };
  const caughtUp = [{ topic: 'orders', messagesBehind: 0, lagSeconds: 0 }];

  test('stops the forward flow, starts source → target, waits for the lag to be within the objective; a re-run is a no-op', async () => {
    const { mirror, routes, slept, deps } = setup([
      [{ topic: 'orders', messagesBehind: 500, lagSeconds: 120 }],
      caughtUp,
    ]);
    const first = await executeStep(reverseKafkaMirroringStep, { run: failbackRun() }, deps);
    expect(mirror.replicated).toEqual([`${TARGET}->${SOURCE}`]);
    expect(routes).toEqual([`${TARGET}->${SOURCE}`]);
    expect(slept).toEqual([1000]);
    expect(first.evidence.action).toBe('changed');
    expect(first.evidence.changes).toEqual([
      `stopped MirrorMaker 2 ${SOURCE} → ${TARGET}`,
      `started MirrorMaker 2 ${TARGET} → ${SOURCE} (b.orders on ${SOURCE}) with checkpoints and group offset sync`,
    ]);
    expect(first.result).toMatchObject({ reversed: true, lag: caughtUp });
    const again = await executeStep(reverseKafkaMirroringStep, { run: failbackRun() }, deps);
    expect(again.evidence.action).toBe('no-op');
    expect(mirror.replicated).toHaveLength(1);
  });

  test('lag that stays beyond the objective is NotReadyYet, naming the topic', async () => {
    const { deps } = setup([[{ topic: 'orders', messagesBehind: 500, lagSeconds: 120 }]]);
    await expect(
      executeStep(reverseKafkaMirroringStep, { run: failbackRun(), lagTimeoutSeconds: 0.001 }, deps),
    ).rejects.toThrow(NotReadyYetError);
    await expect(
      executeStep(reverseKafkaMirroringStep, { run: failbackRun(), lagTimeoutSeconds: 0.001 }, deps),
    ).rejects.toThrow(/orders 120 s/);
  });

  test('a transient error while the mirrored topics settle is read again, not a failure', async () => {
    const { deps } = setup([caughtUp]);
    let calls = 0;
    const flaky = {
      async replicationLag() {
        calls += 1;
        if (calls === 1) throw new TransientError('KafkaJSProtocolError: This server is not the leader');
        return caughtUp;
      },
    } as unknown as KafkaAdapter;
    const { evidence } = await executeStep(
      reverseKafkaMirroringStep,
      { run: failbackRun() },
      { ...deps, kafka: () => flaky },
    );
    expect(evidence.action).toBe('changed');
    expect(calls).toBe(2);
    const broken = {
      async replicationLag() {
        throw new TransientError('KafkaJSConnectionError: Connection error');
      },
    } as unknown as KafkaAdapter;
    await expect(
      executeStep(
        reverseKafkaMirroringStep,
        { run: failbackRun(), lagTimeoutSeconds: 0.001 },
        { ...deps, kafka: () => broken },
      ),
    ).rejects.toThrow(/not within 30 s after 0.001 s: KafkaJSConnectionError/);
  });

  test('a dry run changes nothing', async () => {
    const { mirror, deps } = setup([caughtUp]);
    const { evidence } = await executeStep(reverseKafkaMirroringStep, { run: failbackRun(true) }, deps);
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes).toEqual([
      `would stop MirrorMaker 2 ${SOURCE} → ${TARGET}`,
      `would start replication ${TARGET} → ${SOURCE} with checkpoints and group offset sync`,
    ]);
    expect(mirror.replicated).toEqual([]);
  });
});
