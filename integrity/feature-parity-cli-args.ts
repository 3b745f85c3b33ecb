/**
 * Flags of `npm run feature-parity` (pure: every bad flag and view spec has a tested message).
 */
import * as z from 'zod';
import type { FeatureViewSpec } from '../lambdas/shared/features/compare';
import { DEFAULT_FEATURE_VIEWS } from '../lambdas/shared/features/parity';
import { FEATURE_SNAPSHOT_PREFIX } from '../lambdas/shared/feature-snapshot';
import { formatIssues } from '../lambdas/shared/topology';
import { parsePort, readFlags } from './cli-flags';

export const FEATURE_PARITY_USAGE = `Usage:
  npm run feature-parity -- --redis-port N --bucket B [--sandbox NAME | --endpoint URL] [flags]

Compares the offline feature snapshot (object storage, verified against its manifest)
with the online store (Redis) per feature view, and decides per view: consistent,
rebuild (re-hydrate the view from the snapshot) or quarantine (key
feature-view:<view>:quarantined, which strategies must check). Without --apply nothing
is written: the report says what would be done.

  --redis-port <port>      the online store (required)
  --redis-host <host>      (default 127.0.0.1)
  --bucket <name>          bucket holding the snapshots (required)
  --prefix <p>             snapshot prefix (default ${FEATURE_SNAPSHOT_PREFIX})
  --snapshot <id>          snapshot id (default: the latest complete one)
  --region <r>             the bucket's region (default: the sandbox's secondary region, else AWS_REGION)
  --sandbox <name>         use the running local sandbox NAME's S3 endpoint and credentials
  --endpoint <url>         S3 endpoint override (credentials from the SDK's default chain)
  --view <spec>            a view and its tolerances, repeatable:
                             <prefix>[,abs=<n>][,rel=<n>][,ts=<field>][,skew=<seconds>][,drift=quarantine|rebuild]
                           e.g. --view feature:instrument,rel=1e-6,ts=asOf,skew=5
  --views <file.json>      the views as a JSON array of {view, absoluteTolerance, relativeTolerance,
                           timestampField, clockSkewSeconds, onValueDrift}
                           (default: ${DEFAULT_FEATURE_VIEWS.map((v) => v.view).join(', ')})
  --apply                  rebuild and quarantine
  --lift-quarantine        with --apply: lift the quarantine of views that are consistent now
  --out <file>             also write the report as JSON
  --json                   print the report as JSON instead of text
  --help                   this text

Exit status: 0 every view usable, 1 a view not usable (quarantined, or to rebuild without
--apply), 2 bad input, Redis or the bucket unreachable, or a snapshot that does not verify
against its manifest (nothing compared, nothing written), 3 unexpected failure.`;

export interface FeatureParityArgs {
  redis: { host: string; port: number };
  bucket: string;
  prefix: string;
  snapshot?: string;
  region?: string;
  sandbox?: string;
  endpoint?: string;
  views: FeatureViewSpec[];
  apply: boolean;
  liftQuarantine: boolean;
  json: boolean;
  out?: string;
}

export type FeatureParityArgsResult =
  { ok: true; args: FeatureParityArgs } | { ok: true; help: true } | { ok: false; message: string };

