import { freezeDeploymentsStep } from '../../../lambdas/freeze-deployments/logic';
import { notifyStep } from '../../../lambdas/notify/logic';
import { openRunRecordStep } from '../../../lambdas/open-run-record/logic';
import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import { SOURCE, TARGET, dryRun, fakeDeps, mutations, sampleRun, writeCalls, type FakeWorld } from './fakes';

const allowDataLoss = { approvedBy: 'cto', reason: 'the primary region is gone for good' };

describe('open-run-record', () => {
  const open = (world: FakeWorld, run: Run = sampleRun()) =>
    executeStep(openRunRecordStep, { run }, world.deps, world.clock);

  it('opens the run record with the run’s mode and the run itself', async () => {
    const world = fakeDeps();
    const { evidence, result } = await open(world);
    expect(world.runRecords.headers.get('unit-run-1')).toEqual({
      runId: 'unit-run-1',
      application: 'tradepulse',
      mode: 'drill',
      run: sampleRun(),
      outcomes: [],
    });
    expect(evidence).toMatchObject({ action: 'changed', changes: ['opened run record unit-run-1'] });
    expect(result).toEqual({ runId: 'unit-run-1' });
  });

  it('records an allowDataLoss decision the run was started with', async () => {
    const world = fakeDeps();
    await open(world, sampleRun({ allowDataLoss }));
    expect(world.runRecords.entriesOf('unit-run-1')).toEqual([
      { kind: 'decision.allowDataLoss.requested', at: '2026-11-27T00:00:00.000Z', data: allowDataLoss },
    ]);
  });

  it('is idempotent: a second open is a no-op and does not record the decision twice', async () => {
    const world = fakeDeps();
    const run = sampleRun({ allowDataLoss });
    await open(world, run);
    const before = mutations(world);
    const second = await open(world, run);
    expect(second.evidence.action).toBe('no-op');
    expect(second.evidence.changes).toEqual([]);
    expect(mutations(world)).toEqual(before);
    expect(world.runRecords.entriesOf('unit-run-1')).toHaveLength(1);
  });

  it('dry run: opens nothing', async () => {
    const world = fakeDeps();
    const { evidence } = await open(world, dryRun({ allowDataLoss }));
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes).toEqual(['would open run record unit-run-1']);
    expect(writeCalls(world)).toEqual([]);
  });
});

describe('notify', () => {
  const notify = (
    world: FakeWorld,
    run: Run,
    template = 'incident-declared',
    details?: Record<string, unknown>,
  ) => executeStep(notifyStep, { run, template, ...(details ? { details } : {}) }, world.deps, world.clock);

  it('sends the rendered template with dedupe key runId#template', async () => {
    const world = fakeDeps();
    const run = sampleRun({ mode: 'failover', trigger: { kind: 'alarm', alarmName: 'primary-down' } });
    const { evidence, result } = await notify(world, run, 'incident-declared', { note: 'from the alarm' });
    expect(world.notifier.sent).toHaveLength(1);
    const message = world.notifier.sent[0]!;
    expect(message).toMatchObject({
      template: 'incident-declared',
      severity: 'sev1',
      dedupeKey: 'unit-run-1#incident-declared',
      attributes: { runId: 'unit-run-1', mode: 'failover' },
    });
    expect(message.subject).toBe(
      `[SEV-1 FAILOVER] tradepulse: disaster recovery declared, ${SOURCE} → ${TARGET}`,
    );
    expect(message.body).toContain('"note": "from the alarm"');
    expect(evidence).toMatchObject({ action: 'changed', changes: [`sent '${message.subject}' (sev1)`] });
    expect(result).toEqual({ template: 'incident-declared', subject: message.subject, messageId: 'msg-1' });
  });

  it('is idempotent: the same template for the same run is not sent twice', async () => {
    const world = fakeDeps();
    await notify(world, sampleRun());
    const second = await notify(world, sampleRun());
    expect(second.evidence.action).toBe('no-op');
    expect(second.result.messageId).toBe('msg-1');
    expect(world.notifier.sent).toHaveLength(1);
  });

  it('a different template of the same run is sent', async () => {
    const world = fakeDeps();
    await notify(world, sampleRun());
    await notify(world, sampleRun(), 'run-failed');
    expect(world.notifier.sent.map((m) => m.dedupeKey)).toEqual([
      'unit-run-1#incident-declared',
      'unit-run-1#run-failed',
    ]);
  });

  it('dry run: sends nothing and says what it would send', async () => {
    const world = fakeDeps();
    const { evidence, result } = await notify(world, dryRun());
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes).toEqual([
      `would send '[DR DRY RUN] tradepulse: disaster recovery declared, ${SOURCE} → ${TARGET}'`,
    ]);
    expect(result.messageId).toBeNull();
    expect(writeCalls(world)).toEqual([]);
    expect(world.notifier.sent).toEqual([]);
  });

  it('rejects an unknown template, naming the field', async () => {
    const world = fakeDeps();
    await expect(notify(world, sampleRun(), 'all-good')).rejects.toThrow(/template/);
    expect(writeCalls(world)).toEqual([]);
  });
});

describe('freeze-deployments', () => {
  const freeze = (world: FakeWorld, run: Run = sampleRun()) =>
    executeStep(freezeDeploymentsStep, { run }, world.deps, world.clock);

  it('sets the target region’s deployment freeze flag and publishes DeploymentsFrozen', async () => {
    const world = fakeDeps();
    const { evidence, result } = await freeze(world);
    expect(world.flags[TARGET]!.state.deploymentFreeze).toBe(true);
    expect(world.flags[TARGET]!.callsTo('set')).toEqual([[{ deploymentFreeze: true }]]);
    expect(world.events.published).toEqual([
      {
        detailType: 'DeploymentsFrozen',
        detail: { runId: 'unit-run-1', application: 'tradepulse', reason: 'DR drill' },
      },
    ]);
    expect(evidence).toMatchObject({
      action: 'changed',
      observed: { deploymentFreeze: false },
      changes: ['set the deployment freeze flag', 'published DeploymentsFrozen'],
    });
    expect(result).toEqual({ frozen: true });
  });

  it('touches nothing in the source region (static stability)', async () => {
    const world = fakeDeps();
    await freeze(world);
    expect(world.flags[SOURCE]!.calls).toEqual([]);
  });

  it('is idempotent: a second run is a no-op with no second event', async () => {
    const world = fakeDeps();
    await freeze(world);
    const before = mutations(world);
    const second = await freeze(world);
    expect(second.evidence.action).toBe('no-op');
    expect(second.evidence.changes).toEqual([]);
    expect(mutations(world)).toEqual(before);
    expect(world.events.published).toHaveLength(1);
  });

  it('observes before acting: already frozen → no-op, no flag change, no event', async () => {
    const world = fakeDeps();
    world.flags[TARGET]!.state.deploymentFreeze = true;
    const { evidence } = await freeze(world);
    expect(evidence.action).toBe('no-op');
    expect(evidence.observed).toEqual({ deploymentFreeze: true });
    expect(mutations(world)).toEqual([]);
    expect(world.events.calls).toEqual([]);
  });

  it('dry run: sets no flag and publishes nothing', async () => {
    const world = fakeDeps();
    const { evidence, result } = await freeze(world, dryRun());
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes).toEqual(['would set the deployment freeze flag and publish DeploymentsFrozen']);
    expect(result).toEqual({ frozen: false });
    expect(writeCalls(world)).toEqual([]);
    expect(world.flags[TARGET]!.state.deploymentFreeze).toBe(false);
  });
});
