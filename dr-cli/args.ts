import { parseArgs } from 'node:util';
import * as z from 'zod';

/**
 * The drill CLI's commands and flags, validated with zod; every error names the flag
 * (`--state-machine: must be …`). Parsing is pure: reading the input file and calling AWS
 * happen in commands.ts.
 */

export const USAGE = `usage: npm run dr -- <command> [flags]

Operate a deployed failover orchestrator (the stack in the region you fail over INTO).

  start   --region R --state-machine ARN --input FILE [--name NAME] [--dry-run] [--watch]
          Start an execution (StartExecution) with a name, which becomes the run id.
          FILE is an execution input such as events/drill-console.json; --dry-run runs it
          in mode dryRun (every step checks and reports, nothing changes).
  watch   --execution ARN [--interval SECONDS]
          Follow an execution state by state until it ends (DescribeExecution +
          GetExecutionHistory); exits 0 when it succeeded.
  approve --execution ARN --by NAME [--comment TEXT]
          Answer the waiting approval: resume trading (SendTaskSuccess).
  reject  --execution ARN --by NAME --reason TEXT
          Answer the waiting approval: do not resume (SendTaskFailure, error ApprovalRejected).
  redrive <execution ARN> [--watch] [--interval SECONDS]
          Re-drive a failed, timed-out or aborted execution from the state that failed
          (RedriveExecution): every step observes first, so what already happened is a
          recorded no-op. Also --execution ARN.

Credentials come from the usual AWS chain; approvers assume the stack's ApproverRoleArn.`;

export class UsageError extends Error {
  override name = 'UsageError';
}

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const region = z.string().regex(REGION, 'must be an AWS region name such as us-west-2');
const stateMachineArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/,
    'must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>), the stack output FailoverStateMachineArn',
  );
const executionArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9_-]{1,80}:[A-Za-z0-9_-]{1,80}$/,
    'must be an execution ARN (arn:aws:states:<region>:<account>:execution:<state machine>:<name>)',
  );
/** Execution names: what Step Functions accepts and what the run id (DynamoDB keys, S3 prefixes) may hold. */
const executionName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be 1 to 80 letters, digits, dashes or underscores');
const person = z.string().trim().min(1, 'must name who decides').max(200);
const seconds = z.coerce.number().min(1, 'must be at least 1 second').max(300, 'must be at most 300 seconds');

const StartFlags = z
  .object({
    region,
    'state-machine': stateMachineArn,
    input: z.string().min(1, 'must be a file such as events/drill-console.json'),
    name: executionName.optional(),
    'dry-run': z.boolean().default(false),
    watch: z.boolean().default(false),
    interval: seconds.default(5),
  })
  .strict();
const WatchFlags = z.object({ execution: executionArn, interval: seconds.default(5) }).strict();
const ApproveFlags = z
  .object({ execution: executionArn, by: person, comment: z.string().trim().min(1).max(2000).optional() })
  .strict();
const RedriveFlags = z
  .object({ execution: executionArn, watch: z.boolean().default(false), interval: seconds.default(5) })
  .strict();
const RejectFlags = z
  .object({
    execution: executionArn,
    by: person,
    reason: z.string().trim().min(1, 'must say why the approval is rejected').max(2000),
  })
  .strict();

export type CliCommand =
  | ({ command: 'start' } & z.infer<typeof StartFlags>)
  | ({ command: 'watch' } & z.infer<typeof WatchFlags>)
  | ({ command: 'approve' } & z.infer<typeof ApproveFlags>)
  | ({ command: 'reject' } & z.infer<typeof RejectFlags>)
  | ({ command: 'redrive' } & z.infer<typeof RedriveFlags>)
  | { command: 'help' };

const SCHEMAS = {
  start: StartFlags,
  watch: WatchFlags,
  approve: ApproveFlags,
  reject: RejectFlags,
  redrive: RedriveFlags,
} as const;
/** Commands that take their one ARN as a positional argument too (`redrive <execution ARN>`). */
const POSITIONAL_EXECUTION: readonly string[] = ['redrive'];
type CommandName = keyof typeof SCHEMAS;

const FLAG_TYPES = {
  region: { type: 'string' },
  'state-machine': { type: 'string' },
  input: { type: 'string' },
  name: { type: 'string' },
  'dry-run': { type: 'boolean' },
  watch: { type: 'boolean' },
  interval: { type: 'string' },
  execution: { type: 'string' },
  by: { type: 'string' },
  comment: { type: 'string' },
  reason: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `['start', '--region', 'us-west-2', …]` → a validated command, or UsageError naming the flag. */
export function parseCli(argv: readonly string[]): CliCommand {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  if (!(command in SCHEMAS)) {
    throw new UsageError(`unknown command '${command}' (expected start, watch, approve, reject or redrive)`);
  }
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...rest],
      options: FLAG_TYPES,
      strict: true,
      allowPositionals: POSITIONAL_EXECUTION.includes(command),
    }));
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message}`);
  }
  if (positionals.length > 0) {
    if (positionals.length > 1 || values.execution !== undefined)
      throw new UsageError(`${command}: give one execution ARN, as an argument or as --execution`);
    values = { ...values, execution: positionals[0] };
  }
  if (values.help) return { command: 'help' };
  const schema = SCHEMAS[command as CommandName];
  const result = schema.safeParse(values);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys')
        return issue.keys.map((k) => `--${k}: not a flag of '${command}'`).join('\n');
      const flag = issue.path.length > 0 ? `--${String(issue.path[0])}` : command;
      const message =
        issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
      return `${flag}: ${message}`;
    });
    throw new UsageError(`${command}: ${lines.join('\n')}`);
  }
  return { command, ...result.data } as CliCommand;
}

/** The region an ARN names (arn:aws:states:<region>:…). */
export function regionOfArn(arn: string): string {
  const region = arn.split(':')[3];
  if (!region || !REGION.test(region)) throw new UsageError(`'${arn}' names no region`);
  return region;
}
