import { STEP_FUNCTIONS } from '../../lambdas/registry';
import { loadWorkflow, taskStates } from '../../local-runner/definition';
import { namedError, run, runFailoverWithStubs } from './stub-steps';

describe('failover.asl.json under aws-local-stepfunctions with stub steps', () => {
  test('every Task state runs a registered Lambda step, has a timeout, retries Lambda service errors and catches', () => {
    const { definition, stepOfTask } = loadWorkflow('failover', 'us-west-2');
    for (const [name, state] of taskStates(definition)) {
      expect([name, STEP_FUNCTIONS[stepOfTask.get(name) as keyof typeof STEP_FUNCTIONS]]).not.toContainEqual(
        undefined,
      );
      expect([name, state.TimeoutSeconds ?? state.TimeoutSecondsPath]).not.toContainEqual(undefined);
      const retried = (state.Retry as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);
      expect(retried).toContain('Lambda.ServiceException');
      const insideParallel = !definition.States[name];
      const isLastResort = [
        'ReleaseLock',
        'ReleaseLockAfterRpoGate',
        'ReleaseLockAfterVerification',
        'ReleaseLockAfterRejection',
        'ReleaseLockAfterTimeout',
      ].includes(name);
      if (!insideParallel && !isLastResort) expect([name, state.Catch]).not.toContainEqual(undefined);
    }
  });

  test('the happy path declares, stabilises, promotes, repoints, verifies, waits for approval and resumes', async () => {
    const result = await runFailoverWithStubs();
    expect(result.status).toBe('SUCCEEDED');
    const order = [
      'ValidateInput',
      'AcquireLock',
      'OpenRunRecord',
      'NotifyDeclared',
      'FreezeDeployments',
      'CheckTargetHealth',
      'CaptureDataAtRisk',
      'QuiesceTrading',
      'WaitForDrain',
      'EvaluateRpoGate',
      'FenceOldPrimary',
      'PromoteStores',
      'CutoverTraffic',
      'WaitForDnsSync',
      'AnnounceRegion',
      'RunSmokeHarness',
      'ReconcileLedger',
      'CheckConsumerLag',
      'EvaluateVerification',
      'RequestApproval',
      'RecheckBeforeResume',
      'ResumeTrading',
      'NotifyResumed',
      'WriteEvidenceBundle',
      'ReleaseLock',
    ];
    const topLevel = result.visited.filter((s) => order.includes(s));
    expect(topLevel).toEqual(order);
    expect(result.called('PromotePostgres')).toHaveLength(1);
    expect(result.called('PromoteKafka')).toHaveLength(1);
    expect(result.called('PromoteRedis')).toHaveLength(1);
    expect(result.called('Notify').map((e) => e.template)).toEqual(['incident-declared', 'trading-resumed']);
    const approval = result.called('RequestApproval')[0]!;
    expect(approval.taskToken).toBe('wf-test:approval');
    expect(approval.evidence).toMatchObject({ verification: { sev1: false } });
    expect(result.called('WaitForDnsSync')[0]).toMatchObject({ changeId: 'C123' });
    expect(result.called('ReleaseLock')).toHaveLength(1);
    expect(result.called('RecordFailure')).toHaveLength(0);
  });

  test('invalid input fails in ValidateInput before any lock or mutation', async () => {
    const result = await runFailoverWithStubs({
      ValidateInput: () => {
        throw namedError('InvalidInputError', 'sourceRegion: unknown');
      },
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('InvalidInputError');
    expect(result.calls.map(([s]) => s)).toEqual(['ValidateInput']);
  });

  test('a second trigger is refused by the lock and does not release the holder’s lock', async () => {
    const result = await runFailoverWithStubs({
      AcquireLock: () => {
        throw namedError('LockHeldError', 'held by run other');
      },
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('LockHeldError');
    expect(result.called('ReleaseLock')).toHaveLength(0);
    expect(result.called('OpenRunRecord')).toHaveLength(0);
  });

  test.each(['TransientError', 'Lambda.ServiceException', 'Lambda.TooManyRequestsException'])(
    'a %s is retried and the run goes on',
    async (error) => {
      const result = await runFailoverWithStubs({
        CheckTargetHealth: (_e, call) => {
          if (call === 1) throw namedError(error);
          return { evidence: {}, result: {} };
        },
      });
      expect(result.status).toBe('SUCCEEDED');
      expect(result.called('CheckTargetHealth')).toHaveLength(2);
      expect(result.timeline.find((t) => t.state === 'CheckTargetHealth')?.retries).toBe(1);
    },
  );

  test('a failing step goes to the failure path: trading stays frozen, the failure is recorded and notified, the lock released', async () => {
    const result = await runFailoverWithStubs({
      FenceOldPrimary: () => {
        throw namedError('FencingFailedError', 'old primary still writable');
      },
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('FailoverFailed');
    expect(result.called('RecordFailure')[0]).toMatchObject({
      outcome: 'failed',
      failure: { Error: 'FencingFailedError' },
    });
    expect(result.called('Notify').map((e) => e.template)).toContain('run-failed');
    expect(result.called('ReleaseLock')).toHaveLength(1);
    expect(result.called('PromotePostgres')).toHaveLength(0);
    expect(result.failedState).toBe('FenceOldPrimary');
  });

  test('the failure path still releases the lock when recording the failure itself fails', async () => {
    const result = await runFailoverWithStubs({
      CheckTargetHealth: () => {
        throw namedError('TargetUnhealthyError');
      },
      RecordFailure: () => {
        throw namedError('Error', 'run record unavailable');
      },
      Notify: (e) => {
        if (e.template === 'run-failed') throw namedError('Error', 'sns down');
        return { evidence: {}, result: {} };
      },
    });
    expect(result.status).toBe('FAILED');
    expect(result.called('ReleaseLock')).toHaveLength(1);
  });

  test('a step exhausting its retries ends on the failure path', async () => {
    const result = await runFailoverWithStubs({
      QuiesceTrading: () => {
        throw namedError('TransientError');
      },
    });
    expect(result.called('QuiesceTrading')).toHaveLength(4);
    expect(result.called('RecordFailure')).toHaveLength(1);
    expect(result.error).toBe('FailoverFailed');
  });

  test('the RPO gate stops before promotion without allowDataLoss', async () => {
    const result = await runFailoverWithStubs({
      EvaluateRpoGate: () => ({
        evidence: {},
        result: { decision: 'stop', breaches: [{ store: 'postgres' }] },
      }),
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('RpoObjectiveExceeded');
    expect(result.called('FenceOldPrimary')).toHaveLength(0);
    expect(result.called('PromotePostgres')).toHaveLength(0);
    expect(result.called('Notify').map((e) => e.template)).toContain('rpo-gate-stopped');
    expect(result.called('RecordFailure')[0]).toMatchObject({ outcome: 'stopped-rpo-gate' });
    expect(result.called('ReleaseLock')).toHaveLength(1);
  });

  test('the RPO gate lets a recorded allowDataLoss decision through to promotion', async () => {
    const result = await runFailoverWithStubs({
      EvaluateRpoGate: () => ({
        evidence: {},
        result: { decision: 'proceed-with-data-loss', breaches: [{ store: 'postgres' }] },
      }),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.called('PromotePostgres')).toHaveLength(1);
  });

  test('PromotePostgres waits for WAL replay by retrying NotReadyYetError', async () => {
    const result = await runFailoverWithStubs({
      PromotePostgres: (_e, call) => {
        if (call < 4) throw namedError('NotReadyYetError');
        return { evidence: {}, result: {} };
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.called('PromotePostgres')).toHaveLength(4);
  });

  test('a promotion branch failing fails the Parallel state onto the failure path', async () => {
    const result = await runFailoverWithStubs({
      PromoteKafka: () => {
        throw namedError('PromotionFailedError', 'ISR below min.insync.replicas');
      },
    });
    expect(result.status).toBe('FAILED');
    expect(result.called('RecordFailure')[0]).toMatchObject({ failure: { Error: 'PromotionFailedError' } });
    expect(result.called('CutoverTraffic')).toHaveLength(0);
    expect(result.failedState).toBe('PromoteStores');
  });

  test('WaitForDnsSync polls until the change is INSYNC', async () => {
    const result = await runFailoverWithStubs({
      WaitForDnsSync: (_e, call) => {
        if (call < 3) throw namedError('NotReadyYetError');
        return { evidence: {}, result: {} };
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.called('WaitForDnsSync')).toHaveLength(3);
  });

  test('a SEV-1 verification finding blocks resumption: no approval is requested', async () => {
    const result = await runFailoverWithStubs({
      EvaluateVerification: () => ({
        evidence: {},
        result: { passed: false, sev1: true, findings: [{ check: 'ledger' }] },
      }),
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('VerificationFailedError');
    expect(result.called('RequestApproval')).toHaveLength(0);
    expect(result.called('ResumeTrading')).toHaveLength(0);
    expect(result.called('Notify').map((e) => e.template)).toContain('verification-failed');
    expect(result.called('ReleaseLock')).toHaveLength(1);
  });

  test('a dry run goes through every check, skips the approval, and archives its evidence', async () => {
    const dry = { ...run, mode: 'dryRun', dryRun: true };
    const result = await runFailoverWithStubs({
      ValidateInput: () => ({ evidence: {}, result: { run: dry } }),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.called('RequestApproval')).toHaveLength(0);
    expect(result.called('ResumeTrading')).toHaveLength(0);
    expect(result.called('WriteEvidenceBundle')[0]).toMatchObject({ outcome: 'dry-run-complete' });
    for (const step of ['FenceOldPrimary', 'PromotePostgres', 'CutoverTraffic']) {
      expect(result.called(step)[0]).toMatchObject({ run: { dryRun: true } });
    }
  });

  test('an approval rejected by task token leaves trading frozen and releases the lock', async () => {
    const result = await runFailoverWithStubs(
      {},
      { answer: (b, t) => b.sendTaskFailure(t, 'ApprovalRejected', 'ledger looks odd') },
    );
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ApprovalRejected');
    expect(result.called('ResumeTrading')).toHaveLength(0);
    expect(result.called('RecordFailure')[0]).toMatchObject({
      outcome: 'rejected',
      failure: { Error: 'ApprovalRejected' },
    });
    expect(result.called('Notify').map((e) => e.template)).toContain('approval-rejected');
    expect(result.called('ReleaseLock')).toHaveLength(1);
  });

  test('no approval before TimeoutSeconds: trading stays frozen and the incident escalates', async () => {
    const result = await runFailoverWithStubs(
      {},
      { answer: () => {}, approvalTimeouts: { timeoutSeconds: 1 } },
    );
    expect(result.error).toBe('ApprovalTimedOut');
    expect(result.called('Notify').map((e) => e.template)).toContain('approval-timed-out');
    expect(result.called('RecordFailure')[0]).toMatchObject({ outcome: 'approval-timeout' });
    expect(result.called('ResumeTrading')).toHaveLength(0);
  });

  test('no heartbeat within HeartbeatSeconds is handled like a timeout', async () => {
    const result = await runFailoverWithStubs(
      {},
      { answer: () => {}, approvalTimeouts: { heartbeatSeconds: 1 } },
    );
    expect(result.error).toBe('ApprovalTimedOut');
    expect(result.called('RecordFailure')[0]).toMatchObject({
      outcome: 'approval-timeout',
      failure: { Error: 'States.HeartbeatTimeout' },
    });
  });

  test('a re-drive from the failed state runs only that state and those after it', async () => {
    const first = await runFailoverWithStubs({
      PromoteRedis: () => {
        throw namedError('Error', 'crashed mid-way');
      },
    });
    expect(first.failedState).toBe('PromoteStores');
    const redrive = await runFailoverWithStubs(
      {},
      { redrive: { fromState: 'PromoteStores', input: first.stateInputs.PromoteStores } },
    );
    expect(redrive.status).toBe('SUCCEEDED');
    expect(redrive.visited[0]).toBe('PromoteStores');
    for (const step of ['ValidateInput', 'AcquireLock', 'QuiesceTrading', 'FenceOldPrimary'])
      expect(redrive.called(step)).toHaveLength(0);
    expect(redrive.called('PromoteRedis')).toHaveLength(1);
  });
});
