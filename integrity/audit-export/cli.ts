import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { awsClientConfig } from '../../lambdas/shared/adapters/aws/clients';
import { DrError } from '../../lambdas/shared/errors';
import type { SandboxEndpoints } from '../../sandbox/endpoints';
import { KmsDataKeyProvider } from './data-keys';
import { InvalidInputError } from './errors';
import { exportAuditTables } from './export';
import { parseTables, parseWindow } from './tables';
import { parseManifestLocation, verifyAuditExport } from './verify';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_OUT = path.join(REPO_ROOT, 'reports', 'disaster-recovery', 'audit-exports');
const DEFAULT_KMS_ALIAS = 'alias/tradepulse-dr-evidence';

const USAGE = `usage:
  npm run audit-export -- export --table orders|fills|risk_events|all --from ISO --to ISO --pg-port N
                                 [--bucket NAME] [--out DIR] [options]
  npm run audit-export -- verify --manifest PATH|s3://BUCKET/KEY [--out FILE|DIR] [options]

export   Streams the rows of [from, to) of each table (time column: orders.created_at,
         fills.executed_at, risk_events.created_at) out of PostgreSQL as RFC 4180 CSV,
         encrypts it (AES-256-GCM, framed, under a fresh KMS data key per file), verifies it,
         and publishes <out>/<run-id>/ with the .csv.enc files, evidence.json (SHA-256 of
         plaintext and ciphertext, rows, key, encryption context) and manifest.json.
         With --bucket it is archived first to s3://BUCKET/disaster-recovery/audit-exports/<run-id>/
         under an Object Lock (COMPLIANCE) retention; manifest.json is written last.
  --table T          orders, fills, risk_events, all, or a comma-separated list
  --from / --to      ISO-8601 instants with Z or an offset (2026-01-31T09:30:00Z), or dates
                     (2026-01-31 = 00:00 UTC); the window is [from, to)
  --pg-port N        PostgreSQL port; a local sandbox listening there also supplies the AWS
                     endpoint, region and KMS key   --pg-host H (127.0.0.1) --pg-user U
                     (dr_operator) --pg-database D (tradepulse); password from PGPASSWORD
  --bucket NAME      the region's Object-Lock evidence bucket, e.g. tradepulse-dr-evidence-us-east-1
  --out DIR          local directory (default reports/disaster-recovery/audit-exports)
  --retention-days N COMPLIANCE retention (default 2555, about seven years)
  --run-id ID        name of the export (default audit-<UTC time>-<random>)

verify   Decrypts and verifies an export: the manifest against the files, the evidence record
         against the manifest, every data key with KMS Decrypt (the export's key and encryption
         context), every GCM frame, both SHA-256s and the row counts. With --out it writes the
         CSV (a file for one table, <DIR>/<table>.csv for several) under a temporary name,
         renamed only when everything verified; on any failure nothing is written.
  --manifest M       a local manifest.json, or s3://BUCKET/KEY[?versionId=V]
  --table T          verify only this table
  --out PATH         where to write the verified CSV (refuses to overwrite)

options for both
  --kms-key K        KMS key (ARN, id or alias): export generates data keys under it (default:
                     the sandbox's key, else ${DEFAULT_KMS_ALIAS}); verify decrypts under it
                     (default: the key the evidence names)
  --region R         AWS region (default: the sandbox region, the key ARN's region, or AWS_REGION)
  --aws-endpoint URL AWS endpoint override (default: the local sandbox's, else AWS)
  --port-base N      use the local sandbox with this port base for AWS (verify of s3:// manifests)
  --json             print the result as JSON

exit status: 0 done, 2 bad input, 3 verification failed (tampered, wrong key, manifest mismatch), 1 other`;

interface SandboxMatch {
  endpoints: SandboxEndpoints;
  region: string;
}

/** Running local sandboxes (their endpoints.json files). */
function localSandboxes(): SandboxEndpoints[] {
  const root = path.join(REPO_ROOT, '.sandbox');
  if (!fs.existsSync(root)) return [];
  const found: SandboxEndpoints[] = [];
  for (const name of fs.readdirSync(root)) {
    const file = path.join(root, name, 'endpoints.json');
    try {
      found.push(JSON.parse(fs.readFileSync(file, 'utf8')) as SandboxEndpoints);
    } catch {
      // not a sandbox, or not running
    }
  }
  return found;
}

function sandboxByPostgresPort(port: number): SandboxMatch | undefined {
  for (const endpoints of localSandboxes()) {
    if (endpoints.primary.postgres.port === port) return { endpoints, region: endpoints.primary.region };
    if (endpoints.secondary.postgres.port === port) return { endpoints, region: endpoints.secondary.region };
  }
  return undefined;
}

