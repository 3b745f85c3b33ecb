/**
 * `npm run reconcile -- --baseline <aggregates.json|manifest.json> --pg-port N [--journal file]`
 * `npm run reconcile -- --capture <out.json> --pg-port N`
 *
 * The operators' entry point to the ledger reconciliation the failover's reconcile-ledger
 * step runs (lambdas/shared/ledger/reconcile.ts). It only reads the database.
 * Exit status: 0 parity, 1 SEV-1 findings, 2 bad input or PostgreSQL unreachable, 3 unexpected failure.
 */
import fs from 'node:fs';
import { CliInputError, writeAtomically } from './cli-output';
import { journalFile } from '../drill/journal-source';
import type { LedgerAggregates } from '../lambdas/shared/adapters/contracts';
import { SelfManagedPostgresAdapter } from '../lambdas/shared/adapters/postgres';
import { InvalidBaselineError, parseLedgerBaseline } from '../lambdas/shared/ledger/baseline';
import {
  formatFindings,
  reconcileLedger,
  type LedgerReconciliation,
} from '../lambdas/shared/ledger/reconcile';
import { readJournal } from '../workload/journal';
import { parseReconcileArgs, RECONCILE_USAGE, type PostgresTarget } from './reconcile-cli-args';

const where = (t: PostgresTarget) => `PostgreSQL ${t.host}:${t.port}/${t.database} as ${t.user}`;

function adapterFor(t: PostgresTarget) {
  return new SelfManagedPostgresAdapter({
    connection: {
      host: t.host,
      port: t.port,
      database: t.database,
      operatorUser: t.user,
      operatorPassword: process.env.PGPASSWORD,
      applicationUser: t.user, // never used: reconciliation only reads
      statementTimeoutMs: t.statementTimeoutMs,
    },
  });
}

/** A connection or authentication failure says where it tried; any other error passes through. */
function explainPostgresError(err: unknown, t: PostgresTarget): Error {
  const e = err as { name?: string; message?: string; code?: string };
  const message = e.message ?? String(err);
  const unreachable =
    e.name === 'TransientError' ||
    /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|timeout expired|Connection terminated/.test(message);
  const refused = /password authentication|role .* does not exist|database .* does not exist|no pg_hba/.test(
    message,
  );
  if (unreachable) return new CliInputError(`cannot reach ${where(t)}: ${message}`);
  if (refused) return new CliInputError(`${where(t)} refused the session: ${message}`);
  if (/relation .* does not exist/.test(message))
    return new CliInputError(`${where(t)} does not have the canonical tables (${message}); wrong database?`);
  return err instanceof Error ? err : new Error(message);
}

