/**
 * Flags of `npm run reconcile` (pure: every bad flag has a tested message).
 */
import { parsePort, readFlags } from './cli-flags';

export const RECONCILE_USAGE = `Usage:
  npm run reconcile -- --baseline <aggregates.json|manifest.json> --pg-port N [--journal file] [flags]
  npm run reconcile -- --capture <out.json> --pg-port N [flags]

Ledger reconciliation (runbook "Data Loss Mitigation & Validation"): the cluster's
aggregates over the canonical tables — per table, account, instrument and writer, every
balance and position — split at the baseline's horizon and compared exactly with it, and
with --journal every acknowledged write of the load generator looked up. Findings name
table, key range, expected and found; a missing acknowledged write or any discrepancy
within the snapshot is SEV-1, writes after the snapshot are expected.

--capture writes the cluster's aggregates as a baseline (to compare with later).
A manifest baseline carries the aggregates in metadata.ledgerAggregates.

  --baseline <file>        aggregates JSON, or a manifest carrying them
  --capture <file>         capture a baseline instead (written to a temporary name, then renamed)
  --pg-host <host>         PostgreSQL host (default 127.0.0.1)
  --pg-port <port>         PostgreSQL port (required)
  --pg-database <name>     database (default tradepulse)
  --pg-user <role>         role that reads every canonical table (default dr_operator; PGPASSWORD is used if set)
  --journal <file>         the load generator's journal of acknowledged writes (drills)
  --timeout <s>            bound on each statement (default 120)
  --out <file>             also write the full result as JSON
  --json                   print the full result as JSON instead of the text report
  --help                   this text

Exit status: 0 parity (no SEV-1; the baseline written with --capture), 1 SEV-1 findings,
2 bad input (flags, baseline, journal) or PostgreSQL unreachable, 3 unexpected failure.`;

export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  statementTimeoutMs: number;
}

export type ReconcileCommand =
  | {
      mode: 'reconcile';
      baseline: string;
      journal?: string;
      out?: string;
      json: boolean;
      target: PostgresTarget;
    }
  | { mode: 'capture'; capture: string; target: PostgresTarget; json: boolean };

export type ReconcileArgsResult =
  { ok: true; command: ReconcileCommand } | { ok: true; help: true } | { ok: false; message: string };

const FLAGS = {
  baseline: { type: 'string' },
  capture: { type: 'string' },
  'pg-host': { type: 'string' },
  'pg-port': { type: 'string' },
  'pg-database': { type: 'string' },
  'pg-user': { type: 'string' },
  journal: { type: 'string' },
  timeout: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

export function parseReconcileArgs(argv: string[]): ReconcileArgsResult {
  const flags = readFlags(argv, FLAGS);
  if ('message' in flags) return { ok: false, message: flags.message };
  if ('help' in flags) return { ok: true, help: true };
  const { values, problems, text } = flags;
  const baseline = text('baseline');
  const capture = text('capture');
  if (baseline === undefined && capture === undefined)
    problems.push('one of --baseline <file> (reconcile) or --capture <file> (take a baseline) is required');
  if (baseline !== undefined && capture !== undefined)
    problems.push(
      '--baseline and --capture exclude each other: reconcile against a baseline, or capture one',
    );
  if (capture !== undefined && values.journal !== undefined)
    problems.push('--journal only applies when reconciling (--baseline)');
  const port = parsePort(text('pg-port'), '--pg-port');
  if (typeof port === 'string') problems.push(port);
  let timeoutSeconds = 120;
  const timeout = text('timeout');
  if (timeout !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(timeout.trim()) || Number(timeout) <= 0)
      problems.push(`--timeout must be a positive number of seconds, got '${timeout}'`);
    else timeoutSeconds = Number(timeout);
  }
  const target: PostgresTarget = {
    host: text('pg-host') ?? '127.0.0.1',
    port: typeof port === 'number' ? port : 0,
    database: text('pg-database') ?? 'tradepulse',
    user: text('pg-user') ?? 'dr_operator',
    statementTimeoutMs: Math.round(timeoutSeconds * 1000),
  };
  const journal = text('journal');
  const out = text('out');
  if (problems.length > 0) return { ok: false, message: problems.join('\n') };
  const json = values.json === true;
  if (capture !== undefined) return { ok: true, command: { mode: 'capture', capture, target, json } };
  return {
    ok: true,
    command: {
      mode: 'reconcile',
      baseline: baseline!,
      target,
      json,
      ...(journal !== undefined ? { journal } : {}),
      ...(out !== undefined ? { out } : {}),
    },
  };
}
