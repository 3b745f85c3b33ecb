import { evaluateRpoGateStep, findRpoBreaches } from '../../../lambdas/evaluate-rpo-gate/logic';
import type { DataAtRisk } from '../../../lambdas/shared/measure/data-at-risk';
import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import { RUNBOOK_OBJECTIVES } from '../../../lambdas/shared/topology';
import { dryRun, fakeDeps, sampleRun, writeCalls, type FakeWorld } from './fakes';

function atRisk(
  overrides: { postgres?: Partial<DataAtRisk['postgres']>; kafka?: Partial<DataAtRisk['kafka']> } = {},
): DataAtRisk {
  return {
    measuredAt: '2026-11-27T00:00:09.000Z',
    postgres: {
      primaryReachable: true,
      lagBytes: 0,
      lagSeconds: 0,
      primaryLsn: '0/3000000',
      standbyReplayLsn: '0/3000000',
      ...overrides.postgres,
    },
    kafka: {
      topics: [{ topic: 'orders', messagesBehind: 0, lagSeconds: 0 }],
      maxLagSeconds: 0,
      ...overrides.kafka,
    },
    redis: { primaryReachable: true, offsetBehindBytes: 0, replicaLinkUp: true },
  };
}

const allowDataLoss = { approvedBy: 'cto', reason: 'the primary region is gone for good' };

describe('findRpoBreaches', () => {
  const objectives = RUNBOOK_OBJECTIVES; // postgres 60 s, kafka 30 s

  it('none when everything is within its objective (boundaries included)', () => {
    expect(
      findRpoBreaches(
        atRisk({ postgres: { lagBytes: 4096, lagSeconds: 60 }, kafka: { maxLagSeconds: 30 } }),
        objectives,
      ),
    ).toEqual([]);
  });

  it('PostgreSQL lag beyond the objective', () => {
    const [breach, ...rest] = findRpoBreaches(
      atRisk({ postgres: { lagBytes: 8192, lagSeconds: 61 } }),
      objectives,
    );
    expect(rest).toEqual([]);
    expect(breach).toEqual({
      store: 'postgres',
      objectiveSeconds: 60,
      atRiskSeconds: 61,
      why: '61.0 s of transactions (8192 bytes of WAL) not replayed on the standby',
    });
  });

  it('unknown PostgreSQL lag counts as a breach', () => {
    const [breach] = findRpoBreaches(atRisk({ postgres: { lagBytes: null, lagSeconds: null } }), objectives);
    expect(breach).toEqual({
      store: 'postgres',
      objectiveSeconds: 60,
      atRiskSeconds: null,
      why: 'replication lag could not be measured',
    });
  });

  it('unknown seconds with bytes pending counts as a breach, and says why when the primary is gone', () => {
    const [breach] = findRpoBreaches(
      atRisk({ postgres: { primaryReachable: false, lagBytes: 512, lagSeconds: null } }),
      objectives,
    );
    expect(breach).toMatchObject({
      store: 'postgres',
      atRiskSeconds: null,
      why: 'the old primary is unreachable: WAL it never sent cannot be measured',
    });
  });

  it('unknown seconds with nothing pending is no breach', () => {
    expect(findRpoBreaches(atRisk({ postgres: { lagBytes: 0, lagSeconds: null } }), objectives)).toEqual([]);
  });

  it('Kafka lag beyond the objective names the worst topic', () => {
    const topics = [
      { topic: 'fills', messagesBehind: 10, lagSeconds: 5 },
      { topic: 'orders', messagesBehind: 420, lagSeconds: 42 },
    ];
    expect(findRpoBreaches(atRisk({ kafka: { topics, maxLagSeconds: 42 } }), objectives)).toEqual([
      {
        store: 'kafka',
        objectiveSeconds: 30,
        atRiskSeconds: 42,
        why: 'MirrorMaker 2 is 42.0 s behind on orders (420 messages)',
      },
    ]);
  });

  it('infinite (unmeasurable) Kafka lag is a breach with unknown seconds', () => {
    expect(
      findRpoBreaches(atRisk({ kafka: { topics: [], maxLagSeconds: Number.POSITIVE_INFINITY } }), objectives),
    ).toEqual([
      {
        store: 'kafka',
        objectiveSeconds: 30,
        atRiskSeconds: null,
        why: 'MirrorMaker 2 lag could not be measured (source cluster unreachable)',
      },
    ]);
  });

  it('Kafka lag that is not a number (a topic whose lag could not be read) is a breach', () => {
    const topics = [{ topic: 'orders', messagesBehind: 0, lagSeconds: Number.NaN }];
    expect(findRpoBreaches(atRisk({ kafka: { topics, maxLagSeconds: Number.NaN } }), objectives)).toEqual([
      expect.objectContaining({ store: 'kafka', atRiskSeconds: null }),
    ]);
  });

  it('uses the objectives it is given', () => {
    const strict = { ...RUNBOOK_OBJECTIVES, postgres: { rpoSeconds: 0, rtoSeconds: 600 } };
    expect(
      findRpoBreaches(atRisk({ postgres: { lagBytes: 16, lagSeconds: 0.1 } }), strict).map((b) => b.store),
    ).toEqual(['postgres']);
  });
});

