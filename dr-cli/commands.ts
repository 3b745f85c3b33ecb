import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { STEP_FUNCTIONS, type StepFunctionName } from '../lambdas/registry';
import { ExecutionInputSchema, type ExecutionInput } from '../lambdas/shared/run';
import { formatIssues } from '../lambdas/shared/topology';
import { APPROVAL_REJECTED_ERROR, ApprovalDecisionSchema } from '../lambdas/request-approval/logic';
import { DR_WORKFLOWS } from '../lib/workflows';
import { loadWorkflow } from '../local-runner/definition';
import { USAGE, UsageError, parseCli, regionOfArn, type CliCommand } from './args';
import { findPendingApproval, progressLines } from './history';

/** Everything the CLI touches outside itself, so tests can stand in for AWS, the clock and the terminal. */
export interface CliIo {
  /** Results a script may read (the execution ARN). */
  out(text: string): void;
  /** Progress and messages for the operator. */
  err(text: string): void;
  readFile(file: string): string;
  now(): Date;
  sleep(ms: number): Promise<void>;
  /** The Step Functions client of a region. */
  sfn(region: string): SFNClient;
  /** A few random characters that make a default execution name unique. */
  randomSuffix?(): string;
}

/** Runs one CLI invocation; returns the process exit code (0 done, 1 failed, 2 bad usage). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCli(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`dr: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    switch (command.command) {
      case 'help':
        io.err(`${USAGE}\n`);
        return 0;
      case 'start':
        return await start(command, io);
      case 'watch':
        return await watch(command.execution, command.interval, io);
      case 'approve':
      case 'reject':
        return await answer(command, io);
      case 'redrive':
        return await redrive(command, io);
    }
  } catch (err) {
    const e = err as Error;
    io.err(`dr: ${e instanceof UsageError || e.name === 'Error' ? '' : `${e.name}: `}${e.message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

/** The execution input from `--input`, validated as the Declare step validates it, adjusted for the CLI. */
export function executionInputFor(
  command: Extract<CliCommand, { command: 'start' }>,
  io: Pick<CliIo, 'readFile'>,
): ExecutionInput {
  let text: string;
  try {
    text = io.readFile(command.input);
  } catch (err) {
    throw new UsageError(`--input: cannot read ${command.input}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--input: ${command.input} is not JSON: ${(err as Error).message}`);
  }
  const parsed = ExecutionInputSchema.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(
      `--input: ${command.input} is not an execution input the Declare step accepts:\n${formatIssues(parsed.error.issues)}`,
    );
  }
  const input = parsed.data;
  if (input.trigger === 'alarm') {
    if (command['dry-run'])
      throw new UsageError('--dry-run: an alarm input starts an unplanned failover; it cannot be a dry run');
    return input;
  }
  if (input.targetRegion !== command.region) {
    throw new UsageError(
      `--input: targetRegion is ${input.targetRegion} but --region is ${command.region}: a failover into ${input.targetRegion} is started on the orchestrator deployed there (static stability)`,
    );
  }
  if (input.sourceRegion === input.targetRegion)
    throw new UsageError('--input: sourceRegion and targetRegion must differ');
  // Started from this CLI (the run record says so), in dry-run mode when asked.
  return { ...input, trigger: 'cli', ...(command['dry-run'] ? { mode: 'dryRun' as const } : {}) };
}

/** `drill-20250314T100000-1a2b3c`: the run id the workflow will use (execution name). */
export function defaultExecutionName(input: ExecutionInput, now: Date, suffix: string): string {
  const kind = input.mode === 'dryRun' ? 'dry-run' : input.mode;
  return `${kind}-${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${suffix}`;
}

async function start(command: Extract<CliCommand, { command: 'start' }>, io: CliIo): Promise<number> {
  const machineRegion = regionOfArn(command['state-machine']);
  if (machineRegion !== command.region) {
    throw new UsageError(
      `--state-machine: the state machine is in ${machineRegion}, not in --region ${command.region}`,
    );
  }
  const input = executionInputFor(command, io);
  const name =
    command.name ??
    defaultExecutionName(input, io.now(), io.randomSuffix?.() ?? randomBytes(3).toString('hex'));
  const started = await io.sfn(command.region).send(
    new StartExecutionCommand({
      stateMachineArn: command['state-machine'],
      name,
      input: JSON.stringify(input),
    }),
  );
  const arn = started.executionArn!;
  io.out(`${arn}\n`);
  io.err(
    `dr: started ${name} (${input.trigger === 'alarm' ? 'failover on an alarm' : `mode ${input.mode}`}) in ${command.region}\n` +
      `    follow it:   npm run dr -- watch --execution ${arn}\n`,
  );
  return command.watch ? watch(arn, command.interval, io) : 0;
}

async function readHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: 1000,
        includeExecutionData: true,
        nextToken,
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events.sort((a, b) => a.id! - b.id!);
}

/**
 * The workflow file an execution runs: CloudFormation names each state machine after its
 * construct (`<Workflow>StateMachine<hash>-<suffix>`, lib/workflows.ts ids); the failover otherwise.
 */
export function workflowFileOf(executionArn: string): string {
  const stateMachineName = executionArn.split(':')[6] ?? '';
  const spec =
    DR_WORKFLOWS.find((w) => stateMachineName.startsWith(`${w.id}StateMachine`)) ??
    DR_WORKFLOWS.find((w) => w.role === 'failover')!;
  return path.basename(spec.file, '.asl.json');
}

