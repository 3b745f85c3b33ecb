import fs from 'node:fs';
import path from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  RedriveExecutionCommand,
  SFNClient,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { UsageError, parseCli } from '../../../dr-cli/args';
import { runCli, workflowFileOf, type CliIo } from '../../../dr-cli/commands';
import { findPendingApproval, progressLines } from '../../../dr-cli/history';
import { ApprovalDecisionSchema } from '../../../lambdas/request-approval/logic';
import { PROJECT_ROOT } from '../../../lib/dr-step-function';
import {
  APPROVAL_TOKEN,
  EXECUTION_ARN,
  FIRST_TOKEN,
  START,
  STATE_MACHINE_ARN,
  historyAfterApproval,
  historyWaitingForApproval,
} from './failover-history';

const sfnMock = mockClient(SFNClient);
const NOW = new Date('2025-03-14T10:05:00.000Z');

interface Captured extends CliIo {
  stdout: string;
  stderr: string;
  regions: string[];
  sleeps: number[];
}

function io(): Captured {
  const captured: Captured = {
    stdout: '',
    stderr: '',
    regions: [],
    sleeps: [],
    out: (text) => void (captured.stdout += text),
    err: (text) => void (captured.stderr += text),
    readFile: (file) => fs.readFileSync(path.resolve(PROJECT_ROOT, file), 'utf8'),
    now: () => NOW,
    sleep: async (ms) => void captured.sleeps.push(ms),
    sfn: (region) => {
      captured.regions.push(region);
      return new SFNClient({ region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    },
    randomSuffix: () => 'a1b2c3',
  };
  return captured;
}

const startArgs = (...extra: string[]) => [
  'start',
  '--region',
  'us-west-2',
  '--state-machine',
  STATE_MACHINE_ARN,
  '--input',
  'events/drill-console.json',
  ...extra,
];

beforeEach(() => sfnMock.reset());

describe('flags', () => {
  const usageError = (argv: string[]) => {
    try {
      parseCli(argv);
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      return (err as Error).message;
    }
    throw new Error(`parseCli(${argv.join(' ')}) accepted it`);
  };

  test.each([
    [
      ['start', '--region', 'us-west2', '--state-machine', STATE_MACHINE_ARN, '--input', 'x.json'],
      /--region: must be an AWS region/,
    ],
    [
      ['start', '--region', 'us-west-2', '--state-machine', 'FailoverStateMachine', '--input', 'x.json'],
      /--state-machine: must be a state machine ARN/,
    ],
    [['start', '--region', 'us-west-2', '--input', 'x.json'], /--state-machine: is required/],
    [['start', ...startArgs().slice(1), '--name', 'has spaces'], /--name: must be 1 to 80 letters/],
    [['watch', '--execution', EXECUTION_ARN, '--interval', '0'], /--interval: must be at least 1 second/],
    [['watch', '--execution', STATE_MACHINE_ARN], /--execution: must be an execution ARN/],
    [['approve', '--execution', EXECUTION_ARN], /--by: is required/],
    [['approve', '--execution', EXECUTION_ARN, '--by', '   '], /--by: must name who decides/],
    [['reject', '--execution', EXECUTION_ARN, '--by', 'Duty Manager'], /--reason: is required/],
    [
      ['approve', '--execution', EXECUTION_ARN, '--by', 'x', '--reason', 'y'],
      /--reason: not a flag of 'approve'/,
    ],
    [['approve', '--execution', EXECUTION_ARN, '--by', 'x', '--bogus'], /Unknown option '--bogus'/],
    [['approve', '--execution', EXECUTION_ARN, '--by'], /--by/],
    [['rewind', '--execution', EXECUTION_ARN], /unknown command 'rewind'/],
  ])('%j is refused naming the flag', (argv, message) => {
    expect(usageError(argv as string[])).toMatch(message);
  });

  test('bad usage exits 2 with the message and the usage, and calls nothing', async () => {
    const captured = io();
    expect(await runCli(['approve', '--execution', EXECUTION_ARN], captured)).toBe(2);
    expect(captured.stderr).toMatch(/^dr: approve: --by: is required\n\nusage: npm run dr/);
    expect(captured.regions).toEqual([]);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('start', () => {
  test('StartExecution in the region, with a run-id name and the drill input validated and marked as started from the CLI', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: START });
    const captured = io();
    expect(await runCli(startArgs(), captured)).toBe(0);
    expect(captured.regions).toEqual(['us-west-2']);
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    const request = sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    const file = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'events', 'drill-console.json'), 'utf8'));
    expect(request).toEqual({
      stateMachineArn: STATE_MACHINE_ARN,
      name: 'drill-20250314T100500-a1b2c3',
      input: JSON.stringify({ ...file, trigger: 'cli' }),
    });
    expect(captured.stdout).toBe(`${EXECUTION_ARN}\n`);
    expect(captured.stderr).toContain(`npm run dr -- watch --execution ${EXECUTION_ARN}`);
  });

  test('--dry-run starts the same input in mode dryRun; --name names the execution', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN });
    expect(await runCli(startArgs('--dry-run', '--name', 'rehearsal-7'), io())).toBe(0);
    const request = sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(request.name).toBe('rehearsal-7');
    expect(JSON.parse(request.input!)).toMatchObject({
      trigger: 'cli',
      mode: 'dryRun',
      targetRegion: 'us-west-2',
    });
  });

  test.each([
    [
      ['--region', 'us-east-1'],
      /--state-machine: the state machine is in us-west-2, not in --region us-east-1/,
    ],
    [
      ['--input', 'events/alarm-state-change.json'],
      /--input: events\/alarm-state-change.json is not an execution input/,
    ],
    [['--input', 'events/missing.json'], /--input: cannot read events\/missing.json/],
    [['--input', 'package.json'], /--input: package.json is not an execution input the Declare step accepts/],
  ])('%j is refused before anything is started', async (override, message) => {
    const argv = startArgs();
    for (let i = 0; i < override.length; i += 2) argv[argv.indexOf(override[i]!) + 1] = override[i + 1]!;
    const captured = io();
    expect(await runCli(argv, captured)).toBe(2);
    expect(captured.stderr).toMatch(message);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('an input for another target region is refused (the failover into X is started on X’s orchestrator)', async () => {
    const captured = io();
    captured.readFile = () =>
      JSON.stringify({
        trigger: 'console',
        mode: 'drill',
        sourceRegion: 'us-west-2',
        targetRegion: 'us-east-1',
        requestedBy: 'jane',
      });
    expect(await runCli(startArgs(), captured)).toBe(2);
    expect(captured.stderr).toMatch(/--input: targetRegion is us-east-1 but --region is us-west-2/);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('an alarm-trigger input cannot be a --dry-run', async () => {
    const captured = io();
    captured.readFile = () =>
      JSON.stringify({
        trigger: 'alarm',
        mode: 'failover',
        alarm: { name: 'tradepulse-use1-unhealthy', state: 'ALARM' },
        time: '2025-03-14T09:26:53Z',
      });
    expect(await runCli(startArgs('--dry-run'), captured)).toBe(2);
    expect(captured.stderr).toMatch(/--dry-run: an alarm input starts an unplanned failover/);
  });
});

describe('the approval task token, from the execution history', () => {
  test('is read from the TaskScheduled parameters of the waitForTaskToken task; a retried task’s newest token wins', () => {
    const events = historyWaitingForApproval();
    const entered = events.find((e) => e.stateEnteredEventDetails?.name === 'RequestApproval')!;
    expect(entered.stateEnteredEventDetails!.input).not.toContain('Token');
    const pending = findPendingApproval(events)!;
    expect(pending.taskToken).toBe(APPROVAL_TOKEN);
    expect(pending.taskToken).not.toBe(FIRST_TOKEN);
    expect(pending.state).toBe('RequestApproval');
    expect(pending.payload.run).toMatchObject({
      runId: 'drill-20250314T100000-abc123',
      targetRegion: 'us-west-2',
    });
    expect(pending.payload).not.toHaveProperty('taskToken');
  });

  test('an answered approval is no longer pending', () => {
    expect(findPendingApproval(historyAfterApproval())).toBeUndefined();
    // Cut right after the first attempt failed: its token was answered (by the failure), and no new one yet.
    const events = historyWaitingForApproval();
    const failedAt = events.find((e) => e.type === 'TaskFailed')!.id!;
    expect(findPendingApproval(events.filter((e) => e.id! <= failedAt))).toBeUndefined();
  });
});

describe('approve and reject', () => {
  /** The history in two pages, as GetExecutionHistory paginates it. */
  function mockWaitingExecution() {
    const events = historyWaitingForApproval();
    const half = Math.floor(events.length / 2);
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: EXECUTION_ARN,
      name: 'drill-20250314T100000-abc123',
      status: 'RUNNING',
      startDate: START,
    });
    sfnMock
      .on(GetExecutionHistoryCommand, { executionArn: EXECUTION_ARN, nextToken: undefined })
      .resolves({ events: events.slice(0, half), nextToken: 'page-2' })
      .on(GetExecutionHistoryCommand, { executionArn: EXECUTION_ARN, nextToken: 'page-2' })
      .resolves({ events: events.slice(half) });
  }

  test('approve sends SendTaskSuccess with the waiting token and the decision the workflow expects', async () => {
    mockWaitingExecution();
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const captured = io();
    const code = await runCli(
      [
        'approve',
        '--execution',
        EXECUTION_ARN,
        '--by',
        'Duty Manager',
        '--comment',
        'ledger parity confirmed',
      ],
      captured,
    );
    expect(code).toBe(0);
    expect(captured.regions).toEqual(['us-west-2']);
    expect(sfnMock).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { nextToken: 'page-2' });
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    const request = sfnMock.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input;
    expect(request.taskToken).toBe(APPROVAL_TOKEN);
    const output = JSON.parse(request.output!);
    expect(output).toEqual({
      approved: true,
      approvedBy: 'Duty Manager',
      at: NOW.toISOString(),
      comment: 'ledger parity confirmed',
    });
    expect(ApprovalDecisionSchema.safeParse(output).success).toBe(true);
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskFailureCommand);
    expect(captured.stdout).toBe('APPROVED\n');
    expect(captured.stderr).toContain('approving RequestApproval of run drill-20250314T100000-abc123');
  });

  test('reject sends SendTaskFailure with error ApprovalRejected (what the ASL catches) and who and why', async () => {
    mockWaitingExecution();
    sfnMock.on(SendTaskFailureCommand).resolves({});
    const code = await runCli(
      [
        'reject',
        '--execution',
        EXECUTION_ARN,
        '--by',
        'Duty Manager',
        '--reason',
        'order gateway latency still high',
      ],
      io(),
    );
    expect(code).toBe(0);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: APPROVAL_TOKEN,
      error: 'ApprovalRejected',
      cause: 'Duty Manager: order gateway latency still high',
    });
    const asl = JSON.parse(
      fs.readFileSync(path.join(PROJECT_ROOT, 'state-machines', 'failover.asl.json'), 'utf8'),
    );
    expect(asl.States.RequestApproval.Catch[0].ErrorEquals).toEqual(['ApprovalRejected']);
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('nothing is sent when the execution is not waiting for an approval, or has ended', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ name: 'run-1', status: 'RUNNING', startDate: START });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: historyWaitingForApproval().slice(0, 12) });
    const running = io();
    expect(await runCli(['approve', '--execution', EXECUTION_ARN, '--by', 'x'], running)).toBe(1);
    expect(running.stderr).toMatch(/is not waiting for an approval \(it is at AcquireLock\)/);

    sfnMock.reset();
    sfnMock.on(DescribeExecutionCommand).resolves({ name: 'run-1', status: 'SUCCEEDED', startDate: START });
    const ended = io();
    expect(await runCli(['reject', '--execution', EXECUTION_ARN, '--by', 'x', '--reason', 'y'], ended)).toBe(
      1,
    );
    expect(ended.stderr).toMatch(/run-1 is SUCCEEDED: there is no approval to answer/);
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });
});

