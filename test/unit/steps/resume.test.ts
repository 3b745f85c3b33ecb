import { recheckBeforeResumeStep } from '../../../lambdas/recheck-before-resume/logic';
import { requestApprovalStep } from '../../../lambdas/request-approval/logic';
import { resumeTradingStep } from '../../../lambdas/resume-trading/logic';
import { ResumeRecheckFailedError } from '../../../lambdas/shared/errors';
import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import { SOURCE, TARGET, failedOver, fakeDeps, mutations, sampleRun, type FakeWorld } from './fakes';

describe('request-approval', () => {
  const evidence = { verification: { passed: true, sev1: false, findings: [] }, smoke: { passed: true } };
  const request = (world: FakeWorld, taskToken = 'token-1', run: Run = sampleRun()) =>
    executeStep(requestApprovalStep, { run, taskToken, evidence }, world.deps, world.clock);

  it('sends the approvers the verification evidence and the task token to answer with, and records it', async () => {
    const world = fakeDeps();
    const { evidence: ev, result } = await request(world);
    expect(world.notifier.sent).toHaveLength(1);
    const message = world.notifier.sent[0]!;
    expect(message).toMatchObject({
      template: 'approval-requested',
      severity: 'warning',
      dedupeKey: expect.stringMatching(/^unit-run-1#approval-requested#[0-9a-f]{16}$/),
    });
    expect(message.subject).toBe(`[DR DRILL] tradepulse: approval needed to resume trading in ${TARGET}`);
    expect(message.body).toContain('"taskToken": "token-1"');
    expect(message.body).toContain('"sev1": false');
    expect(result).toEqual({ messageId: 'msg-1' });
    expect(ev).toMatchObject({
      action: 'changed',
      changes: ['asked the approvers to approve or reject resumption of trading'],
    });
    expect(world.runRecords.entriesOf('unit-run-1')).toEqual([
      { kind: 'approval.requested', at: '2026-11-27T00:00:10.000Z', data: { messageId: 'msg-1' } },
    ]);
  });

  it('is idempotent for the same task token: the approvers are not asked twice', async () => {
    const world = fakeDeps();
    await request(world);
    const second = await request(world);
    expect(second.evidence.action).toBe('no-op');
    expect(second.result).toEqual({ messageId: 'msg-1' });
    expect(world.notifier.sent).toHaveLength(1);
  });

  it('rejects an empty task token, naming the field', async () => {
    const world = fakeDeps();
    await expect(request(world, '')).rejects.toThrow(/taskToken/);
    expect(world.notifier.calls).toEqual([]);
  });
});

describe('recheck-before-resume', () => {
  const recheck = (world: FakeWorld, run: Run = sampleRun()) =>
    executeStep(recheckBeforeResumeStep, { run }, world.deps, world.clock);

  function approvedWorld(): FakeWorld {
    const world = fakeDeps();
    failedOver(world);
    return world;
  }

  async function drift(world: FakeWorld): Promise<string> {
    const err = await recheck(world).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResumeRecheckFailedError);
    expect((err as Error).name).toBe('ResumeRecheckFailedError');
    return (err as Error).message;
  }

  it('passes when nothing changed since approval, and changes nothing', async () => {
    const world = approvedWorld();
    const { evidence, result } = await recheck(world);
    expect(result).toEqual({ unchanged: true });
    expect(evidence.action).toBe('observed');
    expect(mutations(world)).toEqual([]);
  });

  it('passes with the old primary unreachable', async () => {
    const world = approvedWorld();
    world.postgres[SOURCE]!.state.reachable = false;
    await expect(recheck(world)).resolves.toMatchObject({ result: { unchanged: true } });
  });

  it('the new primary went read-only', async () => {
    const world = approvedWorld();
    world.postgres[TARGET]!.state.readOnly = true;
    expect(await drift(world)).toBe(`PostgreSQL in ${TARGET} is no longer a writable primary`);
  });

  it('the new primary is a standby again', async () => {
    const world = approvedWorld();
    world.postgres[TARGET]!.state.role = 'standby';
    expect(await drift(world)).toBe(`PostgreSQL in ${TARGET} is no longer a writable primary`);
  });

  it('the old primary accepts writes again', async () => {
    const world = approvedWorld();
    world.postgres[SOURCE]!.state.readOnly = false;
    expect(await drift(world)).toBe(`the old primary in ${SOURCE} accepts writes again`);
  });

  it('an endpoint routes elsewhere', async () => {
    const world = approvedWorld();
    world.router.active.api = SOURCE;
    world.router.active.redis = null;
    expect(await drift(world)).toBe(`api routes to ${SOURCE}; redis routes to nowhere`);
  });

  it('someone turned ACCEPT_NEW_ORDERS on', async () => {
    const world = approvedWorld();
    world.flags[TARGET]!.state.acceptNewOrders = true;
    expect(await drift(world)).toBe('ACCEPT_NEW_ORDERS was turned on by someone else');
  });

  it('the lock was lost', async () => {
    const world = approvedWorld();
    world.lock.leases.clear();
    expect(await drift(world)).toBe('this run no longer holds the lock (holder: none)');
  });

  it('the lock is held by another run', async () => {
    const world = approvedWorld();
    world.lock.leases.set('tradepulse', {
      application: 'tradepulse',
      owner: 'arn:other',
      runId: 'other-run',
      acquiredAt: '2026-11-27T00:00:00.000Z',
      expiresAt: '2026-11-27T02:00:00.000Z',
    });
    expect(await drift(world)).toBe('this run no longer holds the lock (holder: other-run)');
  });

  it('reports every drift at once, with what it observed', async () => {
    const world = approvedWorld();
    world.flags[TARGET]!.state.acceptNewOrders = true;
    world.postgres[SOURCE]!.state.readOnly = false;
    const err = (await recheck(world).catch((e: unknown) => e)) as ResumeRecheckFailedError;
    expect(err.message.split('; ')).toHaveLength(2);
    expect(err.details).toMatchObject({ flags: { acceptNewOrders: true }, oldPrimary: { readOnly: false } });
  });
});