function sandboxByKmsKey(keyArn: string): SandboxMatch | undefined {
  for (const endpoints of localSandboxes())
    for (const [region, resources] of Object.entries(endpoints.aws.resources.regional))
      if (resources.kmsKeyArn === keyArn) return { endpoints, region };
  return undefined;
}

function sandboxByPortBase(portBase: number): SandboxMatch | undefined {
  const hit = localSandboxes().find((e) => e.primary.postgres.port === portBase);
  return hit ? { endpoints: hit, region: hit.primary.region } : undefined;
}

const regionOfArn = (arn: string | undefined) => /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(arn ?? '')?.[1];

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new InvalidInputError(`${flag} must be a whole number, not '${value}'`, { field: flag });
  return Number(value);
}

function awsClients(opts: {
  region: string | undefined;
  endpoint: string | undefined;
  sandbox?: SandboxMatch;
}) {
  const region =
    opts.region ?? opts.sandbox?.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region)
    throw new InvalidInputError(
      `no AWS region: pass --region${opts.sandbox ? '' : ' (no running local sandbox matched, so AWS itself would be used; pass --aws-endpoint for another endpoint)'}`,
      { field: 'region' },
    );
  const endpoint = opts.endpoint ?? opts.sandbox?.endpoints.aws.endpoint;
  const config = awsClientConfig({
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(opts.sandbox && !opts.endpoint ? { credentials: opts.sandbox.endpoints.aws.credentials } : {}),
    requestTimeoutMs: 60_000,
  });
  return {
    region,
    kms: new KMSClient(config),
    s3: new S3Client({ ...config, forcePathStyle: Boolean(endpoint) }),
  };
}