function readBaseline(file: string): { aggregates: LedgerAggregates; from: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliInputError(`cannot read --baseline ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed = parseLedgerBaseline(text, `baseline ${file}`);
    return {
      aggregates: parsed.aggregates,
      from: parsed.from === 'manifest' ? `${parsed.manifestKind} manifest ${file}` : file,
    };
  } catch (err) {
    if (err instanceof InvalidBaselineError) throw new CliInputError(err.message);
    throw err;
  }
}

/** The journal must exist and hold load-generator entries; invalid and torn lines are reported. */
async function checkJournal(file: string): Promise<string[]> {
  if (!fs.existsSync(file)) throw new CliInputError(`--journal ${file} does not exist`);
  let entries = 0;
  const invalid: string[] = [];
  const warnings: string[] = [];
  for await (const record of readJournal(file)) {
    if (record.type === 'entry') entries += 1;
    else if (record.type === 'invalid') invalid.push(`line ${record.line}: ${record.reason}`);
    else warnings.push(`journal ${file}: torn last line ${record.line} (${record.bytes} bytes) not counted`);
  }
  if (entries === 0 && invalid.length > 0)
    throw new CliInputError(
      `--journal ${file} is not a load-generator journal: ${invalid.slice(0, 3).join('; ')}${invalid.length > 3 ? '; …' : ''}`,
    );
  if (invalid.length > 0)
    warnings.push(
      `journal ${file}: ${invalid.length} invalid line(s) not counted (${invalid.slice(0, 3).join('; ')})`,
    );
  return warnings;
}

function report(
  r: LedgerReconciliation,
  baseline: { aggregates: LedgerAggregates; from: string },
  t: PostgresTarget,
) {
  const lines = [
    `Ledger reconciliation of ${where(t)}`,
    `  baseline  ${baseline.from} (captured ${baseline.aggregates.capturedAt}, LSN ${baseline.aggregates.lsn ?? 'n/a'})`,
    `  cluster   read ${r.found.capturedAt} at LSN ${r.found.lsn ?? 'n/a'}`,
  ];
  if (r.journal)
    lines.push(
      `  journal   ${r.journal.acknowledged} acknowledged writes checked, ${r.journal.missing} missing`,
    );
  const after = r.found.horizon?.after.tables ?? {};
  const afterText = Object.entries(after)
    .filter(([, n]) => n > 0)
    .map(([table, n]) => `${table} +${n}`)
    .join(', ');
  lines.push(`  after the snapshot: ${afterText || 'nothing'}`);
  lines.push('');
  lines.push(...formatFindings(r.findings));
  if (r.findings.length > 0) lines.push('');
  const sev1 = r.findings.filter((f) => f.sev1).length;
  lines.push(
    r.sev1
      ? `RESULT: SEV-1 — ${sev1} finding(s): manual broker reconciliation is required before trading resumes`
      : `RESULT: parity — no SEV-1 finding${r.counts['write-after-snapshot'] > 0 ? ` (${r.counts['write-after-snapshot']} write(s) after the snapshot, expected)` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseReconcileArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(
      `reconcile: ${parsed.message.split('\n').join('\nreconcile: ')}\n\n${RECONCILE_USAGE}\n`,
    );
    return 2;
  }
  if ('help' in parsed) {
    process.stdout.write(`${RECONCILE_USAGE}\n`);
    return 0;
  }
  const command = parsed.command;
  const adapter = adapterFor(command.target);
  if (command.mode === 'capture') {
    const aggregates = await adapter.ledgerAggregates().catch((err: unknown) => {
      throw explainPostgresError(err, command.target);
    });
    writeAtomically(command.capture, `${JSON.stringify(aggregates, null, 2)}\n`);
    process.stderr.write(
      `reconcile: baseline of ${where(command.target)} captured at ${aggregates.capturedAt} (LSN ${aggregates.lsn ?? 'n/a'}) → ${command.capture}\n`,
    );
    if (command.json) process.stdout.write(`${JSON.stringify(aggregates, null, 2)}\n`);
    return 0;
  }
  const baseline = readBaseline(command.baseline);
  const warnings = command.journal ? await checkJournal(command.journal) : [];
  for (const w of warnings) process.stderr.write(`reconcile: warning: ${w}\n`);
  const result = await reconcileLedger({
    baseline: baseline.aggregates,
    target: adapter,
    journal: command.journal ? journalFile(command.journal) : null,
  }).catch((err: unknown) => {
    throw explainPostgresError(err, command.target);
  });
  const json = JSON.stringify(
    {
      parity: result.parity,
      sev1: result.sev1,
      counts: result.counts,
      findings: result.findings,
      journal: result.journal,
      baseline: {
        source: baseline.from,
        capturedAt: baseline.aggregates.capturedAt,
        lsn: baseline.aggregates.lsn,
      },
      found: result.found,
    },
    null,
    2,
  );
  if (command.out) writeAtomically(command.out, `${json}\n`);
  process.stdout.write(command.json ? `${json}\n` : report(result, baseline, command.target));
  return result.sev1 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const input = err instanceof CliInputError;
    process.stderr.write(`reconcile: ${input ? '' : 'failed: '}${(err as Error).message ?? String(err)}\n`);
    process.exitCode = input ? 2 : 3;
  },
);
