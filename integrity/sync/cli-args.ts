import { parseArgs } from 'node:util';
import { partSizeFromMiB, DEFAULT_PART_SIZE } from './part-plan';
import { DEFAULT_CONCURRENCY, DEFAULT_MANIFEST_NAME } from './engine';

export const USAGE = `usage:
  npm run data-sync -- sync --from-region R1 --to-region R2 --bucket-from B1 --bucket-to B2 --prefix P
                            [--to-prefix P2] [--part-size MiB] [--concurrency N] [--manifest-name NAME]
                            [--journal-dir DIR] [--endpoint URL | --sandbox NAME] [--quiet]
  npm run data-sync -- sync --from-dir DIR --to-region R2 --bucket-to B2 --prefix P [...]
  npm run data-sync -- verify --region R --bucket B --manifest KEY [--endpoint URL | --sandbox NAME]

sync    copies <P><manifest> and every file it lists from B1 (region R1) to B2 (region R2):
        multipart, resumable (run it again after an interruption), every part checked by
        SHA-256, every file verified on the target against the manifest, the manifest
        written last. Progress on stderr, the result as JSON on stdout.
verify  reads the manifest at KEY in B and checks every file it lists (size, SHA-256,
        part hashes); files are relative to the manifest's directory.

  --part-size MiB      part size when the manifest has no usable parts (default ${DEFAULT_PART_SIZE / 1024 / 1024}; 5 to 5120)
  --concurrency N      parts in flight (default ${DEFAULT_CONCURRENCY}); memory ≈ (N + 1) × part size
  --manifest-name      file name of the manifest under the prefix (default ${DEFAULT_MANIFEST_NAME})
  --journal-dir DIR    where the record of sent parts is kept for resuming (default: the OS temp dir)
  --endpoint URL       S3 endpoint override (credentials from the SDK's default chain)
  --sandbox NAME       use the running local sandbox NAME's S3 (moto) and credentials
  --quiet              no progress on stderr

exit status: 0 done and verified; 1 refused or failed (mismatch, missing file or bucket, …); 2 bad usage`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Connection {
  endpoint?: string;
  sandbox?: string;
}

export interface SyncArgs extends Connection {
  command: 'sync';
  fromRegion?: string;
  fromDir?: string;
  toRegion: string;
  bucketFrom?: string;
  bucketTo: string;
  prefix: string;
  toPrefix: string;
  partSize: number;
  concurrency: number;
  manifestName: string;
  journalDir?: string;
  quiet: boolean;
}

export interface VerifyArgs extends Connection {
  command: 'verify';
  region: string;
  bucket: string;
  manifest: string;
  quiet: boolean;
}

export type CliArgs = SyncArgs | VerifyArgs | { command: 'help' };

const OPTIONS = {
  'from-region': { type: 'string' },
  'to-region': { type: 'string' },
  'bucket-from': { type: 'string' },
  'bucket-to': { type: 'string' },
  'from-dir': { type: 'string' },
  prefix: { type: 'string' },
  'to-prefix': { type: 'string' },
  'part-size': { type: 'string' },
  concurrency: { type: 'string' },
  'manifest-name': { type: 'string' },
  'journal-dir': { type: 'string' },
  endpoint: { type: 'string' },
  sandbox: { type: 'string' },
  region: { type: 'string' },
  bucket: { type: 'string' },
  manifest: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function required(values: Record<string, unknown>, names: string[], command: string): void {
  const missing = names.filter((n) => typeof values[n] !== 'string' || values[n] === '');
  if (missing.length > 0)
    throw new UsageError(`${command}: missing ${missing.map((n) => `--${n}`).join(', ')}`);
}

function connection(values: { endpoint?: string; sandbox?: string }): Connection {
  if (values.endpoint && values.sandbox) throw new UsageError('give --endpoint or --sandbox, not both');
  if (values.endpoint) {
    let url: URL;
    try {
      url = new URL(values.endpoint);
    } catch {
      throw new UsageError(`--endpoint must be a URL, got '${values.endpoint}'`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new UsageError(`--endpoint must be http(s), got '${values.endpoint}'`);
  }
  return {
    ...(values.endpoint ? { endpoint: values.endpoint } : {}),
    ...(values.sandbox ? { sandbox: values.sandbox } : {}),
  };
}

export function parseCliArgs(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return { command: 'help' };
  if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  const command = positionals[0];
  if (command === 'verify') {
    required(values, ['region', 'bucket', 'manifest'], 'verify');
    return {
      command,
      region: values.region!,
      bucket: values.bucket!,
      manifest: values.manifest!,
      quiet: Boolean(values.quiet),
      ...connection(values),
    };
  }
  if (command !== 'sync') throw new UsageError(`unknown command '${command}' (sync or verify)`);
  required(values, ['to-region', 'bucket-to'], 'sync');
  if (values.prefix === undefined) throw new UsageError('sync: missing --prefix');
  if (values['from-dir']) {
    if (values['from-region'] || values['bucket-from'])
      throw new UsageError('sync: --from-dir replaces --from-region/--bucket-from; give one or the other');
  } else required(values, ['from-region', 'bucket-from'], 'sync');
  let partSize = DEFAULT_PART_SIZE;
  if (values['part-size'] !== undefined) {
    try {
      partSize = partSizeFromMiB(values['part-size']);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  let concurrency = DEFAULT_CONCURRENCY;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
      throw new UsageError(`--concurrency must be an integer from 1 to 64, got '${values.concurrency}'`);
  }
  const manifestName = values['manifest-name'] ?? DEFAULT_MANIFEST_NAME;
  if (manifestName.includes('/') || manifestName === '')
    throw new UsageError('--manifest-name is a file name under the prefix, without /');
  return {
    command,
    ...(values['from-region'] ? { fromRegion: values['from-region'] } : {}),
    ...(values['bucket-from'] ? { bucketFrom: values['bucket-from'] } : {}),
    ...(values['from-dir'] ? { fromDir: values['from-dir'] } : {}),
    toRegion: values['to-region']!,
    bucketTo: values['bucket-to']!,
    prefix: values.prefix,
    toPrefix: values['to-prefix'] ?? values.prefix,
    partSize,
    concurrency,
    manifestName,
    ...(values['journal-dir'] ? { journalDir: values['journal-dir'] } : {}),
    quiet: Boolean(values.quiet),
    ...connection(values),
  };
}