const shared = {
  'kms-key': { type: 'string' },
  region: { type: 'string' },
  'aws-endpoint': { type: 'string' },
  'port-base': { type: 'string' },
  out: { type: 'string' },
  table: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const say = (line: string) => process.stderr.write(`[audit-export] ${line}\n`);

async function runExport(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...shared,
      from: { type: 'string' },
      to: { type: 'string' },
      'pg-port': { type: 'string' },
      'pg-host': { type: 'string' },
      'pg-user': { type: 'string' },
      'pg-database': { type: 'string' },
      bucket: { type: 'string' },
      'retention-days': { type: 'string' },
      'run-id': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return void console.log(USAGE);
  if (values.table === undefined)
    throw new InvalidInputError('--table is required: orders, fills, risk_events or all', { field: 'table' });
  const tables = parseTables(values.table);
  const window = parseWindow(values.from, values.to);
  const pgPort = integer(values['pg-port'], '--pg-port');
  if (pgPort === undefined) throw new InvalidInputError('--pg-port is required', { field: 'pg-port' });
  const retentionDays = integer(values['retention-days'], '--retention-days');
  if (retentionDays !== undefined && retentionDays < 1)
    throw new InvalidInputError('--retention-days must be at least 1', { field: 'retention-days' });
  const portBase = integer(values['port-base'], '--port-base');
  const pgHost = values['pg-host'] ?? '127.0.0.1';
  const sandbox =
    portBase !== undefined
      ? sandboxByPortBase(portBase)
      : pgHost === '127.0.0.1' || pgHost === 'localhost'
        ? sandboxByPostgresPort(pgPort)
        : undefined;
  if (sandbox)
    say(`using the local sandbox's AWS endpoint ${sandbox.endpoints.aws.endpoint} (${sandbox.region})`);
  const aws = awsClients({ region: values.region, endpoint: values['aws-endpoint'], sandbox });
  const kmsKey =
    values['kms-key'] ??
    sandbox?.endpoints.aws.resources.regional[aws.region]?.kmsKeyArn ??
    DEFAULT_KMS_ALIAS;
  try {
    const result = await exportAuditTables({
      postgres: {
        host: pgHost,
        port: pgPort,
        user: values['pg-user'] ?? 'dr_operator',
        database: values['pg-database'] ?? 'tradepulse',
        connectionTimeoutMillis: 10_000,
      },
      tables,
      window,
      dataKeys: new KmsDataKeyProvider(aws.kms, kmsKey),
      outDir: values.out ?? DEFAULT_OUT,
      ...(values.bucket
        ? {
            archive: {
              s3: aws.s3,
              bucket: values.bucket,
              ...(retentionDays !== undefined ? { retentionDays } : {}),
            },
          }
        : {}),
      ...(values['run-id'] ? { runId: values['run-id'] } : {}),
      log: say,
    });
    if (!result.evidence.source.windowClosed)
      say(
        `warning: the window ends after the snapshot (${result.evidence.source.snapshot.takenAt}); rows may still arrive in it`,
      );
    if (values.json) return void console.log(JSON.stringify(result, null, 2));
    console.log(`export ${result.runId}: ${result.evidence.window.from} ≤ t < ${result.evidence.window.to}`);
    for (const t of result.evidence.tables)
      console.log(
        `  ${t.table.padEnd(12)} ${String(t.rows).padStart(9)} rows  plaintext ${t.plaintext.sha256}  ciphertext ${t.ciphertext.sha256}`,
      );
    console.log(`  local     ${result.dir}`);
    if (result.archive) {
      console.log(
        `  archived  s3://${result.archive.bucket}/${result.archive.manifestKey} (version ${result.archive.manifest.versionId ?? '-'}), COMPLIANCE until ${result.archive.manifest.retainUntil}`,
      );
      const multipart = Object.values(result.archive.objects).filter((o) => o.upload === 'multipart');
      if (multipart.length > 0)
        say(
          `${multipart.length} file(s) went up as multipart uploads; their retention was set with PutObjectRetention and read back (moto ignores lock headers on multipart uploads)`,
        );
    }
    console.log(`verify with: npm run audit-export -- verify --manifest ${result.manifestPath}`);
  } finally {
    aws.kms.destroy();
    aws.s3.destroy();
  }
}

async function runVerify(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { ...shared, manifest: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return void console.log(USAGE);
  if (!values.manifest) throw new InvalidInputError('--manifest is required', { field: 'manifest' });
  const tables = values.table !== undefined ? parseTables(values.table) : undefined;
  const portBase = integer(values['port-base'], '--port-base');

  // Which AWS endpoint: explicit, else the sandbox the export's KMS key belongs to, else AWS.
  let sandbox = portBase !== undefined ? sandboxByPortBase(portBase) : undefined;
  if (portBase !== undefined && !sandbox)
    throw new InvalidInputError(`no local sandbox runs with port base ${portBase}`, { field: 'port-base' });
  let keyArn: string | undefined;
  if (!values.manifest.startsWith('s3://')) {
    if (!fs.existsSync(values.manifest))
      throw new InvalidInputError(`manifest ${path.resolve(values.manifest)} does not exist`, {
        field: 'manifest',
      });
    try {
      const evidence = JSON.parse(
        fs.readFileSync(path.join(path.dirname(path.resolve(values.manifest)), 'evidence.json'), 'utf8'),
      ) as { tables?: { encryption?: { kmsKeyId?: string } }[] };
      keyArn = evidence.tables?.[0]?.encryption?.kmsKeyId;
    } catch {
      // verifyAuditExport reports a missing or broken evidence record properly
    }
    if (!sandbox && !values['aws-endpoint'] && keyArn) sandbox = sandboxByKmsKey(keyArn);
  }
  const region = values.region ?? regionOfArn(values['kms-key']) ?? regionOfArn(keyArn);
  if (sandbox && !values['aws-endpoint'])
    say(`using the local sandbox's AWS endpoint ${sandbox.endpoints.aws.endpoint}`);
  const aws = awsClients({ region, endpoint: values['aws-endpoint'], sandbox });
  try {
    const result = await verifyAuditExport({
      manifest: parseManifestLocation(values.manifest, aws.s3),
      dataKeys: new KmsDataKeyProvider(aws.kms, values['kms-key'] ?? DEFAULT_KMS_ALIAS),
      ...(values['kms-key'] ? { kmsKeyId: values['kms-key'] } : {}),
      ...(tables ? { tables } : {}),
      ...(values.out !== undefined ? { out: values.out } : {}),
      log: say,
    });
    if (values.json) return void console.log(JSON.stringify(result, null, 2));
    console.log(
      `verified export ${result.runId} (${result.window.from} ≤ t < ${result.window.to}) from ${result.manifest}`,
    );
    for (const t of result.tables)
      console.log(
        `  ${t.table.padEnd(12)} ${String(t.rows).padStart(9)} rows  plaintext ${t.plaintext.sha256}${t.output ? `  → ${t.output}` : ''}`,
      );
    if (result.locks) {
      const until = Object.values(result.locks)
        .map((l) => l.retainUntil ?? '')
        .sort()[0];
      console.log(
        `  all ${Object.keys(result.locks).length} object versions read are under Object Lock COMPLIANCE retention (earliest until ${until})`,
      );
    }
  } finally {
    aws.kms.destroy();
    aws.s3.destroy();
  }
}

const VERIFICATION_FAILURES = new Set([
  'AuditExportIntegrityError',
  'AuditExportKeyError',
  'ManifestMismatchError',
  'ManifestInvalidError',
]);

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'export') await runExport(rest);
    else if (command === 'verify') await runVerify(rest);
    else if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    } else throw new InvalidInputError(`unknown command '${command}': expected export or verify`, {});
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    const usageError = e.code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`error: ${usageError ? 'InvalidInputError' : e.name}: ${e.message}\n`);
    if (usageError || e.name === 'InvalidInputError') {
      process.stderr.write(`(npm run audit-export -- --help for usage)\n`);
      return 2;
    }
    if (VERIFICATION_FAILURES.has(e.name)) return 3;
    if (!(err instanceof DrError) && e.stack) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
