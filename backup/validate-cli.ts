import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BACKUP_ID_PATTERN } from '../lambdas/shared/backup/contracts';
import type { ProgressEvent } from '../local-runner/run-workflow';
import { defaultSandboxConfig, type SandboxConfig } from '../sandbox/config';
import type { SandboxEndpoints } from '../sandbox/endpoints';
import { REPO_ROOT } from '../sandbox/sandbox';
import { runBackupValidation } from './validate';

export const VALIDATE_USAGE = `usage: npm run backup -- validate [--port-base N] [--store S]... [--backup ID]... [--input FILE] [--region R] [--json]

  validate  run state-machines/backup-validation.asl.json on the local sandbox: select the latest
            backups (or the ones named), refuse unverifiable or stale ones, restore them into
            disposable targets, check them, tear down, and write the evidence report to
            reports/backup-validation/<run-id>/report.json

  --port-base N   the sandbox to use (its first port; default 25400)
  --store S       postgres | redis | kafka (repeatable; default all)
  --backup ID     validate this backup instead of the latest of its kind (repeatable, e.g. postgres-2026…)
  --input FILE    the execution input as JSON (as the schedule sends it); --store/--backup are added to it
  --region R      the region whose backups are validated (default: the secondary)
  --json          print the report as JSON

exit status: 0 the backups validated, 3 a validation failed (or the input was refused), 2 bad usage, 1 other`;

class UsageError extends Error {}

/** A running sandbox whose port base is `portBase`, with its config (the restore targets run under its supervisor). */
export function sandboxAtPortBase(
  portBase: number,
): { endpoints: SandboxEndpoints; config: SandboxConfig } | null {
  const root = path.join(REPO_ROOT, '.sandbox');
  if (!fs.existsSync(root)) return null;
  for (const name of fs.readdirSync(root)) {
    const file = path.join(root, name, 'endpoints.json');
    if (!fs.existsSync(file)) continue;
    try {
      const endpoints = JSON.parse(fs.readFileSync(file, 'utf8')) as SandboxEndpoints;
      if (endpoints.primary?.postgres?.port === portBase)
        return { endpoints, config: defaultSandboxConfig(REPO_ROOT, name, { portBase }) };
    } catch {
      // not a sandbox
    }
  }
  return null;
}

function parse(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        'port-base': { type: 'string' },
        store: { type: 'string', multiple: true },
        backup: { type: 'string', multiple: true },
        input: { type: 'string' },
        region: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values } = parsed;
  const portBaseText = values['port-base'] ?? '25400';
  if (!/^\d+$/.test(portBaseText))
    throw new UsageError(`--port-base must be a whole number, not '${portBaseText}'`);
  let input: Record<string, unknown> = { trigger: 'cli', requestedBy: process.env.USER ?? 'operator' };
  if (values.input) {
    try {
      const fromFile = JSON.parse(fs.readFileSync(values.input, 'utf8')) as unknown;
      if (!fromFile || typeof fromFile !== 'object' || Array.isArray(fromFile))
        throw new Error('it must be a JSON object');
      input = fromFile as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`--input ${values.input}: ${(err as Error).message}`);
    }
  }
  if (values.store) input.stores = values.store;
  if (values.backup) {
    const named: Record<string, string> = {};
    for (const id of values.backup) {
      if (!BACKUP_ID_PATTERN.test(id)) throw new UsageError(`--backup '${id}' is not a backup id`);
      named[id.startsWith('kafka-offsets-') ? 'kafka' : id.slice(0, id.indexOf('-'))] = id;
    }
    input.backups = named;
  }
  return {
    help: values.help === true,
    portBase: Number(portBaseText),
    input,
    region: values.region,
    json: values.json === true,
  };
}

function progressPrinter(started: number) {
  const stamp = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
  return (event: ProgressEvent) => {
    const { entry } = event;
    if (entry.type !== 'Task') return;
    if (event.kind === 'entered') process.stderr.write(`[validate ${stamp()}] ▶ ${entry.state}\n`);
    if (event.kind === 'exited')
      process.stderr.write(
        `[validate ${stamp()}] ✓ ${entry.state.padEnd(26)} ${entry.exitedAt ? entry.exitedAt - entry.enteredAt : 0} ms\n`,
      );
    if (event.kind === 'retried')
      process.stderr.write(`[validate ${stamp()}] ↻ ${entry.state} after ${entry.error}\n`);
    if (event.kind === 'caught' || event.kind === 'failed')
      process.stderr.write(
        `[validate ${stamp()}] ✗ ${entry.state} ${entry.error}: ${(entry.cause ?? '').slice(0, 300)}\n`,
      );
  };
}

/** `npm run backup -- validate …` */
export async function validateCommand(argv: string[]): Promise<number> {
  let args;
  try {
    args = parse(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n${VALIDATE_USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(`${VALIDATE_USAGE}\n`);
    return 0;
  }
  const sandbox = sandboxAtPortBase(args.portBase);
  if (!sandbox) {
    process.stderr.write(
      `error: no running sandbox with port base ${args.portBase} (start one: npm run sandbox -- up --port-base ${args.portBase})\n`,
    );
    return 2;
  }
  if (args.region && !sandbox.endpoints.aws.resources.regional[args.region]) {
    process.stderr.write(`error: --region ${args.region} is not one of the sandbox's regions\n`);
    return 2;
  }
  const run = await runBackupValidation({
    ...sandbox,
    input: args.input,
    ...(args.region ? { region: args.region } : {}),
    onProgress: progressPrinter(Date.now()),
  });
  if (args.json) process.stdout.write(`${JSON.stringify(run.report, null, 2)}\n`);
  else {
    const checks = (run.report?.checks ?? []) as { check: string; passed: boolean; reason: string }[];
    const lines = [
      `backup validation ${run.runId}: ${run.record?.outcome ?? run.execution.status}`,
      ...checks.map((c) => `  ${c.passed ? 'pass' : 'FAIL'}  ${c.check.padEnd(28)} ${c.reason}`),
      ...(run.record && run.record.outcome !== 'passed'
        ? run.record.reasons.map((r) => `  reason: ${r}`)
        : []),
      run.reportFile
        ? `report: ${path.relative(process.cwd(), run.reportFile)} (archived as ${run.record?.evidenceKey}, sha256 ${run.record?.sha256})`
        : `no report could be archived (${run.execution.error ?? 'unknown error'}: ${run.execution.cause ?? ''})`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return run.record?.outcome === 'passed' ? 0 : 3;
}