describe('evaluate-rpo-gate', () => {
  const gate = (world: FakeWorld, run: Run, dataAtRisk: DataAtRisk) =>
    executeStep(
      evaluateRpoGateStep,
      { run, steps: { waitForDrain: { result: { dataAtRisk } } } },
      world.deps,
      world.clock,
    );

  it('proceed: within every objective, nothing to decide or record', async () => {
    const world = fakeDeps();
    const { evidence, result } = await gate(world, sampleRun(), atRisk());
    expect(result).toEqual({ decision: 'proceed', breaches: [] });
    expect(evidence).toMatchObject({ action: 'observed', changes: [] });
    expect(writeCalls(world)).toEqual([]);
  });

  it('stop: a breach without an allowDataLoss decision', async () => {
    const world = fakeDeps();
    const { result } = await gate(
      world,
      sampleRun(),
      atRisk({ postgres: { lagBytes: 9000, lagSeconds: 90 } }),
    );
    expect(result.decision).toBe('stop');
    expect(result.breaches).toEqual([expect.objectContaining({ store: 'postgres', atRiskSeconds: 90 })]);
    expect(world.runRecords.entriesOf('unit-run-1', 'decision.allowDataLoss.applied')).toEqual([]);
  });

  it('proceed-with-data-loss: a breach with an allowDataLoss decision, appended to the run record', async () => {
    const world = fakeDeps();
    const run = sampleRun({ allowDataLoss });
    const { evidence, result } = await gate(
      world,
      run,
      atRisk({ kafka: { topics: [], maxLagSeconds: Number.POSITIVE_INFINITY } }),
    );
    expect(result.decision).toBe('proceed-with-data-loss');
    expect(world.runRecords.entriesOf('unit-run-1')).toEqual([
      {
        kind: 'decision.allowDataLoss.applied',
        at: '2026-11-27T00:00:10.000Z',
        data: { ...allowDataLoss, breaches: result.breaches },
      },
    ]);
    expect(evidence.changes).toEqual(['recorded the allowDataLoss decision of cto']);
  });

  it('an allowDataLoss decision is not applied (nor recorded) when nothing is breached', async () => {
    const world = fakeDeps();
    const { result } = await gate(world, sampleRun({ allowDataLoss }), atRisk());
    expect(result.decision).toBe('proceed');
    expect(writeCalls(world)).toEqual([]);
  });

  it('dry run: decides the same, records nothing', async () => {
    const world = fakeDeps();
    const { result } = await gate(
      world,
      dryRun({ allowDataLoss }),
      atRisk({ postgres: { lagBytes: 9000, lagSeconds: 90 } }),
    );
    expect(result.decision).toBe('proceed-with-data-loss');
    expect(writeCalls(world)).toEqual([]);
  });

  it('fails, naming the step, when the drain result is missing from the state', async () => {
    const world = fakeDeps();
    await expect(
      executeStep(evaluateRpoGateStep, { run: sampleRun(), steps: {} }, world.deps, world.clock),
    ).rejects.toThrow("the result of step 'waitForDrain' is missing from the state");
  });
});
