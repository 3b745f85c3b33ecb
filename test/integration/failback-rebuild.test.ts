/**
 * The failback's rebuild steps on a fresh sandbox, after a failover A → B done with the same
 * adapters the failover workflow uses: B's PostgreSQL promoted while A still took a write (a real
 * divergence), A fenced; B's Redis promoted, A's fenced. Then each rebuild step turns A back into
 * a replica of B, and a re-run of each is a recorded no-op. Tests run in order and depend on
 * each other's effects.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { createAwsClients } from '../../lambdas/shared/adapters/aws/clients';
import { KafkajsAdapter } from '../../lambdas/shared/adapters/kafka/kafkajs-adapter';
import { DependencyPool } from '../../lambdas/shared/build-dependencies';
import type { Run } from '../../lambdas/shared/run';
import { executeStep } from '../../lambdas/shared/step';
import { rebuildPostgresStandbyStep } from '../../lambdas/rebuild-postgres-standby/logic';
import { reattachRedisReplicaStep } from '../../lambdas/reattach-redis-replica/logic';
import { reverseKafkaMirroringStep } from '../../lambdas/reverse-kafka-mirroring/logic';
import { topologyFromSandbox } from '../../local-runner/sandbox-topology';
import { queryOnce } from '../../sandbox/postgres';
import { redisClient } from '../../sandbox/redis';
import { REPO_ROOT, sandboxProcessControl } from '../../sandbox/sandbox';
import { useFreshSandbox } from './fresh-sandbox';

const endpoints = useFreshSandbox('failback-rebuild', 26600);

let pool: DependencyPool;
let run: Run;
const A = () => endpoints().primary;
const B = () => endpoints().secondary;

async function rowsWithNote(port: number, note: string): Promise<number> {
  const rows = await queryOnce<{ n: number }>(
    port,
    'select count(*)::int as n from dr_rebuild_probe where note = $1',
    [note],
  );
  return rows[0]!.n;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | false | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

beforeAll(async () => {
  const e = endpoints();
  pool = new DependencyPool({
    topology: topologyFromSandbox(e),
    region: e.secondary.region,
    aws: (region) => createAwsClients({ region, endpoint: e.aws.endpoint, credentials: e.aws.credentials }),
    datasetFile: path.join(REPO_ROOT, 'data', 'sample.csv'),
    processControl: await sandboxProcessControl(endpoints.config),
  });
  run = {
    runId: 'failback-rebuild-test',
    executionId: 'local:failback-rebuild-test',
    application: 'tradepulse',
    mode: 'drill',
    dryRun: false,
    trigger: { kind: 'cli', requestedBy: 'integration test' },
    // The failback run: the current primary (B) is the source, the region returned to (A) the target.
    sourceRegion: e.secondary.region,
    targetRegion: e.primary.region,
    allowDataLoss: null,
    declaredAt: new Date().toISOString(),
  };

  // The failover, as the workflow does it, plus a write A took after B's promotion (split brain).
  await queryOnce(
    A().postgres.port,
    'create table dr_rebuild_probe (id serial primary key, note text not null)',
  );
  await queryOnce(A().postgres.port, `insert into dr_rebuild_probe (note) values ('before-failover')`);
  await waitFor(
    'the probe row on the standby',
    async () => (await rowsWithNote(B().postgres.port, 'before-failover')) === 1,
  );
  await pool.postgres(B().region).promote();
  await queryOnce(
    A().postgres.port,
    `insert into dr_rebuild_probe (note) values ('diverged-on-old-primary')`,
  );
  await pool.postgres(A().region).fence();
  await pool.redis(B().region).promote();
  await pool.redis(A().region).fence();
}, 90_000);

afterAll(async () => {
  await pool?.close();
});

const deps = () => pool.forRun(run.runId);

describe('rebuilding the old primary region as a replica of the new one', () => {
  test('PostgreSQL: pg_rewind turns the diverged, fenced old primary into a streaming standby of B', async () => {
    await queryOnce(B().postgres.port, `insert into dr_rebuild_probe (note) values ('after-failover-on-b')`);
    const dry = await executeStep(rebuildPostgresStandbyStep, { run: { ...run, dryRun: true } }, deps());
    expect(dry.evidence.action).toBe('dry-run');
    expect(dry.result.method).toBe('pg_rewind');
    expect(
      (await queryOnce<{ r: boolean }>(A().postgres.port, 'select pg_is_in_recovery() as r'))[0]!.r,
    ).toBe(false);

    const { evidence, result } = await executeStep(rebuildPostgresStandbyStep, { run }, deps());
    expect(evidence.action).toBe('changed');
    expect(result.method).toBe('pg_rewind');
    expect(result.reason).toMatch(/diverged/);
    expect(result.lsns.divergenceSwitchpoint).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(result.timingsMs.rewind).toBeGreaterThan(0);

    // A streams from B: both sides say so, and a row written on B now appears on A.
    const [receiver] = await queryOnce<{ status: string; sender_port: number }>(
      A().postgres.port,
      'select status, sender_port from pg_stat_wal_receiver',
    );
    expect(receiver).toEqual({ status: 'streaming', sender_port: B().postgres.port });
    const [sender] = await queryOnce<{ state: string }>(
      B().postgres.port,
      `select state from pg_stat_replication where application_name = 'standby_${A().region.replace(/-/g, '_')}'`,
    );
    expect(sender?.state).toBe('streaming');
    await queryOnce(B().postgres.port, `insert into dr_rebuild_probe (note) values ('after-rebuild-on-b')`);
    await waitFor(
      'the row written on B on A',
      async () => (await rowsWithNote(A().postgres.port, 'after-rebuild-on-b')) === 1,
    );
    expect(await rowsWithNote(A().postgres.port, 'after-failover-on-b')).toBe(1);
    // The split-brain write is gone: A now holds B's history.
    expect(await rowsWithNote(A().postgres.port, 'diverged-on-old-primary')).toBe(0);
    // The ALTER SYSTEM fence is gone from A's configuration, and the application role matches B's.
    const [setting] = await queryOnce<{ setting: string; source: string }>(
      A().postgres.port,
      `select setting, source from pg_settings where name = 'default_transaction_read_only'`,
    );
    expect(setting).toEqual({ setting: 'off', source: 'default' });
    const login = `select rolcanlogin as login from pg_roles where rolname = '${endpoints().postgresUsers.app}'`;
    expect((await queryOnce(A().postgres.port, login))[0]).toEqual(
      (await queryOnce(B().postgres.port, login))[0],
    );

    const again = await executeStep(rebuildPostgresStandbyStep, { run }, deps());
    expect(again.evidence.action).toBe('no-op');
    expect(again.evidence.changes).toEqual([]);
  });

  test('PostgreSQL: a forced fresh pg_basebackup rebuilds it too', async () => {
    // A diverges again (promoted on its own: a new timeline B never saw), then is rebuilt by copying.
    await queryOnce(A().postgres.port, 'select pg_promote(true, 30)');
    await queryOnce(A().postgres.port, `insert into dr_rebuild_probe (note) values ('second-split-brain')`);
    const { evidence, result } = await executeStep(
      rebuildPostgresStandbyStep,
      { run, method: 'pg_basebackup' },
      deps(),
    );
    expect(evidence.action).toBe('changed');
    expect(result.method).toBe('pg_basebackup');
    expect(result.timingsMs.baseBackup).toBeGreaterThan(0);
    await queryOnce(
      B().postgres.port,
      `insert into dr_rebuild_probe (note) values ('after-basebackup-on-b')`,
    );
    await waitFor(
      'the row written on B on A',
      async () => (await rowsWithNote(A().postgres.port, 'after-basebackup-on-b')) === 1,
    );
    expect(await rowsWithNote(A().postgres.port, 'second-split-brain')).toBe(0);
    expect(
      (await queryOnce<{ r: boolean }>(A().postgres.port, 'select pg_is_in_recovery() as r'))[0]!.r,
    ).toBe(true);
    expect((await executeStep(rebuildPostgresStandbyStep, { run }, deps())).evidence.action).toBe('no-op');
  });

  test('PostgreSQL: a rebuild interrupted after the stop, or after pg_rewind, converges when re-driven', async () => {
    const host = (await sandboxProcessControl(endpoints.config)).postgres(A().region);
    // Interrupted after the clean stop: the re-drive rewinds the stopped node.
    await queryOnce(A().postgres.port, 'select pg_promote(true, 30)');
    await queryOnce(A().postgres.port, `insert into dr_rebuild_probe (note) values ('third-split-brain')`);
    await host.stop();
    const afterStop = await executeStep(rebuildPostgresStandbyStep, { run }, deps());
    expect(afterStop.evidence.action).toBe('changed');
    expect(afterStop.result.method).toBe('pg_rewind');
    expect(await rowsWithNote(A().postgres.port, 'third-split-brain')).toBe(0);

    // Interrupted right after pg_rewind: the data directory holds B's configuration and is left in recovery;
    // it must not be started like that (it would take B's port), so the re-drive copies it afresh.
    await queryOnce(A().postgres.port, 'select pg_promote(true, 30)');
    await queryOnce(A().postgres.port, `insert into dr_rebuild_probe (note) values ('fourth-split-brain')`);
    await host.stop();
    await queryOnce(B().postgres.port, 'checkpoint');
    await host.runTool('pg_rewind', [
      '--target-pgdata',
      host.dataDir,
      '--source-server',
      `host=127.0.0.1 port=${B().postgres.port} user=${endpoints().postgresUsers.operator} dbname=postgres`,
    ]);
    expect(await host.readFile('postgresql.auto.conf')).toMatch(new RegExp(`port = '?${B().postgres.port}`));
    const afterRewind = await executeStep(rebuildPostgresStandbyStep, { run }, deps());
    expect(afterRewind.result.method).toBe('pg_basebackup');
    expect(afterRewind.result.reason).toMatch(/not shut down cleanly \(cluster state "in archive recovery"/);
    await queryOnce(B().postgres.port, `insert into dr_rebuild_probe (note) values ('after-redrive-on-b')`);
    await waitFor(
      'the row written on B on A',
      async () => (await rowsWithNote(A().postgres.port, 'after-redrive-on-b')) === 1,
    );
    expect(await rowsWithNote(A().postgres.port, 'fourth-split-brain')).toBe(0);
  });

  test('Redis: the fenced old primary becomes a caught-up replica of B, its fence cleared', async () => {
    const b = redisClient(B().redis.port);
    const a = redisClient(A().redis.port);
    await b.connect();
    await a.connect();
    try {
      await b.set('failback:probe', 'written-on-b');
      const { evidence, result } = await executeStep(reattachRedisReplicaStep, { run }, deps());
      expect(evidence.action).toBe('changed');
      expect(evidence.changes.join(' ')).toMatch(/cleared the old primary's write fence/);
      expect(result.attached).toBe(true);
      expect(await a.get('failback:probe')).toBe('written-on-b');
      const role = (await a.call('ROLE')) as unknown[];
      expect(role.slice(0, 3)).toEqual(['slave', '127.0.0.1', B().redis.port]);
      expect(await a.call('CONFIG', 'GET', 'min-replicas-to-write')).toEqual(['min-replicas-to-write', '0']);
      await b.set('failback:probe-2', 'later');
      await waitFor('the later key on A', async () => (await a.get('failback:probe-2')) === 'later');
      expect((await executeStep(reattachRedisReplicaStep, { run }, deps())).evidence.action).toBe('no-op');
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  test('Kafka: MirrorMaker 2 reversed B → A mirrors what is produced on B and translates a group offset back', async () => {
    const kafka = (brokers: string[]) =>
      new Kafka({ clientId: 'failback-rebuild-test', brokers, logLevel: logLevel.NOTHING });
    const onB = kafka(B().kafka.brokers);
    const producer = onB.producer();
    await producer.connect();
    const sent = await producer.send({
      topic: 'orders',
      messages: [
        { key: 'k1', value: 'order-on-b-1' },
        { key: 'k1', value: 'order-on-b-2' },
      ],
    });
    await producer.disconnect();
    const { partition, baseOffset } = sent[0]!;
    // A consumer group on B that has read both messages.
    const admin = onB.admin();
    await admin.connect();
    await admin.setOffsets({
      groupId: 'settlement',
      topic: 'orders',
      partitions: [{ partition, offset: String(Number(baseOffset) + 2) }],
    });
    await admin.disconnect();

    const { evidence, result } = await executeStep(reverseKafkaMirroringStep, { run }, deps());
    expect(evidence.action).toBe('changed');
    expect(evidence.changes[0]).toMatch(/^stopped .* us-east-1 → us-west-2$|^stopped .*→/);
    expect(result.flow).toMatchObject({
      sourceRegion: B().region,
      targetRegion: A().region,
      state: 'running',
    });
    expect(result.flow!.mirroredTopics).toContain('b.orders');

    // The messages are on A as b.orders.
    const onA = kafka(A().kafka.brokers);
    const aAdmin = onA.admin();
    await aAdmin.connect();
    try {
      await waitFor('b.orders on A to hold the messages', async () => {
        const offsets = await aAdmin.fetchTopicOffsets('b.orders');
        return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0) >= 2;
      });
      // The group's offset, translated through the checkpoints MM2 writes to A.
      const adapter = new KafkajsAdapter({
        sourceBrokers: B().kafka.brokers,
        targetBrokers: A().kafka.brokers,
        sourceAlias: 'b',
        targetAlias: 'a',
        criticalTopics: endpoints().criticalTopics,
      });
      try {
        expect(adapter.checkpointsTopic).toBe('b.checkpoints.internal');
        const translated = await waitFor('a checkpoint of group settlement', async () => {
          const groups = await adapter.translateAndCommitOffsets({ dryRun: true });
          return groups.find((g) => g.group === 'settlement' && g.offsets.length > 0);
        });
        expect(translated.offsets).toContainEqual(
          expect.objectContaining({
            topic: 'b.orders',
            partition,
            upstreamOffset: String(Number(baseOffset) + 2),
          }),
        );
      } finally {
        await adapter.close();
      }
    } finally {
      await aAdmin.disconnect();
    }
    const again = await executeStep(reverseKafkaMirroringStep, { run }, deps());
    expect(again.evidence.action).toBe('no-op');
  });
});
