import { checkConsumerLagStep } from '../../../lambdas/check-consumer-lag/logic';
import { evaluateVerificationStep, sev1Findings } from '../../../lambdas/evaluate-verification/logic';
import type { LedgerFinding } from '../../../lambdas/shared/ledger/compare-aggregates';
import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import { dryRun, fakeDeps, sampleRun, writeCalls, type FakeWorld } from './fakes';

describe('check-consumer-lag', () => {
  const check = (world: FakeWorld, run: Run = sampleRun()) =>
    executeStep(checkConsumerLagStep, { run }, world.deps, world.clock);

  it('sums the lag of every group on the target and names groups without committed offsets', async () => {
    const world = fakeDeps();
    world.kafka.consumerLag = [
      { group: 'audit-trail', topic: 'a.orders', lag: 3, partitionsWithoutOffset: 0 },
      { group: 'audit-trail', topic: 'a.fills', lag: 2, partitionsWithoutOffset: 0 },
      { group: 'risk-engine', topic: 'a.fills', lag: 0, partitionsWithoutOffset: 1 },
    ];
    const { evidence, result } = await check(world);
    expect(result).toEqual({ groups: 3, totalLag: 5, groupsWithoutOffsets: ['risk-engine/a.fills'] });
    expect(evidence).toMatchObject({
      action: 'observed',
      changes: [],
      observed: { lag: world.kafka.consumerLag },
    });
    expect(writeCalls(world)).toEqual([]);
  });

  it('no groups: zero lag', async () => {
    const world = fakeDeps();
    expect((await check(world)).result).toEqual({ groups: 0, totalLag: 0, groupsWithoutOffsets: [] });
  });

  it('dry run: only reads', async () => {
    const world = fakeDeps();
    await check(world, dryRun());
    expect(world.kafka.calls.map((c) => c.method)).toEqual(['consumerLagOnTarget']);
    expect(writeCalls(world)).toEqual([]);
  });
});

const sev1Finding: LedgerFinding = {
  table: 'orders',
  key: 'writer w1 seq 4-6',
  expected: '9 acknowledged',
  found: '6 present, 3 missing',
  classification: 'missing-acknowledged-write',
  sev1: true,
};
const benignFinding: LedgerFinding = {
  table: 'orders',
  key: 'seq > 100',
  expected: '100',
  found: '103',
  classification: 'write-after-snapshot',
  sev1: false,
};

function verifiedSteps(
  overrides: { smoke?: unknown; ledger?: unknown; consumers?: unknown } = {},
): Record<string, unknown> {
  return {
    smokeHarness: { result: overrides.smoke ?? { passed: true, signals: 12 } },
    reconcileLedger: { result: overrides.ledger ?? { parity: true, sev1: false, findings: [benignFinding] } },
    consumerLag: { result: overrides.consumers ?? { groups: 2, totalLag: 0, groupsWithoutOffsets: [] } },
  };
}

describe('sev1Findings', () => {
  it('none when the smoke harness passed, the ledger has no SEV-1 finding and consumers reported', () => {
    expect(sev1Findings(verifiedSteps(), false)).toEqual([]);
  });

  it('a failed smoke harness is SEV-1 with its failure', () => {
    expect(
      sev1Findings(
        verifiedSteps({
          smoke: { passed: false, failure: 'expected 12 smoke orders, wrote 11, read back 11' },
        }),
        false,
      ),
    ).toEqual([{ check: 'smoke', detail: 'expected 12 smoke orders, wrote 11, read back 11' }]);
  });

  it('each SEV-1 ledger finding is SEV-1; others are not', () => {
    expect(
      sev1Findings(verifiedSteps({ ledger: { findings: [benignFinding, sev1Finding] } }), false),
    ).toEqual([
      {
        check: 'ledger',
        detail:
          'missing-acknowledged-write: orders writer w1 seq 4-6: expected 9 acknowledged, found 6 present, 3 missing',
      },
    ]);
  });

  it('a verification step that did not report is SEV-1', () => {
    expect(sev1Findings({}, false).map((f) => f.check)).toEqual(['smoke', 'ledger', 'consumers']);
  });

  it('in a dry run the smoke harness places no order, so its result is not judged', () => {
    expect(sev1Findings(verifiedSteps({ smoke: { passed: false } }), true)).toEqual([]);
  });
});

describe('evaluate-verification', () => {
  const evaluate = (world: FakeWorld, steps: Record<string, unknown>, run: Run = sampleRun()) =>
    executeStep(evaluateVerificationStep, { run, steps }, world.deps, world.clock);

  it('passes and records the verification when nothing is SEV-1', async () => {
    const world = fakeDeps();
    const { evidence, result } = await evaluate(world, verifiedSteps());
    expect(result).toEqual({ passed: true, sev1: false, findings: [] });
    expect(evidence.action).toBe('observed');
    expect(world.runRecords.entriesOf('unit-run-1')).toEqual([
      { kind: 'verification', at: '2026-11-27T00:00:10.000Z', data: { findings: [] } },
    ]);
  });

  it('SEV-1 when the smoke harness failed', async () => {
    const world = fakeDeps();
    const { result } = await evaluate(world, verifiedSteps({ smoke: { passed: false, failure: 'boom' } }));
    expect(result).toEqual({ passed: false, sev1: true, findings: [{ check: 'smoke', detail: 'boom' }] });
  });

  it('SEV-1 when the ledger reconciliation found a SEV-1 discrepancy', async () => {
    const world = fakeDeps();
    const { result } = await evaluate(world, verifiedSteps({ ledger: { findings: [sev1Finding] } }));
    expect(result.sev1).toBe(true);
    expect(result.findings.map((f) => f.check)).toEqual(['ledger']);
    expect(world.runRecords.entriesOf('unit-run-1')[0]?.data).toEqual({ findings: result.findings });
  });

  it('dry run: judges the same, records nothing', async () => {
    const world = fakeDeps();
    const { result } = await evaluate(
      world,
      verifiedSteps({ ledger: { findings: [sev1Finding] } }),
      dryRun(),
    );
    expect(result.sev1).toBe(true);
    expect(writeCalls(world)).toEqual([]);
  });
});
