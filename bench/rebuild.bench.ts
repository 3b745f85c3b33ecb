/**
 * npm run bench:rebuild — the failback's rebuild of the old primary, pg_rewind against a fresh
 * pg_basebackup, on one sandbox under load and on the same data.
 *
 * 1. A ledger of `--orders` orders (with fills and postings) is bulk-loaded on A and streamed to B;
 *    the load generator writes to A.
 * 2. Failover with a split brain: B is promoted while A keeps taking the load for a moment
 *    (diverged writes), then A is fenced and the load moves to B.
 * 3. A is rebuilt with pg_rewind (the RebuildPostgresStandby step, `auto`), the load still on B.
 * 4. A diverges again (promoted on its own, a write), then is rebuilt with a forced pg_basebackup.
 * 5. Once more: diverged again, rebuilt with pg_rewind, so each method is measured on the same data.
 *
 * Prints each rebuild's phases (stop, rewind or copy, start, catch-up) and the total; the target
 * is pg_rewind faster than pg_basebackup. `benchRebuild` is exported for bench:failback.
 *
 * Two settings decide what pg_rewind has to copy, and the bench states both:
 * - the bulk load is checkpointed (on A, and restartpointed on B) before the failover, as
 *   checkpoint_timeout would have done long before in production: pg_rewind copies the blocks
 *   changed since the last common checkpoint, and the standby replays from it;
 * - PostgreSQL 15's pg_rewind copies the source's whole pg_wal (16 skips segments before the
 *   divergence), so the WAL the new primary keeps counts: `--wal-keep-size` is applied to both
 *   nodes (the sandbox default is 512MB for its slot-less beginnings; rebuilt standbys use a slot).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createAwsClients } from '../lambdas/shared/adapters/aws/clients';
import { DependencyPool } from '../lambdas/shared/build-dependencies';
import type { Run } from '../lambdas/shared/run';
import { executeStep } from '../lambdas/shared/step';
import { rebuildPostgresStandbyStep } from '../lambdas/rebuild-postgres-standby/logic';
import { topologyFromSandbox } from '../local-runner/sandbox-topology';
import { defaultSandboxConfig } from '../sandbox/config';
import { queryOnce } from '../sandbox/postgres';
import { silentProgress } from '../sandbox/progress';
import { REPO_ROOT, sandboxProcessControl, startSandbox, stopSandbox } from '../sandbox/sandbox';
import { startLoadGenerator } from '../workload';
import { loadBulkLedger } from './bulk-ledger';

export interface RebuildMeasurement {
  method: string;
  reason: string;
  timingsMs: Record<string, number>;
  lsns: Record<string, string | null>;
}

export interface RebuildBenchFigures {
  orders: number;
  databaseBytes: number;
  loadAcknowledged: number;
  loadFailed: number;
  rewind: RebuildMeasurement[];
  baseBackup: RebuildMeasurement;
}

export async function benchRebuild(
  opts: {
    portBase?: number;
    orders?: number;
    ratePerSecond?: number;
    /** wal_keep_size on both nodes for the run. @default '64MB' */
    walKeepSize?: string;
    log?: (line: string) => void;
  } = {},
): Promise<RebuildBenchFigures> {
  const log = opts.log ?? (() => undefined);
  const orders = opts.orders ?? 600_000;
  const walKeepSize = opts.walKeepSize ?? '64MB';
  if (!/^\d+(kB|MB|GB)$/.test(walKeepSize)) throw new Error(`wal_keep_size ${walKeepSize} is not like 64MB`);
  const config = defaultSandboxConfig(REPO_ROOT, 'bench-rebuild', { portBase: opts.portBase ?? 26610 });
  const endpoints = await startSandbox(config, silentProgress);
  const A = endpoints.primary;
  const B = endpoints.secondary;
  const pool = new DependencyPool({
    topology: topologyFromSandbox(endpoints),
    region: B.region,
    aws: (region) =>
      createAwsClients({ region, endpoint: endpoints.aws.endpoint, credentials: endpoints.aws.credentials }),
    datasetFile: path.join(REPO_ROOT, 'data', 'sample.csv'),
    processControl: await sandboxProcessControl(config),
  });
  const reportsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-bench-rebuild-'));
  let writeTo = A;
  const load = startLoadGenerator({
    journalPath: path.join(reportsDir, 'acknowledged-writes.jsonl'),
    ratePerSecond: opts.ratePerSecond ?? 50,
    writerId: 'bench-rebuild',
    postgres: () => ({ ...writeTo.postgres, user: endpoints.postgresUsers.app }),
    retry: { writeDeadlineMs: 60_000 },
    maxConsecutiveFailures: 100_000,
  });
  const run: Run = {
    runId: 'bench-rebuild',
    executionId: 'local:bench-rebuild',
    application: 'tradepulse',
    mode: 'drill',
    dryRun: false,
    trigger: { kind: 'cli', requestedBy: 'bench:rebuild' },
    sourceRegion: B.region,
    targetRegion: A.region,
    allowDataLoss: null,
    declaredAt: new Date().toISOString(),
  };
  const rebuild = async (method: 'auto' | 'pg_basebackup'): Promise<RebuildMeasurement> => {
    const { result, evidence } = await executeStep(
      rebuildPostgresStandbyStep,
      { run, method },
      pool.forRun(run.runId),
    );
    const output = (evidence.observed.verification as { toolOutput?: string[] } | undefined)?.toolOutput;
    for (const line of output?.filter((l) => /diverged|need to copy/.test(l)) ?? []) log(`  ${line.trim()}`);
    log(
      `  ${result.method}: ${result.timingsMs.total} ms (${Object.entries(result.timingsMs)
        .filter(([k]) => k !== 'total')
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
    );
    return {
      method: result.method ?? 'none',
      reason: result.reason,
      timingsMs: result.timingsMs,
      lsns: result.lsns,
    };
  };
  const divergeAgain = async () => {
    await queryOnce(A.postgres.port, 'select pg_promote(true, 60)');
    await queryOnce(A.postgres.port, `select pg_switch_wal()`);
  };
  try {
    for (const port of [A.postgres.port, B.postgres.port]) {
      await queryOnce(port, `alter system set wal_keep_size = '${walKeepSize}'`);
      await queryOnce(port, 'select pg_reload_conf()');
    }
    log(`bulk-loading ${orders} orders on ${A.region} (wal_keep_size ${walKeepSize})`);
    await loadBulkLedger(A.postgres.port, { orders });
    await queryOnce(A.postgres.port, 'checkpoint');
    const [{ lsn }] = (await queryOnce<{ lsn: string }>(
      A.postgres.port,
      'select pg_current_wal_lsn()::text as lsn',
    )) as [{ lsn: string }];
    for (;;) {
      const [{ behind }] = (await queryOnce<{ behind: boolean }>(
        B.postgres.port,
        `select coalesce(pg_last_wal_replay_lsn() < $1::pg_lsn, true) as behind`,
        [lsn],
      )) as [{ behind: boolean }];
      if (!behind) break;
      await sleep(200);
    }
    await queryOnce(B.postgres.port, 'checkpoint'); // a restartpoint on the standby
    const [{ bytes }] = (await queryOnce<{ bytes: string }>(
      A.postgres.port,
      `select pg_database_size(current_database())::text as bytes`,
    )) as [{ bytes: string }];
    log(`database ${(Number(bytes) / 1e6).toFixed(0)} MB; failover with a split brain under load`);
    await pool.postgres(B.region).promote();
    await sleep(2000); // A still takes the load: these writes are the divergence
    await pool.postgres(A.region).fence();
    writeTo = B;
    await sleep(3000);

    log('rebuild 1 (auto):');
    const first = await rebuild('auto');
    await divergeAgain();
    log('rebuild 2 (forced pg_basebackup):');
    const baseBackup = await rebuild('pg_basebackup');
    await divergeAgain();
    log('rebuild 3 (auto):');
    const third = await rebuild('auto');
    const summary = await load.stop();
    return {
      orders,
      databaseBytes: Number(bytes),
      loadAcknowledged: summary.acknowledged.postgres,
      loadFailed: summary.failed.postgres,
      rewind: [first, third],
      baseBackup,
    };
  } finally {
    await load.stop().catch(() => undefined);
    await pool.close();
    await stopSandbox(config);
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      'port-base': { type: 'string', default: '26610' },
      orders: { type: 'string', default: '600000' },
      'wal-keep-size': { type: 'string', default: '64MB' },
    },
  });
  const orders = Number(values.orders);
  if (!Number.isSafeInteger(orders) || orders < 1) throw new Error('--orders must be a positive integer');
  console.log(
    `bench:rebuild on a fresh sandbox (port base ${values['port-base']}, ${orders} orders, wal_keep_size ${values['wal-keep-size']})`,
  );
  const figures = await benchRebuild({
    portBase: Number(values['port-base']),
    orders,
    walKeepSize: values['wal-keep-size'],
    log: (line) => console.log(line),
  });
  const rewindTotals = figures.rewind.map((r) => r.timingsMs.total ?? NaN);
  const baseBackupTotal = figures.baseBackup.timingsMs.total ?? NaN;
  const usedRewind = figures.rewind.every((r) => r.method === 'pg_rewind');
  const pass = usedRewind && rewindTotals.every((t) => t < baseBackupTotal);
  console.log(
    [
      `database: ${(figures.databaseBytes / 1e6).toFixed(0)} MB (${figures.orders} bulk orders + load)`,
      `pg_rewind rebuilds: ${rewindTotals.map((t) => `${t} ms`).join(', ')} (method ${figures.rewind.map((r) => r.method).join(', ')})`,
      `pg_basebackup rebuild: ${baseBackupTotal} ms`,
      `load during the run: ${figures.loadAcknowledged} acknowledged, ${figures.loadFailed} failed writes`,
      `target pg_rewind faster than pg_basebackup: ${pass ? 'PASS' : 'MISSED'}`,
    ].join('\n'),
  );
  if (!pass) process.exitCode = 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
