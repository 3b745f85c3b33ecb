import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { awsClientConfig } from '../lambdas/shared/adapters/aws/clients';
import { KmsDataKeyProvider } from '../integrity/audit-export/data-keys';
import { exportAuditTables } from '../integrity/audit-export/export';
import { parseWindow, type ExportWindow } from '../integrity/audit-export/tables';
import { defaultSandboxConfig } from '../sandbox/config';
import { POSTGRES_DATABASE, POSTGRES_OPERATOR } from '../sandbox/postgres';
import { silentProgress } from '../sandbox/progress';
import { REPO_ROOT, startSandbox, stopSandbox } from '../sandbox/sandbox';
import { mib } from './process-memory';

/**
 * npm run bench:audit-export — the regulator export of orders on a fresh sandbox:
 * 1,000,000 orders (loaded with generate_series), exported through COPY → CSV → framed
 * AES-256-GCM under a KMS data key → SHA-256s → local staging, verified (KMS Decrypt, every
 * GCM tag, both hashes) and archived to moto's Object-Lock bucket (multipart, then
 * PutObjectRetention). Targets: ≥ 100,000 rows/s for the export, peak resident memory of
 * this process < 256 MiB. A 100,000-row window runs first, to show memory does not grow
 * with the size of the export.
 */
const ROWS = Number(process.env.AUDIT_EXPORT_BENCH_ROWS ?? 1_000_000);
const SMALL_ROWS = 100_000;
const DAY_START = '2026-03-01T00:00:00Z';
/** Orders spread evenly over one day, all inside [DAY_START, DAY_START + 1 day). */
const STEP_US = Math.floor(86_400_000_000 / ROWS);
const config = defaultSandboxConfig(REPO_ROOT, 'bench-audit-export', { portBase: 26410 });

/** Peak RSS of this process, sampled every 20 ms while something runs. */
async function withPeakRss<T>(
  run: () => Promise<T>,
): Promise<{ value: T; peakRss: number; seconds: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const started = process.hrtime.bigint();
  try {
    const value = await run();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, peakRss: peak, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } finally {
    clearInterval(timer);
  }
}

async function main() {
  await stopSandbox(config);
  const endpoints = await startSandbox(config, silentProgress);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-export-bench-'));
  const region = endpoints.primary.region;
  const resources = endpoints.aws.resources.regional[region]!;
  const aws = awsClientConfig({
    region,
    endpoint: endpoints.aws.endpoint,
    credentials: endpoints.aws.credentials,
    requestTimeoutMs: 120_000,
  });
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  const kms = new KMSClient(aws);
  const postgres = {
    host: '127.0.0.1',
    port: endpoints.primary.postgres.port,
    database: POSTGRES_DATABASE,
    user: POSTGRES_OPERATOR,
  };
  try {
    const db = new pg.Client(postgres);
    await db.connect();
    const loadStarted = Date.now();
    await db.query(
      `insert into orders (idempotency_key, writer_id, seq, account_id, symbol, side, order_type, time_in_force,
                           quantity, limit_price, filled_quantity, status, created_at, updated_at)
       select 'bench-' || g, 'bench-writer', g + 1, 'ACC-0001', 'AAPL',
              case when g % 2 = 0 then 'buy' else 'sell' end,
              case when g % 5 = 0 then 'market' else 'limit' end, 'day',
              (g % 100) + 1,
              case when g % 5 = 0 then null else 189.50 + (g % 200) * 0.01 end,
              0, 'new', ts, ts
         from generate_series(0, $1::int - 1) g,
              lateral (select timestamptz '${DAY_START}' + g * ($2::bigint * interval '1 microsecond') as ts) t`,
      [ROWS, STEP_US],
    );
    await db.query('analyze orders');
    await db.end();
    console.log(
      `loaded ${ROWS.toLocaleString('en')} orders with generate_series in ${((Date.now() - loadStarted) / 1000).toFixed(1)} s`,
    );

    const dayStart = parseWindow(DAY_START, '2026-03-02T00:00:00Z');
    // Order g (0 ≤ g < ROWS) is at DAY_START + g·STEP_US: [DAY_START, DAY_START + SMALL_ROWS·STEP_US) holds g < SMALL_ROWS.
    const smallEndUs = SMALL_ROWS * STEP_US;
    const smallEnd = new Date(Date.parse(DAY_START) + Math.floor(smallEndUs / 1000))
      .toISOString()
      .replace('Z', `${String(smallEndUs % 1000).padStart(3, '0')}Z`);
    const small: ExportWindow = parseWindow(DAY_START, smallEnd);
    const dataKeys = new KmsDataKeyProvider(kms, resources.kmsKeyArn);

    for (const [label, window, archive] of [
      [`${SMALL_ROWS.toLocaleString('en')} rows`, small, true],
      [`${ROWS.toLocaleString('en')} rows`, dayStart, false],
      [`${ROWS.toLocaleString('en')} rows + archive`, dayStart, true],
    ] as const) {
      global.gc?.();
      const marks: Record<string, number> = {};
      const started = process.hrtime.bigint();
      const mark = (message: string) => {
        const t = Number(process.hrtime.bigint() - started) / 1e9;
        if (message.startsWith('exported ')) marks.exported = t;
        if (message.startsWith('verified ')) marks.verified = t;
        if (message.startsWith('locked ')) marks.archived = t;
      };
      const run = await withPeakRss(() =>
        exportAuditTables({
          postgres,
          tables: ['orders'],
          window,
          dataKeys,
          outDir: path.join(work, label.replace(/\W+/g, '-')),
          ...(archive ? { archive: { s3, bucket: resources.evidenceBucket, retentionDays: 1 } } : {}),
          log: mark,
        }),
      );
      const table = run.value.evidence.tables[0]!;
      const exportRate = table.rows / marks.exported!;
      console.log(
        [
          `${label.padEnd(24)} ${table.rows.toLocaleString('en')} rows, CSV ${mib(table.plaintext.size)} → encrypted ${mib(table.ciphertext.size)} (${table.encryption.frames} frames)`,
          `  export (COPY → CSV → AES-256-GCM → SHA-256s → file)   ${marks.exported!.toFixed(2)} s = ${Math.round(exportRate).toLocaleString('en')} rows/s (target ≥ 100,000)`,
          `  + verify (KMS Decrypt, every GCM tag, both hashes)     ${(marks.verified! - marks.exported!).toFixed(2)} s`,
          ...(archive
            ? [
                `  + archive (${run.value.archive!.objects[table.file]!.upload} upload, lock, read back)`.padEnd(
                  57,
                ) + ` ${(marks.archived! - marks.verified!).toFixed(2)} s`,
              ]
            : []),
          `  end to end ${run.seconds.toFixed(2)} s = ${Math.round(table.rows / run.seconds).toLocaleString('en')} rows/s; peak RSS of this process ${mib(run.peakRss)} (target < 256 MiB)`,
        ].join('\n'),
      );
    }
  } finally {
    s3.destroy();
    kms.destroy();
    fs.rmSync(work, { recursive: true, force: true });
    await stopSandbox(config);
  }
}

main().catch(async (err) => {
  console.error(err);
  await stopSandbox(config);
  process.exit(1);
});