describe('watch', () => {
  test('prints each state as it runs (retries, parallel branches, changes, the approval wait) until the execution ends', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING', startDate: START })
      .resolves({ status: 'SUCCEEDED', startDate: START });
    sfnMock
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: historyWaitingForApproval() })
      .resolves({ events: historyAfterApproval() });
    const captured = io();
    expect(await runCli(['watch', '--execution', EXECUTION_ARN, '--interval', '2'], captured)).toBe(0);
    expect(captured.sleeps).toEqual([2000]);
    expect(captured.stdout).toBe('SUCCEEDED\n');
    const lines = captured.stderr.split('\n').map((l) => l.replace(/^\[dr\s+[\d.]+s\] /, ''));
    expect(lines).toEqual(
      expect.arrayContaining([
        '▶ ValidateInput',
        '↻ AcquireLock retry 1 after Lambda.ServiceException',
        '  · took the tradepulse DR lock',
        '▶ PromoteStores',
        '  · promoted the us-west-2 standby',
        '  · translated consumer offsets',
        '↻ RequestApproval retry 1 after Lambda.ServiceException',
        '■ execution succeeded',
      ]),
    );
    expect(lines.some((l) => /^✓ ValidateInput \d+ ms$/.test(l))).toBe(true);
    expect(
      lines.some((l) =>
        l.startsWith(
          `⏸ RequestApproval waiting — answer with: npm run dr -- approve --execution ${EXECUTION_ARN}`,
        ),
      ),
    ).toBe(true);
    expect(lines.filter((l) => l.includes('Initialize'))).toEqual([]);
    // Each line once, although the second poll returns the whole history again.
    expect(lines.filter((l) => l === '▶ ValidateInput')).toHaveLength(1);
  });

  test('a caught failure is shown with its error and the Lambda error message; a failed execution exits 1', async () => {
    const events = historyWaitingForApproval().slice(0, 4);
    const t = (ms: number) => new Date(START.getTime() + ms);
    const failed = [
      ...events,
      {
        id: 5,
        previousEventId: 4,
        type: 'TaskStateEntered' as const,
        timestamp: t(100),
        stateEnteredEventDetails: { name: 'AcquireLock', input: '{}' },
      },
      { id: 6, previousEventId: 5, type: 'LambdaFunctionScheduled' as const, timestamp: t(110) },
      {
        id: 7,
        previousEventId: 6,
        type: 'LambdaFunctionFailed' as const,
        timestamp: t(120),
        lambdaFunctionFailedEventDetails: {
          error: 'LockHeldError',
          cause: JSON.stringify({ errorType: 'LockHeldError', errorMessage: 'run drill-1 holds the lock' }),
        },
      },
      {
        id: 8,
        previousEventId: 7,
        type: 'TaskStateExited' as const,
        timestamp: t(130),
        stateExitedEventDetails: { name: 'AcquireLock', output: '{}' },
      },
      {
        id: 9,
        previousEventId: 8,
        type: 'ExecutionFailed' as const,
        timestamp: t(140),
        executionFailedEventDetails: {
          error: 'AnotherRunInProgress',
          cause: 'another DR run holds the lock',
        },
      },
    ];
    const lines = progressLines(failed, 0).map((l) => l.text);
    expect(lines).toContain('✗ AcquireLock LockHeldError: run drill-1 holds the lock (caught)');
    expect(lines.at(-1)).toBe('■ execution failed: AnotherRunInProgress: another DR run holds the lock');

    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED', startDate: START });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: failed });
    const captured = io();
    expect(await runCli(['watch', '--execution', EXECUTION_ARN], captured)).toBe(1);
    expect(captured.stdout).toBe('FAILED\n');
  });
});

