import os from 'node:os';
import path from 'node:path';
import { createAwsClients, type AwsClients } from '../../lambdas/shared/adapters/aws/clients';
import { DrError } from '../../lambdas/shared/errors';
import { ManifestMismatchError } from '../../lambdas/shared/manifest';
import { defaultSandboxConfig } from '../../sandbox/config';
import { readEndpoints, REPO_ROOT } from '../../sandbox/sandbox';
import { parseCliArgs, USAGE, UsageError, type Connection } from './cli-args';
import { syncManifest, verifyManifestInBucket } from './engine';
import { FileSyncJournal } from './journal';
import { LocalDirSyncSource, S3SyncSource } from './object-store';
import { silentSyncProgress, terminalSyncProgress } from './progress';

/** `npm run data-sync -- sync|verify …`: the runbook's resilient_data_sync as a command. */

function clientsFor(region: string, conn: Connection): AwsClients {
  if (conn.sandbox) {
    const endpoints = readEndpoints(defaultSandboxConfig(REPO_ROOT, conn.sandbox));
    return createAwsClients({
      region,
      endpoint: endpoints.aws.endpoint,
      credentials: endpoints.aws.credentials,
      requestTimeoutMs: 120_000,
    });
  }
  return createAwsClients({
    region,
    ...(conn.endpoint ? { endpoint: conn.endpoint } : {}),
    requestTimeoutMs: 120_000,
  });
}

function describeError(err: unknown): string {
  if (err instanceof ManifestMismatchError)
    return [
      `${err.name}: ${err.message}`,
      ...err.mismatches.map(
        (m) =>
          `  - ${m.path}: ${m.problem}${m.part !== undefined ? ` (part ${m.part})` : ''}${m.expected !== undefined ? ` expected ${m.expected}` : ''}${m.actual !== undefined ? ` found ${m.actual}` : ''}${m.detail ? ` (${m.detail})` : ''}`,
      ),
    ].join('\n');
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const opened: AwsClients[] = [];
  const clients = (region: string) => {
    const c = clientsFor(region, args);
    opened.push(c);
    return c;
  };
  const progress = args.quiet ? silentSyncProgress() : terminalSyncProgress();
  try {
    if (args.command === 'verify') {
      const report = await verifyManifestInBucket({
        s3: clients(args.region).s3,
        bucket: args.bucket,
        manifestKey: args.manifest,
        progress,
      });
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      process.stderr.write(
        `[data-sync] ✓ ${report.files.length} file(s) of s3://${args.bucket}/${args.manifest} verified\n`,
      );
      return 0;
    }
    const source = args.fromDir
      ? new LocalDirSyncSource(args.fromDir)
      : new S3SyncSource(clients(args.fromRegion!).s3, args.bucketFrom!, args.prefix);
    const result = await syncManifest({
      source,
      target: { s3: clients(args.toRegion).s3, bucket: args.bucketTo, prefix: args.toPrefix },
      manifestName: args.manifestName,
      partSize: args.partSize,
      concurrency: args.concurrency,
      journal: new FileSyncJournal(args.journalDir ?? path.join(os.tmpdir(), 'tradepulse-dr-sync-journal')),
      progress,
    });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(
      `[data-sync] ✓ ${result.status}: ${result.files.length} file(s), ${result.parts.sent} part(s) sent, ${result.parts.kept} kept, ${result.parts.resent} re-sent; manifest ${result.manifestWritten ? 'written' : 'already there'} at s3://${args.bucketTo}/${result.manifestKey}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`[data-sync] ✗ ${describeError(err)}\n`);
    if (
      err instanceof DrError &&
      Object.keys(err.details).length > 0 &&
      !(err instanceof ManifestMismatchError)
    )
      process.stderr.write(`${JSON.stringify(err.details)}\n`);
    return 1;
  } finally {
    for (const c of opened) c.destroy();
  }
}

process.exitCode = await main(process.argv.slice(2));
