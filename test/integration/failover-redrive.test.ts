import type { DrillRun } from '../../drill/run-drill';
import { observeWorld, testDrill } from './drill-fixture';
import { useFreshSandbox } from './fresh-sandbox';

const endpoints = useFreshSandbox('failover-redrive', 26220, { postgres: { synchronous: true } });

describe('a step that crashes mid-way, then a re-drive from that step', () => {
  let drill: DrillRun;
  beforeAll(async () => {
    // PromoteRedis acts (promotes and hydrates), then crashes before it answers: the worst moment.
    drill = await testDrill(endpoints(), { faults: [{ step: 'PromoteRedis', when: 'after', times: 1 }] });
  });

  test('the first execution fails at the promotion and goes down the failure path', () => {
    const first = drill.executions[0]!;
    expect(first.status).toBe('FAILED');
    expect(first.failedState).toBe('PromoteStores');
    expect(first.timeline.find((t) => t.state === 'PromoteRedis')?.error).toBe('InjectedCrash');
    expect(first.timeline.map((t) => t.state)).toEqual(
      expect.arrayContaining(['RecordFailure', 'ReleaseLockAfterFailure']),
    );
  });

  test('the re-drive starts at the failed state and converges to trading resumed', async () => {
    const redrive = drill.executions[1]!;
    expect(redrive.status).toBe('SUCCEEDED');
    expect(redrive.timeline[0]!.state).toBe('PromoteStores');
    const world = await observeWorld(endpoints());
    expect(world.postgres.secondary.inRecovery).toBe(false);
    expect(world.redis.secondary).toBe('master');
    expect(world.flags.secondary.acceptNewOrders).toBe(true);
    expect(world.lock).toBeNull();
  });

  test('nothing is done twice: the re-driven steps observe that their goal holds and record a no-op', () => {
    const byStep = (step: string) => drill.invocations.filter((i) => i.step === step);
    expect(byStep('PromoteRedis').map((i) => i.action)).toEqual(['changed', 'no-op']);
    expect(byStep('PromotePostgres').map((i) => i.action)).toEqual(['changed', 'no-op']);
    expect(byStep('FenceOldPrimary').map((i) => i.action)).toEqual(['changed']);
    expect(byStep('QuiesceTrading')).toHaveLength(1);
  });

  test('no acknowledged order was lost across the crash and the re-drive', () => {
    expect(drill.ackedWritesLost!.acknowledged).toBeGreaterThan(0);
    expect(drill.ackedWritesLost!.missing).toBe(0);
    expect(drill.kafka!.skipped).toBe(0);
  });
});