describe('redrive', () => {
  const REDRIVE_DATE = new Date('2025-03-14T10:06:00.000Z');

  test('RedriveExecution of a failed execution in its region, with a client token per re-drive; the ARN may be positional', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .resolves({ name: 'run-1', status: 'FAILED', redriveStatus: 'REDRIVABLE', redriveCount: 1 });
    sfnMock.on(RedriveExecutionCommand).resolves({ redriveDate: REDRIVE_DATE });
    const captured = io();
    expect(await runCli(['redrive', EXECUTION_ARN], captured)).toBe(0);
    expect(sfnMock).toHaveReceivedCommandWith(RedriveExecutionCommand, {
      executionArn: EXECUTION_ARN,
      clientToken: 'dr-cli-redrive-run-1-2',
    });
    expect(captured.regions).toEqual(['us-west-2']);
    expect(captured.stdout).toBe(`${EXECUTION_ARN}\n`);
    expect(captured.stderr).toContain(
      're-driving run-1 (was FAILED; re-drive 2) from 2025-03-14T10:06:00.000Z',
    );

    sfnMock.resetHistory();
    expect(await runCli(['redrive', '--execution', EXECUTION_ARN], io())).toBe(0);
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
  });

  test('--watch follows the re-driven execution until it ends', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce({ name: 'run-1', status: 'TIMED_OUT', redriveStatus: 'REDRIVABLE', startDate: START })
      .resolves({ name: 'run-1', status: 'SUCCEEDED', startDate: START });
    sfnMock.on(RedriveExecutionCommand).resolves({ redriveDate: REDRIVE_DATE });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: historyAfterApproval() });
    const captured = io();
    expect(await runCli(['redrive', EXECUTION_ARN, '--watch'], captured)).toBe(0);
    expect(captured.stdout).toBe(`${EXECUTION_ARN}\nSUCCEEDED\n`);
  });

  test('a running, succeeded or not-redrivable execution is refused and nothing is re-driven', async () => {
    for (const [described, message] of [
      [
        { name: 'run-1', status: 'RUNNING' },
        /run-1 is RUNNING: only a FAILED, TIMED_OUT or ABORTED execution/,
      ],
      [{ name: 'run-1', status: 'SUCCEEDED' }, /run-1 is SUCCEEDED/],
      [
        {
          name: 'run-1',
          status: 'FAILED',
          redriveStatus: 'NOT_REDRIVABLE',
          redriveStatusReason: 'Execution is older than 14 days',
        },
        /run-1 cannot be re-driven \(NOT_REDRIVABLE: Execution is older than 14 days\)/,
      ],
    ] as const) {
      sfnMock.reset();
      sfnMock.on(DescribeExecutionCommand).resolves(described);
      const captured = io();
      expect(await runCli(['redrive', EXECUTION_ARN], captured)).toBe(1);
      expect(captured.stderr).toMatch(message);
      expect(sfnMock).not.toHaveReceivedCommand(RedriveExecutionCommand);
    }
  });

  test('bad usage: no ARN, two ARNs, a state machine ARN instead of an execution', async () => {
    expect(() => parseCli(['redrive'])).toThrow(/--execution: is required/);
    expect(() => parseCli(['redrive', EXECUTION_ARN, '--execution', EXECUTION_ARN])).toThrow(
      /give one execution ARN/,
    );
    expect(() => parseCli(['redrive', STATE_MACHINE_ARN])).toThrow(/--execution: must be an execution ARN/);
    expect(() => parseCli(['watch', EXECUTION_ARN])).toThrow(UsageError);
    const captured = io();
    expect(await runCli(['redrive'], captured)).toBe(2);
    expect(sfnMock).not.toHaveReceivedCommand(DescribeExecutionCommand);
  });
});

test('watch reads the state names of the workflow the execution runs (from its state machine name)', () => {
  const arn = (sm: string) => `arn:aws:states:us-west-2:111122223333:execution:${sm}:run-1`;
  expect(workflowFileOf(arn('FailbackStateMachineB9668938-AbCdEfGh'))).toBe('failback');
  expect(workflowFileOf(arn('BackupValidationStateMachine1A2B3C4D-AbCdEfGh'))).toBe('backup-validation');
  expect(workflowFileOf(arn('FailoverStateMachineCB79781C-AbCdEfGh'))).toBe('failover');
  expect(workflowFileOf(EXECUTION_ARN)).toBe('failover');
});