/** Task state → the evidence name of its step, from the workflow the execution runs. */
function stepOfState(region: string, executionArn: string): Map<string, string> {
  const { stepOfTask } = loadWorkflow(workflowFileOf(executionArn), region);
  return new Map(
    [...stepOfTask].flatMap(([state, fn]) => {
      const step = STEP_FUNCTIONS[fn as StepFunctionName];
      return step ? [[state, step.name] as const] : [];
    }),
  );
}

async function watch(executionArn: string, intervalSeconds: number, io: CliIo): Promise<number> {
  const region = regionOfArn(executionArn);
  const sfn = io.sfn(region);
  const steps = stepOfState(region, executionArn);
  const approvalHint = `answer with: npm run dr -- approve --execution ${executionArn} --by <your name>  (or reject … --reason <why>)`;
  let lastId = 0;
  let described: DescribeExecutionCommandOutput;
  for (;;) {
    described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const events = await readHistory(sfn, executionArn);
    const started = described.startDate ?? events[0]?.timestamp ?? io.now();
    for (const line of progressLines(events, lastId, { stepOfState: steps, approvalHint })) {
      const seconds = ((line.at.getTime() - started.getTime()) / 1000).toFixed(1).padStart(7);
      io.err(`[dr ${seconds}s] ${line.text}\n`);
    }
    lastId = Math.max(lastId, ...events.map((e) => e.id!));
    if (described.status !== 'RUNNING') break;
    await io.sleep(intervalSeconds * 1000);
  }
  io.out(`${described.status}\n`);
  return described.status === 'SUCCEEDED' ? 0 : 1;
}

async function answer(
  command: Extract<CliCommand, { command: 'approve' | 'reject' }>,
  io: CliIo,
): Promise<number> {
  const executionArn = command.execution;
  const sfn = io.sfn(regionOfArn(executionArn));
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  if (described.status !== 'RUNNING') {
    throw new Error(
      `execution ${described.name ?? executionArn} is ${described.status}: there is no approval to answer`,
    );
  }
  const events = await readHistory(sfn, executionArn);
  const pending = findPendingApproval(events);
  if (!pending) {
    const at = events.filter((e) => e.type?.endsWith('StateEntered')).at(-1)?.stateEnteredEventDetails?.name;
    throw new Error(
      `execution ${described.name ?? executionArn} is not waiting for an approval${at ? ` (it is at ${at})` : ''}; try again when watch shows ⏸`,
    );
  }
  const run = pending.payload.run;
  io.err(
    `dr: ${command.command === 'approve' ? 'approving' : 'rejecting'} ${pending.state} of run ${run?.runId ?? described.name} (mode ${run?.mode ?? '?'}, into ${run?.targetRegion ?? '?'}), asked at ${pending.scheduledAt.toISOString()}\n`,
  );
  if (command.command === 'approve') {
    const decision = ApprovalDecisionSchema.parse({
      approved: true,
      approvedBy: command.by,
      at: io.now().toISOString(),
      ...(command.comment ? { comment: command.comment } : {}),
    });
    await sfn.send(
      new SendTaskSuccessCommand({ taskToken: pending.taskToken, output: JSON.stringify(decision) }),
    );
    io.err(`dr: approved by ${command.by}; trading resumes after the re-check\n`);
  } else {
    await sfn.send(
      new SendTaskFailureCommand({
        taskToken: pending.taskToken,
        error: APPROVAL_REJECTED_ERROR,
        cause: `${command.by}: ${command.reason}`,
      }),
    );
    io.err(`dr: rejected by ${command.by}; the run records the rejection and releases the lock\n`);
  }
  io.out(`${command.command === 'approve' ? 'APPROVED' : 'REJECTED'}\n`);
  return 0;
}

/** Execution statuses Step Functions can re-drive (and the only ones worth re-driving). */
const REDRIVABLE_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'];

/**
 * Re-drive a failed execution from its failed state (RedriveExecution), after checking that
 * Step Functions says it can be (status and redriveStatus from DescribeExecution). The
 * client token makes a repeated command within Step Functions' idempotency window one re-drive.
 */
async function redrive(command: Extract<CliCommand, { command: 'redrive' }>, io: CliIo): Promise<number> {
  const executionArn = command.execution;
  const sfn = io.sfn(regionOfArn(executionArn));
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const name = described.name ?? executionArn;
  if (!REDRIVABLE_STATUSES.includes(described.status ?? '')) {
    throw new Error(
      `execution ${name} is ${described.status}: only a FAILED, TIMED_OUT or ABORTED execution can be re-driven`,
    );
  }
  if (described.redriveStatus && described.redriveStatus !== 'REDRIVABLE') {
    throw new Error(
      `execution ${name} cannot be re-driven (${described.redriveStatus}${described.redriveStatusReason ? `: ${described.redriveStatusReason}` : ''})`,
    );
  }
  const previous = described.redriveCount ?? 0;
  const out = await sfn.send(
    new RedriveExecutionCommand({
      executionArn,
      clientToken: `dr-cli-redrive-${name}-${previous + 1}`.slice(0, 64),
    }),
  );
  io.out(`${executionArn}\n`);
  io.err(
    `dr: re-driving ${name} (was ${described.status}; re-drive ${previous + 1}) from ${out.redriveDate?.toISOString() ?? io.now().toISOString()}\n` +
      `    follow it:   npm run dr -- watch --execution ${executionArn}\n`,
  );
  return command.watch ? watch(executionArn, command.interval, io) : 0;
}
