import { createHash } from 'node:crypto';
import { recordFailureStep } from '../../../lambdas/record-failure/logic';
import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import { writeEvidenceBundleStep } from '../../../lambdas/write-evidence-bundle/logic';
import { SOURCE, TARGET, dryRun, failedOver, fakeDeps, sampleRun, writeCalls, type FakeWorld } from './fakes';

describe('record-failure', () => {
  const record = (world: FakeWorld, input: Record<string, unknown>, run: Run = sampleRun()) =>
    executeStep(recordFailureStep, { run, ...input }, world.deps, world.clock);

  const lambdaCatch = {
    Error: 'PromotionFailedError',
    Cause: JSON.stringify({
      errorType: 'PromotionFailedError',
      errorMessage: 'PostgreSQL in us-west-2 is not a writable primary after promotion',
      trace: [],
    }),
  };

  it('parses Lambda’s JSON Cause into the error message and records the outcome', async () => {
    const world = fakeDeps();
    failedOver(world);
    const { result } = await record(world, { outcome: 'failed', failure: lambdaCatch });
    const error = {
      error: 'PromotionFailedError',
      message: 'PostgreSQL in us-west-2 is not a writable primary after promotion',
    };
    expect(result).toEqual({ outcome: 'failed', error });
    expect(world.runRecords.entriesOf('unit-run-1')).toEqual([
      { kind: 'outcome.failed', at: '2026-11-27T00:00:10.000Z', data: { error } },
    ]);
    expect(world.runRecords.callsTo('close')).toEqual([['unit-run-1', 'failed']]);
  });

  it('keeps a Cause that is not JSON as it is', async () => {
    const world = fakeDeps();
    const { result } = await record(world, {
      outcome: 'rejected',
      failure: { Error: 'ApprovalRejected', Cause: 'the ledger looks wrong' },
    });
    expect(result.error).toEqual({ error: 'ApprovalRejected', message: 'the ledger looks wrong' });
  });

  it('keeps a JSON Cause without errorMessage as it is', async () => {
    const world = fakeDeps();
    const cause = JSON.stringify({ detail: 'x' });
    const { result } = await record(world, {
      outcome: 'failed',
      failure: { Error: 'States.Runtime', Cause: cause },
    });
    expect(result.error).toEqual({ error: 'States.Runtime', message: cause });
  });

  it('an outcome without a failure (RPO gate stop) records no error', async () => {
    const world = fakeDeps();
    const { result } = await record(world, { outcome: 'stopped-rpo-gate', failure: null });
    expect(result).toEqual({ outcome: 'stopped-rpo-gate', error: null });
    expect(world.runRecords.entriesOf('unit-run-1', 'outcome.stopped-rpo-gate')).toHaveLength(1);
  });

  it('keeps trading frozen in the target region when something had turned it on', async () => {
    const world = fakeDeps();
    failedOver(world);
    world.flags[TARGET]!.state.acceptNewOrders = true;
    const { evidence } = await record(world, { outcome: 'failed', failure: lambdaCatch });
    expect(world.flags[TARGET]!.state).toMatchObject({
      acceptNewOrders: false,
      strategyActivation: 'disabled',
    });
    expect(evidence).toMatchObject({
      action: 'changed',
      changes: [`kept trading frozen in ${TARGET} (acceptNewOrders)`],
    });
    expect(world.flags[SOURCE]!.calls).toEqual([]);
  });

  it('trading already frozen: no flag change, action no-op', async () => {
    const world = fakeDeps();
    failedOver(world);
    const { evidence } = await record(world, { outcome: 'verification-failed' });
    expect(evidence.action).toBe('no-op');
    expect(world.flags[TARGET]!.mutations).toEqual([]);
  });

  it('rejects an unknown outcome, naming the field', async () => {
    const world = fakeDeps();
    await expect(record(world, { outcome: 'exploded' })).rejects.toThrow(/outcome/);
    expect(writeCalls(world)).toEqual([]);
  });

  it('dry run: changes no flag and records nothing', async () => {
    const world = fakeDeps();
    const { evidence, result } = await record(world, { outcome: 'failed', failure: lambdaCatch }, dryRun());
    expect(evidence.action).toBe('dry-run');
    expect(result.error?.message).toBe('PostgreSQL in us-west-2 is not a writable primary after promotion');
    expect(writeCalls(world)).toEqual([]);
  });
});

describe('write-evidence-bundle', () => {
  const steps = {
    acquireLock: { evidence: { step: 'acquire-lock', action: 'changed' }, result: { holder: null } },
  };
  const write = (world: FakeWorld, run: Run = sampleRun(), outcome = 'resumed') =>
    executeStep(writeEvidenceBundleStep, { run, outcome, steps }, world.deps, world.clock);
  const KEY = 'disaster-recovery/unit-run-1/evidence-bundle.json';

  it('archives the run, its outcome and every step’s evidence, then records and closes the run', async () => {
    const world = fakeDeps();
    const { evidence, result } = await write(world);
    const versions = world.evidence.objects.get(KEY)!;
    expect(versions).toHaveLength(1);
    const stored = versions[0]!;
    expect(stored.contentType).toBe('application/json');
    expect(JSON.parse(stored.body)).toEqual({
      run: sampleRun(),
      outcome: 'resumed',
      steps,
    });
    expect(result).toMatchObject({
      key: KEY,
      sha256: createHash('sha256').update(stored.body).digest('hex'),
    });
    expect(world.runRecords.entriesOf('unit-run-1')).toEqual([
      { kind: 'evidence.archived', at: '2026-11-27T00:00:10.000Z', data: result },
    ]);
    expect(world.runRecords.callsTo('close')).toEqual([['unit-run-1', 'resumed']]);
    expect(evidence).toMatchObject({
      action: 'changed',
      changes: [`archived the evidence bundle as ${KEY} (sha256 ${result.sha256})`],
    });
  });

  it('a re-drive writes the same bytes under the same key: no second locked version, a recorded no-op', async () => {
    const world = fakeDeps();
    await write(world);
    world.clock.advance(5_000);
    const second = await write(world);
    expect([...world.evidence.objects.keys()]).toEqual([KEY]);
    expect(world.evidence.objects.get(KEY)).toHaveLength(1);
    expect(second.evidence.action).toBe('no-op');
    expect(world.runRecords.callsTo('close')).toHaveLength(1);
  });

  it('dry run: archives the dry run’s evidence (its report) but touches no run record', async () => {
    const world = fakeDeps();
    await write(world, dryRun(), 'dry-run-complete');
    expect(JSON.parse(world.evidence.objects.get(KEY)![0]!.body)).toMatchObject({
      outcome: 'dry-run-complete',
      run: { dryRun: true },
    });
    expect(writeCalls(world)).toEqual(['evidence.put']);
  });
});
