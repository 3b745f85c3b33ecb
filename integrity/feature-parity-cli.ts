/**
 * `npm run feature-parity -- --redis-port N --bucket B [--sandbox NAME | --endpoint URL] [--apply]`
 *
 * The operators' entry point to the FeatureParityCoordinator
 * (lambdas/shared/features/parity.ts). Exit status: 0 every view usable, 1 a view not
 * usable, 2 bad input or Redis / the bucket unreachable, 3 unexpected failure.
 */
import fs from 'node:fs';
import { CliInputError, writeAtomically } from './cli-output';
import { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { S3SnapshotSource } from '../lambdas/shared/adapters/redis/s3-snapshot-source';
import { DrError } from '../lambdas/shared/errors';
import { FeatureParityCoordinator, type FeatureParityReport } from '../lambdas/shared/features/parity';
import { defaultSandboxConfig } from '../sandbox/config';
import { readEndpoints, REPO_ROOT } from '../sandbox/sandbox';
import {
  FEATURE_PARITY_USAGE,
  parseFeatureParityArgs,
  type FeatureParityArgs,
} from './feature-parity-cli-args';

function s3For(args: FeatureParityArgs): { s3: S3Client; region: string } {
  if (args.sandbox) {
    let endpoints;
    try {
      endpoints = readEndpoints(defaultSandboxConfig(REPO_ROOT, args.sandbox));
    } catch (err) {
      throw new CliInputError(`--sandbox ${args.sandbox}: ${(err as Error).message}`);
    }
    const region = args.region ?? endpoints.secondary.region;
    return {
      region,
      s3: new S3Client({
        region,
        endpoint: endpoints.aws.endpoint,
        credentials: endpoints.aws.credentials,
        forcePathStyle: true,
        maxAttempts: 2,
      }),
    };
  }
  const region = args.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new CliInputError('--region is required (or AWS_REGION) without --sandbox');
  return {
    region,
    s3: new S3Client({
      region,
      maxAttempts: 2,
      ...(args.endpoint ? { endpoint: args.endpoint, forcePathStyle: true } : {}),
    }),
  };
}

async function connectRedis(args: FeatureParityArgs): Promise<Redis> {
  const redis = new Redis({
    host: args.redis.host,
    port: args.redis.port,
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  // The socket's error (ECONNREFUSED, …) is emitted as an event; the promise only says "closed".
  let socketError: Error | undefined;
  redis.on('error', (err: Error) => {
    socketError ??= err;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new CliInputError(
      `cannot reach Redis at ${args.redis.host}:${args.redis.port}: ${(socketError ?? (err as Error)).message}`,
    );
  }
  return redis;
}

/** Object-store failures that mean "wrong bucket, endpoint or credentials", named as such. */
function explainStoreError(err: unknown, args: FeatureParityArgs, region: string): Error {
  const e = err as { name?: string; message?: string; code?: string };
  const message = e.message ?? String(err);
  const where = `s3://${args.bucket}/${args.prefix} (${region}${args.sandbox ? `, sandbox ${args.sandbox}` : args.endpoint ? `, ${args.endpoint}` : ''})`;
  if (e.name === 'NoSuchBucket') return new CliInputError(`bucket ${args.bucket} does not exist at ${where}`);
  if (e.name === 'SnapshotNotFoundError') return new CliInputError(message);
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT/.test(message) || e.code === 'ECONNREFUSED')
    return new CliInputError(`cannot reach the object store for ${where}: ${message}`);
  if (
    ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'CredentialsProviderError'].includes(
      e.name ?? '',
    )
  )
    return new CliInputError(`${where}: ${e.name}: ${message}`);
  return err instanceof Error ? err : new Error(message);
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toPrecision(6).replace(/\.?0+(e|$)/, '$1'));

function formatParityReport(r: FeatureParityReport): string {
  const lines = [
    `Feature parity: snapshot ${r.snapshot.id} (${r.snapshot.records} records in ${r.snapshot.files} file(s), verified against its manifest; ${r.snapshot.location})`,
    `  checked at ${r.checkedAt}${r.applied ? '' : ' — report only (no --apply): nothing written'}`,
    '',
  ];
  for (const v of r.views) {
    const f = v.figures;
    const t = v.tolerance;
    lines.push(
      `${v.view}: ${v.decision.toUpperCase()} → ${v.action}${v.usable ? '' : ' (NOT USABLE by strategies)'}`,
      `  tolerance abs ${num(t.absoluteTolerance)}, rel ${num(t.relativeTolerance)}${t.timestampField ? `, ${t.timestampField} within ${num(t.clockSkewSeconds)} s` : ''}; value drift → ${t.onValueDrift}`,
      `  keys: ${f.keysOffline} in snapshot (${f.keysExpiredOffline} expired), ${f.keysOnline} online, ${f.keysCompared} compared, ${f.missingKeys} missing, ${f.extraKeys} extra`,
      `  values: ${f.fieldsCompared} fields (${f.numericFieldsCompared} numeric), ${f.mismatches} mismatches; max abs dev ${num(f.maxAbsDeviation)}, max rel dev ${num(f.maxRelDeviation)}, max skew ${num(f.maxSkewSeconds)} s`,
      `  ${v.reason}`,
    );
    for (const m of f.samples.mismatches.slice(0, 5))
      lines.push(
        `    ${m.kind} ${m.key}${m.field ? ` ${m.field}` : ''}: snapshot ${m.offline ?? '—'}, online ${m.online ?? '—'}`,
      );
    if (f.samples.missingKeys.length > 0)
      lines.push(`    missing e.g. ${f.samples.missingKeys.slice(0, 5).join(', ')}`);
    if (f.samples.extraKeys.length > 0)
      lines.push(`    extra e.g. ${f.samples.extraKeys.slice(0, 5).join(', ')}`);
    if (v.rebuild)
      lines.push(
        `  rebuild: ${v.rebuild.keysWritten} keys re-hydrated, ${v.rebuild.keysDeleted} extra keys deleted; ${v.rebuild.error ? `failed: ${v.rebuild.error}` : v.rebuild.consistent ? 'consistent afterwards' : 'still inconsistent'}`,
      );
    if (v.quarantine)
      lines.push(
        `  quarantine ${v.quarantine.setNow ? 'set' : v.action === 'would-quarantine' ? 'would be set' : 'in place'}: ${v.quarantine.key} (since ${v.quarantine.marker.since || 'unknown'})`,
      );
    if (v.quarantineLifted) lines.push(`  quarantine lifted`);
    lines.push('');
  }
  if (r.unassignedOfflineRecords > 0)
    lines.push(
      `${r.unassignedOfflineRecords} snapshot record(s) belong to no configured view (not compared)`,
    );
  lines.push(
    r.allUsable ? 'RESULT: every feature view is usable' : 'RESULT: some feature views are NOT usable',
  );
  return `${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseFeatureParityArgs(argv, (file) => fs.readFileSync(file, 'utf8'));
  if (!parsed.ok) {
    process.stderr.write(
      `feature-parity: ${parsed.message.split('\n').join('\nfeature-parity: ')}\n\n${FEATURE_PARITY_USAGE}\n`,
    );
    return 2;
  }
  if ('help' in parsed) {
    process.stdout.write(`${FEATURE_PARITY_USAGE}\n`);
    return 0;
  }
  const args = parsed.args;
  const { s3, region } = s3For(args);
  const redis = await connectRedis(args);
  try {
    const report = await new FeatureParityCoordinator({
      redis,
      snapshots: new S3SnapshotSource({ s3, bucket: args.bucket, prefix: args.prefix }),
      views: args.views,
      apply: args.apply,
      liftQuarantine: args.liftQuarantine,
      ...(args.snapshot ? { snapshotId: args.snapshot } : {}),
    })
      .run()
      .catch((err: unknown) => {
        throw explainStoreError(err, args, region);
      });
    const json = JSON.stringify(report, null, 2);
    if (args.out) writeAtomically(args.out, `${json}\n`);
    process.stdout.write(args.json ? `${json}\n` : formatParityReport(report));
    return report.allUsable ? 0 : 1;
  } finally {
    redis.disconnect();
    s3.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Bad input, and a snapshot that does not verify or views that are not valid, exit 2.
    const input = err instanceof CliInputError || err instanceof DrError;
    process.stderr.write(
      `feature-parity: ${input ? '' : 'failed: '}${(err as Error).message ?? String(err)}\n`,
    );
    process.exitCode = input ? 2 : 3;
  },
);
