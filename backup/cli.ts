import { parseArgs } from 'node:util';
import { BACKUP_KINDS, BackupKindSchema, type BackupKind } from '../lambdas/shared/backup/contracts';
import { drain } from '../lambdas/shared/backup/service';
import { executeStep } from '../lambdas/shared/step';
import { takeBackupsStep } from '../lambdas/take-backups/logic';
import { ensurePostgres } from '../sandbox/install';
import { silentProgress } from '../sandbox/progress';
import { sandboxBackups, sandboxByPortBase } from './sandbox-backups';
import { validateCommand } from './validate-cli';

const USAGE = `usage: npm run backup -- <take|list|verify|validate> [--port-base N] [options]

  take     take signed, envelope-encrypted backups on the local sandbox (TakeBackups step):
           PostgreSQL base backup of the paused standby, Redis RDB, Kafka consumer offsets
  list     list the complete backups (manifest present), newest first
  verify   verify a backup: manifest signature, every object decrypted and checked
  validate run the backup-validation workflow: restore into disposable targets, check, tear down,
           report (npm run backup -- validate --help)

  --port-base N     the sandbox to use (its first port; default 25400)
  --kind K          postgres | redis | kafka-offsets (take: repeatable, default all; verify: required)
  --backup-set ID   take: the backup set id (re-running it is idempotent), e.g. 20261127T043000123Z-1a2b3c4d
  --backup-id ID    verify: the backup (default: the latest of --kind)
  --region R        the region whose evidence bucket and KMS keys hold the backups (default: the secondary)
  --json            machine-readable output

exit status: 0 done, 2 bad input, 3 a backup failed or did not verify, 1 other`;

class UsageError extends Error {}

function parse(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'port-base': { type: 'string' },
        kind: { type: 'string', multiple: true },
        'backup-set': { type: 'string' },
        'backup-id': { type: 'string' },
        region: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true as const };
  const [command, ...rest] = positionals;
  if (!command || !['take', 'list', 'verify'].includes(command))
    throw new UsageError(command ? `unknown command '${command}'` : 'a command is required');
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}': every value needs its --flag`);
  const portBaseText = values['port-base'] ?? '25400';
  if (!/^\d+$/.test(portBaseText))
    throw new UsageError(`--port-base must be a whole number, not '${portBaseText}'`);
  const kinds = (values.kind ?? []).map((k) => {
    const r = BackupKindSchema.safeParse(k);
    if (!r.success) throw new UsageError(`--kind must be one of ${BACKUP_KINDS.join(', ')}, not '${k}'`);
    return r.data;
  });
  if (command === 'verify' && kinds.length !== 1) throw new UsageError('verify needs exactly one --kind');
  for (const flag of ['backup-set', 'backup-id', 'region'] as const)
    if (values[flag] !== undefined && values[flag].trim() === '')
      throw new UsageError(`--${flag} must not be empty`);
  return {
    help: false as const,
    command: command as 'take' | 'list' | 'verify',
    portBase: Number(portBaseText),
    kinds,
    backupSet: values['backup-set'],
    backupId: values['backup-id'],
    region: values.region,
    json: values.json === true,
  };
}

async function main(argv: string[]): Promise<number> {
  // validate: the backup-validation workflow on the sandbox (backup/validate-cli.ts).
  if (argv[0] === 'validate') return validateCommand(argv.slice(1));
  let args;
  try {
    args = parse(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const endpoints = sandboxByPortBase(args.portBase);
  if (!endpoints) {
    process.stderr.write(
      `error: no running sandbox with port base ${args.portBase} (start one: npm run sandbox -- up --port-base ${args.portBase})\n`,
    );
    return 2;
  }
  if (args.region && !endpoints.aws.resources.regional[args.region]) {
    process.stderr.write(`error: --region ${args.region} is not one of the sandbox's regions\n`);
    return 2;
  }
  const out = (human: string, json: unknown) =>
    process.stdout.write(args.json ? `${JSON.stringify(json, null, 2)}\n` : `${human}\n`);
  const pgBinDir = args.command === 'take' ? (await ensurePostgres(silentProgress)).bindir : undefined;
  const backups = sandboxBackups(endpoints, {
    ...(pgBinDir ? { pgBinDir } : {}),
    ...(args.region ? { region: args.region } : {}),
  });
  try {
    if (args.command === 'take') {
      const input = {
        ...(args.backupSet ? { backupSetId: args.backupSet } : {}),
        ...(args.kinds.length > 0 ? { kinds: args.kinds } : {}),
      };
      const result = await executeStep(takeBackupsStep, input, { backupWriter: backups.taker });
      const lines = [
        `backup set ${result.result.backupSetId} in s3://${backups.service.env.bucket} (${backups.service.env.region}): ${result.evidence.action}, ${result.evidence.durationMs} ms`,
        ...result.evidence.changes.map((c) => `  ${c}`),
        ...Object.entries(result.result.backups).map(
          ([k, b]) => `  ${k}: ${b.backupId}${b.created ? '' : ' (already complete)'}`,
        ),
      ];
      out(lines.join('\n'), result);
      return 0;
    }
    if (args.command === 'list') {
      const kinds: BackupKind[] = args.kinds.length > 0 ? args.kinds : [...BACKUP_KINDS];
      const all = (await Promise.all(kinds.map((k) => backups.service.listBackups(k)))).flat();
      out(
        all.map((b) => `${b.kind.padEnd(14)} ${b.backupId}  ${b.manifestKey}`).join('\n') || 'no backups',
        all,
      );
      return 0;
    }
    const kind = args.kinds[0]!;
    const backupId = args.backupId ?? (await backups.service.latestBackup(kind))?.backupId;
    if (!backupId) {
      process.stderr.write(`error: there is no ${kind} backup\n`);
      return 3;
    }
    const verified = await backups.service.loadVerifiedManifest({ kind, backupId });
    const objects = [];
    for (const o of verified.manifest.objects) {
      const t = performance.now();
      await drain(await backups.service.openVerifiedArchiveStream(verified.manifest, o.name));
      objects.push({ name: o.name, bytes: o.bytes, sha256: o.sha256, ms: Math.round(performance.now() - t) });
    }
    out(
      [
        `${kind} backup ${backupId}: signature verified (manifest SHA-256 ${verified.manifestSha256})`,
        ...objects.map(
          (o) => `  ${o.name}: ${o.bytes} bytes decrypted, SHA-256 ${o.sha256} matches (${o.ms} ms)`,
        ),
      ].join('\n'),
      { backupId, manifestKey: verified.manifestKey, manifestSha256: verified.manifestSha256, objects },
    );
    return 0;
  } catch (err) {
    const e = err as Error & { details?: Record<string, unknown> };
    process.stderr.write(`error: ${e.name}: ${e.message}\n`);
    if (e.name === 'InvalidInputError') return 2;
    return /^Backup/.test(e.name) ? 3 : 1;
  } finally {
    backups.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
