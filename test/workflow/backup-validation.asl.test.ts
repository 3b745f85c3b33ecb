import { STEP_FUNCTIONS } from '../../lambdas/registry';
import { TaskTokenBroker } from '../../local-runner/approval';
import { loadWorkflow, taskStates } from '../../local-runner/definition';
import { runWorkflowLocally, type LocalExecutionResult } from '../../local-runner/run-workflow';
import { namedError, type Stub } from './stub-steps';

const WORKFLOW = 'backup-validation';
const run = {
  runId: 'bv-test',
  executionId: 'arn:aws:states:us-west-2:000000000000:execution:tradepulse-dr-backup-validation:bv-test',
  application: 'tradepulse',
  region: 'us-west-2',
  trigger: 'schedule',
  requestedBy: 'scheduler',
  startedAt: '2026-11-27T00:00:00.000Z',
  stores: ['postgres', 'redis', 'kafka'],
  backups: {},
  maxAgeSeconds: { postgres: 3660, redis: 3900, kafka: 86430 },
  objectives: {
    postgres: { rpoSeconds: 60, rtoSeconds: 600 },
    redis: { rpoSeconds: 300, rtoSeconds: 300 },
    kafka: { rpoSeconds: 30, rtoSeconds: 480 },
  },
  postgres: { heapAllIndexed: false, verifyCiphertextBeforeRestore: true },
  kafka: { toleranceMessages: null, windowSeconds: 300, maxRecords: 500000 },
  restoreJobId: null as string | null,
};

const ok = (result: unknown) => ({
  evidence: {
    step: 'stub',
    action: 'observed',
    observed: {},
    changes: [],
    startedAt: '',
    finishedAt: '',
    durationMs: 0,
  },
  result,
});
const selected = {
  postgres: { backupId: 'postgres-20261127T000000000Z-00000001' },
  redis: { backupId: 'redis-20261127T000000000Z-00000002' },
  kafka: { backupId: 'kafka-offsets-20261127T000000000Z-00000003' },
};
const passedChecks = (store: string) => ({
  passed: true,
  checks: [{ check: `${store}.x`, store, passed: true, reason: 'ok', figures: {} }],
});

/** The stub record step decides like the real one in miniature: failed when anything failed. */
const recordStub: Stub = (event) => {
  const e = event as { run: typeof run | null; failure: unknown; steps: Record<string, unknown> };
  const text = JSON.stringify(e.steps);
  const outcome = !e.run
    ? 'rejected'
    : e.failure || text.includes('"passed":false') || !('teardown' in e.steps)
      ? 'failed'
      : 'passed';
  return ok({
    outcome,
    application: 'tradepulse',
    summary: `stub ${outcome}`,
    reasons: outcome === 'passed' ? [] : ['stub reason'],
    failedChecks: [],
    evidenceKey: 'backup-validation/bv-test/report.json',
    sha256: '0'.repeat(64),
    restoreJobId: e.run?.restoreJobId ?? null,
  });
};

const defaultStubs: Record<string, Stub> = {
  StartBackupValidation: () => ok({ run }),
  SelectBackups: () => ok({ accepted: true, selected, checks: [] }),
  RestorePostgresBackup: () =>
    ok({ kind: 'sandbox-postgres', targetId: 'restore-bv-test-postgres', port: 1 }),
  RestoreRedisBackup: () => ok({ kind: 'sandbox-redis', targetId: 'restore-bv-test-redis', port: 2 }),
  ValidatePostgresRestore: () => ok(passedChecks('postgres')),
  ValidateRedisRestore: () => ok(passedChecks('redis')),
  ValidateKafkaOffsets: () => ok(passedChecks('kafka')),
  TeardownRestoreTargets: () =>
    ok({
      clean: true,
      removed: [],
      leftBehind: {},
      check: { check: 'teardown', store: 'all', passed: true, reason: 'clean', figures: {} },
    }),
  RecordBackupValidation: recordStub,
  NotifyBackupValidation: () => ok({ messageId: 'm-1' }),
  ReportRestoreValidation: () => ok({ status: 'SUCCESSFUL' }),
};

interface StubbedRun extends LocalExecutionResult {
  calls: [string, Record<string, unknown>][];
  called(step: string): Record<string, unknown>[];
  visited: string[];
}

async function runWithStubs(
  stubs: Record<string, Stub> = {},
  input: unknown = { trigger: 'schedule' },
): Promise<StubbedRun> {
  const all = { ...defaultStubs, ...stubs };
  const calls: [string, Record<string, unknown>][] = [];
  const counts = new Map<string, number>();
  const { stepOfTask } = loadWorkflow(WORKFLOW, 'us-west-2');
  const result = await runWorkflowLocally({
    workflow: WORKFLOW,
    region: 'us-west-2',
    executionName: 'bv-test',
    input,
    broker: new TaskTokenBroker(),
    retryIntervalOverrides: Object.fromEntries([...stepOfTask.keys()].map((s) => [s, 0])),
    invoke: async (step, event) => {
      calls.push([step, event as Record<string, unknown>]);
      const call = (counts.get(step) ?? 0) + 1;
      counts.set(step, call);
      const stub = all[step];
      if (!stub) throw new Error(`no stub for ${step}`);
      return stub(event as Record<string, unknown>, call);
    },
  });
  return {
    ...result,
    calls,
    called: (step) => calls.filter(([s]) => s === step).map(([, e]) => e),
    visited: result.timeline.map((t) => t.state),
  };
}

