/**
 * The load generator's command-line flags: parsed with node:util and validated with
 * zod into LoadGeneratorOptions. Pure, so every bad flag has a tested message.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { defaultWriterId, type LoadGeneratorOptions } from './generator';

export const USAGE = `Usage: npm run loadgen -- [flags]

Submits orders, fills and risk events to PostgreSQL (and publishes them to Kafka),
journals every acknowledged write, prints progress on stderr every second and a JSON
summary on stdout at the end.

  --rate <n>               writes per second (default 50)
  --duration <s>           stop after this many seconds (default: run until Ctrl-C)
  --max-writes <n>         stop after this many writes
  --pg-host <host>         PostgreSQL host (default 127.0.0.1)
  --pg-port <port>         PostgreSQL port (required)
  --pg-database <name>     database (default tradepulse)
  --pg-user <role>         role (default tradepulse_app; pg reads PGPASSWORD if set)
  --kafka-brokers <list>   comma-separated host:port; omit for a PostgreSQL-only run
  --orders-topic <t>       (default orders)
  --fills-topic <t>        (default fills)
  --risk-events-topic <t>  (default risk_events)
  --journal <path>         journal of acknowledged writes (default reports/workload/<writer-id>.jsonl)
  --journal-sync <mode>    always | interval | close (default interval)
  --writer-id <id>         writer identity on rows, messages, journal (default loadgen-<time>-<random>)
  --seed <n>               workload seed (default derived from the writer id)
  --concurrency <n>        writes in flight at once (default 4)
  --mix <o:f:r>            relative weights of orders, fills, risk events (default 60:35:5)
  --write-deadline <s>     how long one write is retried before it counts as failed (default 900)
  --quiet                  no progress lines
  --verbose                also print every retry
  --help                   this text
`;

export interface CliOptions {
  generator: LoadGeneratorOptions;
  quiet: boolean;
  verbose: boolean;
}

export type CliParseResult =
  { ok: true; options: CliOptions } | { ok: true; help: true } | { ok: false; message: string };

const FLAGS = {
  rate: { type: 'string' },
  duration: { type: 'string' },
  'max-writes': { type: 'string' },
  'pg-host': { type: 'string' },
  'pg-port': { type: 'string' },
  'pg-database': { type: 'string' },
  'pg-user': { type: 'string' },
  'kafka-brokers': { type: 'string' },
  'orders-topic': { type: 'string' },
  'fills-topic': { type: 'string' },
  'risk-events-topic': { type: 'string' },
  journal: { type: 'string' },
  'journal-sync': { type: 'string' },
  'writer-id': { type: 'string' },
  seed: { type: 'string' },
  concurrency: { type: 'string' },
  mix: { type: 'string' },
  'write-deadline': { type: 'string' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

const num = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, `must be ${what}`)
    .transform(Number);
const int = (what: string) => z.string().trim().regex(/^\d+$/, `must be ${what}`).transform(Number);
const topic = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name (letters, digits, ".", "_", "-")');

const FlagsSchema = z.object({
  rate: num('a positive number of writes per second')
    .refine((n) => n > 0 && n <= 100_000, 'must be between 0 (exclusive) and 100000')
    .default(50),
  duration: num('a positive number of seconds')
    .refine((n) => n > 0, 'must be a positive number of seconds')
    .optional(),
  'max-writes': int('a positive integer')
    .refine((n) => n > 0, 'must be a positive integer')
    .optional(),
  'pg-host': z.string().min(1, 'must not be empty').default('127.0.0.1'),
  'pg-port': int('a TCP port number').refine(
    (n) => n >= 1 && n <= 65535,
    'must be a TCP port number (1-65535)',
  ),
  'pg-database': z.string().min(1, 'must not be empty').default('tradepulse'),
  'pg-user': z.string().min(1, 'must not be empty').default('tradepulse_app'),
  'kafka-brokers': z
    .string()
    .transform((s) => s.split(',').map((b) => b.trim()))
    .refine(
      (list) => list.length > 0 && list.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)),
      'must be a comma-separated list of host:port',
    )
    .optional(),
  'orders-topic': topic.default('orders'),
  'fills-topic': topic.default('fills'),
  'risk-events-topic': topic.default('risk_events'),
  journal: z.string().min(1, 'must not be empty').optional(),
  'journal-sync': z
    .enum(['always', 'interval', 'close'], { message: 'must be one of always, interval, close' })
    .default('interval'),
  'writer-id': z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,80}$/, 'must be 1-80 characters of letters, digits, ".", "_" or "-"')
    .optional(),
  seed: int('a non-negative integer').optional(),
  concurrency: int('a positive integer')
    .refine((n) => n >= 1 && n <= 256, 'must be between 1 and 256')
    .default(4),
  mix: z
    .string()
    .regex(
      /^\d+(\.\d+)?:\d+(\.\d+)?:\d+(\.\d+)?$/,
      'must be three weights order:fill:risk_event, e.g. 60:35:5',
    )
    .transform((s) => s.split(':').map(Number) as [number, number, number])
    .refine(([order]) => order > 0, 'the order weight must be positive (fills need orders)')
    .optional(),
  'write-deadline': num('a positive number of seconds')
    .refine((n) => n > 0, 'must be a positive number of seconds')
    .default(900),
  quiet: z.boolean().default(false),
  verbose: z.boolean().default(false),
});

/** Parses argv (without node and script); never throws, never exits. */
export function parseCliArgs(argv: string[], now = new Date()): CliParseResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    const e = err as { code?: string; message: string };
    const flag = /'([^']+)'/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      return { ok: false, message: `unknown flag ${flag ?? e.message}` };
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
      return { ok: false, message: `unexpected argument ${flag ?? ''}: every value needs its --flag` };
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      return {
        ok: false,
        message: `${(flag ?? '').split(' ')[0] || 'a flag'}: ${e.message.replace(/^Option '[^']+' /, '')}`,
      };
    return { ok: false, message: e.message };
  }
  if (values.help) return { ok: true, help: true };
  const parsed = FlagsSchema.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const flag = String(i.path[0] ?? '');
      const message = i.code === 'invalid_type' && values[flag] === undefined ? 'is required' : i.message;
      return `--${flag} ${message}`;
    });
    return { ok: false, message: problems.join('\n') };
  }
  const f = parsed.data;
  const writerId = f['writer-id'] ?? defaultWriterId(now);
  const generator: LoadGeneratorOptions = {
    postgres: { host: f['pg-host'], port: f['pg-port'], database: f['pg-database'], user: f['pg-user'] },
    kafka: f['kafka-brokers']
      ? {
          brokers: f['kafka-brokers'],
          topics: { order: f['orders-topic'], fill: f['fills-topic'], risk_event: f['risk-events-topic'] },
        }
      : null,
    journalPath: f.journal ?? path.join('reports', 'workload', `${writerId}.jsonl`),
    journal: { sync: f['journal-sync'] },
    ratePerSecond: f.rate,
    writerId,
    concurrency: f.concurrency,
    retry: { writeDeadlineMs: f['write-deadline'] * 1000 },
    ...(f.duration !== undefined ? { durationSeconds: f.duration } : {}),
    ...(f['max-writes'] !== undefined ? { maxWrites: f['max-writes'] } : {}),
    ...(f.seed !== undefined ? { seed: f.seed } : {}),
    ...(f.mix ? { mix: { order: f.mix[0], fill: f.mix[1], riskEvent: f.mix[2] } } : {}),
  };
  return { ok: true, options: { generator, quiet: f.quiet, verbose: f.verbose } };
}