const FLAGS = {
  'redis-port': { type: 'string' },
  'redis-host': { type: 'string' },
  bucket: { type: 'string' },
  prefix: { type: 'string' },
  snapshot: { type: 'string' },
  region: { type: 'string' },
  sandbox: { type: 'string' },
  endpoint: { type: 'string' },
  view: { type: 'string', multiple: true },
  views: { type: 'string' },
  apply: { type: 'boolean' },
  'lift-quarantine': { type: 'boolean' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

const tolerance = z.number().finite().nonnegative();
export const FeatureViewSpecSchema = z
  .object({
    view: z
      .string()
      .min(1)
      .regex(
        /^[^\s]*[^\s:]$/,
        'must be a key prefix without spaces or a trailing colon, e.g. feature:instrument',
      ),
    absoluteTolerance: tolerance.optional(),
    relativeTolerance: tolerance.optional(),
    timestampField: z.string().min(1).optional(),
    clockSkewSeconds: tolerance.optional(),
    onValueDrift: z.enum(['quarantine', 'rebuild']).optional(),
  })
  .strict();

const SPEC_KEYS: Record<string, keyof FeatureViewSpec> = {
  abs: 'absoluteTolerance',
  rel: 'relativeTolerance',
  ts: 'timestampField',
  skew: 'clockSkewSeconds',
  drift: 'onValueDrift',
};

/** `feature:instrument,rel=1e-6,ts=asOf,skew=5` → a view spec, or a message naming what is wrong. */
export function parseViewSpec(text: string): FeatureViewSpec | string {
  const [view = '', ...options] = text.split(',').map((s) => s.trim());
  const spec: Record<string, unknown> = { view };
  for (const option of options) {
    const eq = option.indexOf('=');
    const name = eq < 0 ? option : option.slice(0, eq);
    const value = eq < 0 ? '' : option.slice(eq + 1);
    const field = SPEC_KEYS[name];
    if (!field) return `--view ${text}: unknown option '${name}' (use ${Object.keys(SPEC_KEYS).join(', ')})`;
    if (value === '') return `--view ${text}: ${name} needs a value (${name}=…)`;
    if (field === 'timestampField' || field === 'onValueDrift') spec[field] = value;
    else {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0 || !/^[\d.eE+-]+$/.test(value))
        return `--view ${text}: ${name} must be a number ≥ 0, got '${value}'`;
      spec[field] = n;
    }
  }
  const parsed = FeatureViewSpecSchema.safeParse(spec);
  if (!parsed.success) return `--view ${text}:\n${formatIssues(parsed.error.issues)}`;
  return parsed.data;
}

/** A --views file's JSON: an array of view specs. */
export function parseViewsJson(text: string, source: string): FeatureViewSpec[] | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return `${source} is not JSON: ${(err as Error).message}`;
  }
  const parsed = z.array(FeatureViewSpecSchema).min(1, 'must list at least one view').safeParse(json);
  if (!parsed.success)
    return `${source} is not a list of feature views:\n${formatIssues(parsed.error.issues)}`;
  return parsed.data;
}

/** Parses argv; `readFile` reads --views (injected so this stays pure). */
export function parseFeatureParityArgs(
  argv: string[],
  readFile: (file: string) => string,
): FeatureParityArgsResult {
  const flags = readFlags(argv, FLAGS);
  if ('message' in flags) return { ok: false, message: flags.message };
  if ('help' in flags) return { ok: true, help: true };
  const { values, problems, text } = flags;
  const port = parsePort(text('redis-port'), '--redis-port');
  if (typeof port === 'string') problems.push(port);
  const bucket = text('bucket');
  if (bucket === undefined) problems.push('--bucket is required');
  const sandbox = text('sandbox');
  const endpoint = text('endpoint');
  if (sandbox !== undefined && endpoint !== undefined)
    problems.push('--sandbox and --endpoint exclude each other');
  if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint))
    problems.push(`--endpoint must be an http(s) URL, got '${endpoint}'`);
  if (values['lift-quarantine'] && !values.apply) problems.push('--lift-quarantine needs --apply');
  let views: FeatureViewSpec[] = [...DEFAULT_FEATURE_VIEWS];
  const viewFlags = (values.view as string[] | undefined) ?? [];
  const viewsFile = text('views');
  if (viewFlags.length > 0 && viewsFile !== undefined) problems.push('--view and --views exclude each other');
  else if (viewFlags.length > 0) {
    views = [];
    for (const flag of viewFlags) {
      const spec = parseViewSpec(flag);
      if (typeof spec === 'string') problems.push(spec);
      else views.push(spec);
    }
  } else if (viewsFile !== undefined) {
    let content: string | undefined;
    try {
      content = readFile(viewsFile);
    } catch (err) {
      problems.push(`cannot read --views ${viewsFile}: ${(err as Error).message}`);
    }
    if (content !== undefined) {
      const parsed = parseViewsJson(content, `--views ${viewsFile}`);
      if (typeof parsed === 'string') problems.push(parsed);
      else views = parsed;
    }
  }
  const names = views.map((v) => v.view);
  const twice = names.filter((v, i) => names.indexOf(v) !== i);
  if (twice.length > 0) problems.push(`feature view ${twice[0]} is listed twice`);
  if (problems.length > 0) return { ok: false, message: problems.join('\n') };
  const snapshot = text('snapshot');
  const region = text('region');
  const out = text('out');
  return {
    ok: true,
    args: {
      redis: { host: text('redis-host') ?? '127.0.0.1', port: port as number },
      bucket: bucket!,
      prefix: text('prefix') ?? FEATURE_SNAPSHOT_PREFIX,
      views,
      apply: values.apply === true,
      liftQuarantine: values['lift-quarantine'] === true,
      json: values.json === true,
      ...(snapshot !== undefined ? { snapshot } : {}),
      ...(region !== undefined ? { region } : {}),
      ...(sandbox !== undefined ? { sandbox } : {}),
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(out !== undefined ? { out } : {}),
    },
  };
}