describe('backup-validation.asl.json under aws-local-stepfunctions with stub steps', () => {
  test('every Task state runs a registered step, has a timeout, retries Lambda service errors, and is caught', () => {
    const { definition, stepOfTask } = loadWorkflow(WORKFLOW, 'us-west-2');
    const tasks = taskStates(definition);
    expect(tasks.size).toBeGreaterThanOrEqual(11);
    for (const [name, state] of tasks) {
      expect([name, STEP_FUNCTIONS[stepOfTask.get(name) as keyof typeof STEP_FUNCTIONS]]).not.toContainEqual(
        undefined,
      );
      expect([name, state.TimeoutSeconds]).not.toContainEqual(undefined);
      const retried = (state.Retry as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);
      expect(retried).toEqual(expect.arrayContaining(['Lambda.ServiceException', 'TransientError']));
      // Inside the Parallel states too: a branch's failure becomes a value, so the Parallel waits for every branch.
      expect([name, state.Catch]).not.toContainEqual(undefined);
    }
    for (const [name, state] of Object.entries(definition.States))
      if (state.Type === 'Parallel') expect([name, state.Catch]).not.toContainEqual(undefined);
  });

  test('the happy path selects, restores side by side, validates, tears down, records and succeeds', async () => {
    const result = await runWithStubs();
    expect(result.status).toBe('SUCCEEDED');
    const order = [
      'StartBackupValidation',
      'SelectBackups',
      'RestoreBackups',
      'ValidateRestores',
      'TeardownRestoreTargets',
      'RecordBackupValidation',
      'BackupsValidated',
    ];
    expect(result.visited.filter((s) => order.includes(s))).toEqual(order);
    expect(result.called('RestorePostgresBackup')[0]).toMatchObject({
      backupId: selected.postgres.backupId,
      run,
    });
    expect(result.called('ValidatePostgresRestore')[0]).toMatchObject({
      target: { targetId: 'restore-bv-test-postgres' },
    });
    expect(result.called('ValidateKafkaOffsets')[0]).toMatchObject({ backupId: selected.kafka.backupId });
    expect(result.called('TeardownRestoreTargets')).toEqual([{ runId: 'bv-test' }]);
    const record = result.called('RecordBackupValidation')[0]!;
    expect(record.failure).toBeNull();
    expect(Object.keys(record.steps as object)).toEqual(
      expect.arrayContaining(['selectBackups', 'restore', 'validate', 'teardown']),
    );
    expect(result.called('NotifyBackupValidation')).toHaveLength(0);
    expect(result.called('ReportRestoreValidation')).toHaveLength(0);
  });

  test('bad input: nothing is selected or restored, the teardown still runs, the rejection is recorded and notified', async () => {
    const result = await runWithStubs(
      {
        StartBackupValidation: () => {
          throw namedError('InvalidInputError', 'stores.0: must be one of postgres, redis, kafka');
        },
      },
      { stores: ['mongodb'] },
    );
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('BackupValidationFailed');
    expect(result.calls.map(([s]) => s)).toEqual([
      'StartBackupValidation',
      'TeardownRestoreTargets',
      'RecordBackupValidation',
      'NotifyBackupValidation',
    ]);
    expect(result.called('RecordBackupValidation')[0]).toMatchObject({
      run: null,
      failure: { Error: 'InvalidInputError' },
    });
    expect(result.called('NotifyBackupValidation')[0]).toMatchObject({ outcome: 'rejected' });
  });

  test('a refused backup (signature, checksum, age) restores nothing and fails the validation with its reason', async () => {
    const result = await runWithStubs({
      SelectBackups: () =>
        ok({
          accepted: false,
          selected: {},
          checks: [
            {
              check: 'postgres.manifest-signature',
              store: 'postgres',
              passed: false,
              reason: 'signature does not verify',
              figures: {},
            },
          ],
        }),
    });
    expect(result.status).toBe('FAILED');
    expect(result.called('RestorePostgresBackup')).toHaveLength(0);
    expect(result.called('RestoreRedisBackup')).toHaveLength(0);
    expect(result.called('TeardownRestoreTargets')).toHaveLength(1);
    expect(result.called('NotifyBackupValidation')[0]).toMatchObject({ outcome: 'failed' });
  });

  test.each([
    ['SelectBackups', 'BackupNotFoundError'],
    ['RestorePostgresBackup', 'BackupIntegrityError'],
    ['RestoreRedisBackup', 'RestoreFailedError'],
    ['ValidatePostgresRestore', 'Error'],
    ['ValidateRedisRestore', 'Error'],
    ['ValidateKafkaOffsets', 'Error'],
  ])(
    'when %s fails (%s), the teardown runs, then the failure is recorded and notified',
    async (step, error) => {
      const result = await runWithStubs({
        [step]: () => {
          throw namedError(error, `${step} broke`);
        },
      });
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('BackupValidationFailed');
      expect(result.called('TeardownRestoreTargets')).toEqual([{ runId: 'bv-test' }]);
      const names = result.calls.map(([s]) => s);
      expect(names.indexOf('TeardownRestoreTargets')).toBeLessThan(names.indexOf('RecordBackupValidation'));
      expect(result.called('RecordBackupValidation')[0]).toMatchObject({ failure: { Error: error } });
      expect(result.called('NotifyBackupValidation')).toHaveLength(1);
    },
  );

  test('when one restore fails, the other finishes before the teardown starts (nothing is restoring during it)', async () => {
    const finished: string[] = [];
    const result = await runWithStubs({
      RestorePostgresBackup: () => {
        finished.push('RestorePostgresBackup');
        throw namedError('BackupIntegrityError', 'frame 1 failed AES-GCM authentication');
      },
      RestoreRedisBackup: async () => {
        await new Promise((r) => setTimeout(r, 300));
        finished.push('RestoreRedisBackup');
        return ok({ kind: 'sandbox-redis', targetId: 'restore-bv-test-redis', port: 2 });
      },
      TeardownRestoreTargets: () => {
        finished.push('TeardownRestoreTargets');
        return defaultStubs.TeardownRestoreTargets!({}, 1);
      },
    });
    expect(result.status).toBe('FAILED');
    expect(finished).toEqual(['RestorePostgresBackup', 'RestoreRedisBackup', 'TeardownRestoreTargets']);
    expect(result.called('RecordBackupValidation')[0]).toMatchObject({
      failure: { Error: 'BackupIntegrityError' },
    });
    expect(result.called('ValidateRedisRestore')).toHaveLength(0);
  });

  test('a failed check (not an error) still tears down, and the run fails with the record’s summary', async () => {
    const result = await runWithStubs({
      ValidateRedisRestore: () =>
        ok({
          passed: false,
          checks: [
            {
              check: 'redis.key-digests',
              store: 'redis',
              passed: false,
              reason: '1 key differs',
              figures: {},
            },
          ],
        }),
    });
    expect(result.status).toBe('FAILED');
    expect(result.cause).toBe('stub failed');
    expect(result.called('TeardownRestoreTargets')).toHaveLength(1);
    expect(result.called('ValidatePostgresRestore')).toHaveLength(1);
  });

  test('a teardown that fails is retried, then recorded as the failure (never a pass)', async () => {
    const result = await runWithStubs({
      TeardownRestoreTargets: () => {
        throw namedError('Error', 'kill failed');
      },
    });
    expect(result.status).toBe('FAILED');
    expect(result.called('TeardownRestoreTargets')).toHaveLength(3);
    const record = result.called('RecordBackupValidation')[0]!;
    expect((record.steps as Record<string, unknown>).teardownFailure).toMatchObject({ Error: 'Error' });
  });

  test('evidence that cannot be recorded is notified and fails the run', async () => {
    const result = await runWithStubs({
      RecordBackupValidation: () => {
        throw namedError('AccessDenied', 'bucket refused');
      },
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('BackupValidationFailed');
    expect(result.called('NotifyBackupValidation')[0]).toMatchObject({
      outcome: 'failed',
      evidenceKey: null,
    });
  });

  test('a transient restore error is retried and the run goes on', async () => {
    const result = await runWithStubs({
      RestorePostgresBackup: (_e, call) => {
        if (call === 1) throw namedError('TransientError', 'connection reset');
        return ok({ kind: 'sandbox-postgres', targetId: 'restore-bv-test-postgres', port: 1 });
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.called('RestorePostgresBackup')).toHaveLength(2);
  });

  test('only the stores selected are restored and validated (Kafka alone: no restore)', async () => {
    const result = await runWithStubs({
      SelectBackups: () => ok({ accepted: true, selected: { kafka: selected.kafka }, checks: [] }),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.called('RestorePostgresBackup')).toHaveLength(0);
    expect(result.called('ValidatePostgresRestore')).toHaveLength(0);
    expect(result.called('ValidateKafkaOffsets')).toHaveLength(1);
    expect(result.called('TeardownRestoreTargets')).toHaveLength(1);
  });

  test.each([
    ['passed', {}, 'SUCCEEDED'],
    [
      'failed',
      {
        ValidatePostgresRestore: () =>
          ok({
            passed: false,
            checks: [
              { check: 'postgres.amcheck', store: 'postgres', passed: false, reason: 'broken', figures: {} },
            ],
          }),
      },
      'FAILED',
    ],
  ] as const)(
    'an AWS Backup restore-testing run reports %s back with PutRestoreValidationResult',
    async (outcome, stubs, status) => {
      const result = await runWithStubs({
        StartBackupValidation: () =>
          ok({ run: { ...run, trigger: 'restore-testing', restoreJobId: 'job-1' } }),
        ...stubs,
      });
      expect(result.status).toBe(status);
      expect(result.called('ReportRestoreValidation')).toEqual([
        { restoreJobId: 'job-1', outcome, summary: `stub ${outcome}` },
      ]);
    },
  );
});
