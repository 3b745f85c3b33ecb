import { InvalidInputError } from '../../../lambdas/shared/errors';
import { executeStep } from '../../../lambdas/shared/step';
import { validateInputStep } from '../../../lambdas/validate-input/logic';
import { ALARM, REVERSE_ALARM, SOURCE, TARGET, fakeDeps, mutations, writeCalls } from './fakes';

const execution = {
  id: 'arn:aws:states:us-west-2:000000000000:execution:tradepulse-dr-failover:exec-42',
  name: 'exec-42',
  startTime: '2026-11-27T00:00:00.250Z',
};
const alarmInput = (alarm: Record<string, unknown> = {}) => ({
  trigger: 'alarm',
  mode: 'failover',
  alarm: { name: ALARM, state: 'ALARM', reason: 'Threshold Crossed', ...alarm },
  time: '2026-11-27T00:00:00Z',
});
const cliInput = (overrides: Record<string, unknown> = {}) => ({
  trigger: 'cli',
  mode: 'drill',
  sourceRegion: SOURCE,
  targetRegion: TARGET,
  requestedBy: 'alice',
  ...overrides,
});

async function validate(input: unknown, world = fakeDeps()) {
  return executeStep(validateInputStep, { input, execution }, world.deps, world.clock);
}

/** Runs the step expecting InvalidInputError; returns its message. */
async function rejection(input: unknown, world = fakeDeps()): Promise<string> {
  const err = await validate(input, world).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidInputError);
  expect((err as Error).name).toBe('InvalidInputError');
  return (err as Error).message;
}

describe('validate-input', () => {
  it('turns an alarm into a failover run in the alarm’s direction', async () => {
    const { evidence, result } = await validate(alarmInput());
    expect(result.run).toEqual({
      runId: 'exec-42',
      executionId: execution.id,
      application: 'tradepulse',
      mode: 'failover',
      dryRun: false,
      trigger: { kind: 'alarm', alarmName: ALARM, reason: 'Threshold Crossed' },
      sourceRegion: SOURCE,
      targetRegion: TARGET,
      allowDataLoss: null,
      declaredAt: '2026-11-27T00:00:00.250Z',
    });
    expect(evidence).toMatchObject({ step: 'validate-input', action: 'observed', changes: [] });
    expect(evidence.observed).toEqual({
      trigger: 'alarm',
      mode: 'failover',
      sourceRegion: SOURCE,
      targetRegion: TARGET,
    });
  });

  it('turns a CLI drill into a drill run, carrying who asked and why', async () => {
    const { result } = await validate(cliInput({ reason: 'quarterly drill' }));
    expect(result.run).toMatchObject({
      mode: 'drill',
      dryRun: false,
      trigger: { kind: 'cli', requestedBy: 'alice', reason: 'quarterly drill' },
      sourceRegion: SOURCE,
      targetRegion: TARGET,
    });
  });

  it('marks a dryRun mode run as a dry run', async () => {
    const { result } = await validate(cliInput({ trigger: 'console', mode: 'dryRun' }));
    expect(result.run).toMatchObject({ mode: 'dryRun', dryRun: true, trigger: { kind: 'console' } });
  });

  it('carries an explicit allowDataLoss decision into the run', async () => {
    const allowDataLoss = { approvedBy: 'cto', reason: 'the primary region is gone for good' };
    const { result } = await validate({ ...alarmInput(), allowDataLoss });
    expect(result.run.allowDataLoss).toEqual(allowDataLoss);
  });

  it('is deterministic: the same execution validates to the same run, and nothing is touched', async () => {
    const world = fakeDeps();
    const first = await validate(alarmInput(), world);
    const second = await validate(alarmInput(), world);
    expect(second.result).toEqual(first.result);
    expect(mutations(world)).toEqual([]);
    expect(writeCalls(world)).toEqual([]);
  });

  describe('rejects bad input with a message naming the field, before any lock or mutation', () => {
    it('malformed input: a missing required field', async () => {
      const world = fakeDeps();
      const { requestedBy: _omitted, ...input } = cliInput();
      expect(await rejection(input, world)).toMatch(/requestedBy/);
      expect(writeCalls(world)).toEqual([]);
    });

    it('malformed input: a region that is not a region name', async () => {
      expect(await rejection(cliInput({ sourceRegion: 'primary' }))).toMatch(
        /sourceRegion: must be an AWS region name/,
      );
    });

    it('malformed input: an unknown trigger', async () => {
      expect(await rejection({ ...cliInput(), trigger: 'webhook' })).toMatch(/trigger/);
    });

    it('malformed input: an allowDataLoss decision without a reason', async () => {
      expect(
        await rejection({ ...alarmInput(), allowDataLoss: { approvedBy: 'cto', reason: 'ok' } }),
      ).toMatch(/allowDataLoss\.reason/);
    });

    it('malformed event: no execution context', async () => {
      const world = fakeDeps();
      const err = await executeStep(validateInputStep, { input: cliInput() }, world.deps, world.clock).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as Error).message).toMatch(/execution/);
    });

    it('an alarm that is not a configured failover alarm', async () => {
      const message = await rejection(alarmInput({ name: 'some-other-alarm' }));
      expect(message).toMatch(/^alarm\.name: 'some-other-alarm' is not a configured failover alarm/);
      expect(message).toContain(ALARM);
    });

    it('an alarm in state OK', async () => {
      expect(await rejection(alarmInput({ state: 'OK' }))).toMatch(/^alarm\.state: .*got 'OK'/);
    });

    it('an unknown source region', async () => {
      expect(await rejection(cliInput({ sourceRegion: 'eu-west-1' }))).toMatch(
        /^sourceRegion: region 'eu-west-1' is not in the topology/,
      );
    });

    it('an unknown target region', async () => {
      expect(await rejection(cliInput({ targetRegion: 'ap-south-1' }))).toMatch(
        /^targetRegion: region 'ap-south-1' is not in the topology/,
      );
    });

    it('the same source and target region', async () => {
      expect(await rejection(cliInput({ sourceRegion: TARGET }))).toBe(
        'targetRegion: must differ from sourceRegion',
      );
    });

    it('a target region other than the orchestrator’s own (static stability)', async () => {
      const message = await rejection(cliInput({ sourceRegion: TARGET, targetRegion: SOURCE }));
      expect(message).toMatch(
        /^targetRegion: this orchestrator runs in us-west-2; a failover into us-east-1 must be started by the orchestrator deployed there/,
      );
    });

    it('an alarm configured for the other direction, received by this orchestrator', async () => {
      expect(await rejection(alarmInput({ name: REVERSE_ALARM }))).toMatch(
        /^targetRegion: this orchestrator runs in us-west-2/,
      );
    });

    it('the same alarm is accepted by the orchestrator of its target region', async () => {
      const world = fakeDeps({ region: SOURCE });
      const { result } = await validate(alarmInput({ name: REVERSE_ALARM }), world);
      expect(result.run).toMatchObject({ sourceRegion: TARGET, targetRegion: SOURCE });
    });
  });
});