describe('resume-trading', () => {
  const resume = (world: FakeWorld, run: Run = sampleRun()) =>
    executeStep(resumeTradingStep, { run }, world.deps, world.clock);

  it('lifts the order-gateway freeze in the target region and starts heightened monitoring', async () => {
    const world = fakeDeps();
    failedOver(world);
    const { evidence, result } = await resume(world);
    expect(world.flags[TARGET]!.callsTo('set')).toEqual([
      [{ acceptNewOrders: true, strategyActivation: 'enabled' }],
    ]);
    expect(world.flags[TARGET]!.state).toMatchObject({
      acceptNewOrders: true,
      strategyActivation: 'enabled',
      deploymentFreeze: true,
    });
    expect(result).toEqual({
      resumedAt: '2026-11-27T00:00:10.000Z',
      heightenedMonitoringUntil: '2026-11-27T02:00:10.000Z',
    });
    expect(world.events.published).toEqual([
      {
        detailType: 'TradingResumed',
        detail: {
          runId: 'unit-run-1',
          application: 'tradepulse',
          region: TARGET,
          heightenedMonitoringUntil: '2026-11-27T02:00:10.000Z',
        },
      },
    ]);
    expect(world.runRecords.entriesOf('unit-run-1')).toEqual([
      {
        kind: 'trading.resumed',
        at: '2026-11-27T00:00:10.000Z',
        data: { heightenedMonitoringUntil: '2026-11-27T02:00:10.000Z' },
      },
    ]);
    expect(evidence).toMatchObject({
      action: 'changed',
      changes: [
        `lifted the order-gateway freeze in ${TARGET}`,
        'heightened monitoring until 2026-11-27T02:00:10.000Z',
      ],
    });
  });

  it('resumes nothing in the old region', async () => {
    const world = fakeDeps();
    failedOver(world);
    await resume(world);
    expect(world.flags[SOURCE]!.calls).toEqual([]);
    expect(world.flags[SOURCE]!.state.acceptNewOrders).toBe(false);
  });

  it('is idempotent: a second run is a no-op with no second event or record', async () => {
    const world = fakeDeps();
    failedOver(world);
    await resume(world);
    const before = mutations(world);
    const second = await resume(world);
    expect(second.evidence.action).toBe('no-op');
    expect(second.evidence.changes).toEqual([]);
    expect(mutations(world)).toEqual(before);
  });
});
