/**
 * bench:backup — with 1,000,000 orders in the sandbox (each filled once, with its ledger
 * postings: ~4 million rows, bulk-loaded by set-based SQL as bench:integrity does), takes the
 * backups (PostgreSQL base backup of the paused standby, Redis RDB, Kafka offsets), then
 * runs the whole backup-validation workflow: restore into disposable targets, every check,
 * teardown, evidence. Prints the time of each phase and the peak memory of this process
 * (where every step runs) and of the restored servers. Target: backup + restore + full
 * validation < 120 s on 2 cores, memory bounded (streams, not whole files in memory).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { newValidationRunId, runBackupValidation } from '../backup/validate';
import { restoreTargetPrefix } from '../lambdas/shared/adapters/restore/target-names';
import { sandboxBackups } from '../backup/sandbox-backups';
import { sampleActivity } from '../backup/sample-activity';
import { defaultSandboxConfig } from '../sandbox/config';
import { ensurePostgres } from '../sandbox/install';
import { queryOnce } from '../sandbox/postgres';
import { silentProgress } from '../sandbox/progress';
import { REPO_ROOT, sandboxProcesses, startSandbox, stopSandbox } from '../sandbox/sandbox';
import { loadBulkLedger } from './bulk-ledger';
import { pidsInGroups, pssBytes } from './process-memory';

const TARGET_SECONDS = 120;
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Peak RSS of this process, and peak PSS of the restored servers (sampled every 100 ms). */
function memorySampler(
  restoredPrefix: () => string | null,
  supervisor: ReturnType<typeof sandboxProcesses>['supervisor'],
) {
  let nodePeak = 0;
  let heapPeak = 0;
  let restoredPeak = 0;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    nodePeak = Math.max(nodePeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed + m.external + m.arrayBuffers);
    const prefix = restoredPrefix();
    if (prefix) {
      const groups = supervisor
        .list()
        .filter((p) => p.name.startsWith(prefix))
        .map((p) => p.pid);
      if (groups.length > 0) restoredPeak = Math.max(restoredPeak, pssBytes(pidsInGroups(groups)));
    }
  }, 100);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    figures: () => ({ nodePeak, heapPeak, restoredPeak }),
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      'port-base': { type: 'string', default: '26760' },
      orders: { type: 'string', default: '1000000' },
      'redis-keys': { type: 'string', default: '20000' },
      'keep-sandbox': { type: 'boolean', default: false },
    },
  });
  const orders = Number(values.orders);
  const redisKeys = Number(values['redis-keys']);
  if (!Number.isSafeInteger(orders) || orders < 1) throw new Error('--orders must be a positive integer');
  if (!Number.isSafeInteger(redisKeys) || redisKeys < 1)
    throw new Error('--redis-keys must be a positive integer');
  const config = defaultSandboxConfig(REPO_ROOT, 'bench-backup', { portBase: Number(values['port-base']) });
  console.log(
    `bench:backup on a fresh sandbox (port base ${config.portBase}), ${orders.toLocaleString('en-US')} orders`,
  );
  const endpoints = await startSandbox(config, silentProgress);
  const reportsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-bench-backup-'));
  const lines: string[] = [];
  let pass = true;
  try {
    // ---- the data: a million orders, Redis features, a little live traffic on Kafka
    const load = await loadBulkLedger(endpoints.primary.postgres.port, { orders });
    const activity = await sampleActivity(endpoints, {
      name: 'bench-backup',
      journalDir: reportsDir,
      redisKeys,
      ratePerSecond: 50,
    });
    // The backup is taken on the standby: let it replay the bulk load first (not part of the timed phases).
    const [primaryLsn] = await queryOnce<{ lsn: string }>(
      endpoints.primary.postgres.port,
      'select pg_current_wal_lsn()::text as lsn',
    );
    for (;;) {
      const [row] = await queryOnce<{ caught_up: boolean }>(
        endpoints.secondary.postgres.port,
        `select pg_last_wal_replay_lsn() >= $1::pg_lsn as caught_up`,
        [primaryLsn!.lsn],
      );
      if (row?.caught_up) break;
      await sleep(200);
    }
    lines.push(
      `data: ${orders.toLocaleString('en-US')} orders + fills + ledger postings loaded in ${s(load.ms)}, ${redisKeys} Redis keys, ${activity.kafkaMessages} Kafka messages`,
    );

    // ---- backup
    const { supervisor } = sandboxProcesses(config);
    const runId = newValidationRunId();
    let restoredPrefix: string | null = null;
    const memory = memorySampler(() => restoredPrefix, supervisor);
    const install = await ensurePostgres(silentProgress);
    const backups = sandboxBackups(endpoints, { pgBinDir: install.bindir });
    const started = Date.now();
    let t = Date.now();
    const pgBackup = await backups.taker.takePostgresBackup();
    const pgMs = Date.now() - t;
    t = Date.now();
    await backups.taker.takeRedisBackup();
    const redisMs = Date.now() - t;
    t = Date.now();
    await backups.taker.recordKafkaOffsets();
    const kafkaMs = Date.now() - t;
    backups.close();
    const archive = pgBackup.manifest.objects.find((o) => o.name === 'base.tar');
    lines.push(
      `backup: PostgreSQL ${s(pgMs)} (${mb(archive?.bytes ?? 0)} archive, encrypted + uploaded), Redis ${s(redisMs)}, Kafka offsets ${s(kafkaMs)}`,
    );

    // ---- restore + validation (the workflow)
    const validationStarted = Date.now();
    const run = await runBackupValidation({
      endpoints,
      config,
      input: { trigger: 'cli', requestedBy: 'bench:backup' },
      reportsDir,
      onProgress: (event) => {
        if (event.kind === 'entered' && event.entry.state === 'RestoreBackups')
          restoredPrefix = restoreTargetPrefix(runId);
      },
      runId,
    });
    const validationMs = Date.now() - validationStarted;
    const totalMs = Date.now() - started;
    memory.stop();
    const report = run.report as {
      outcome: string;
      checks: {
        check: string;
        passed: boolean;
        durationMs?: number;
        figures: Record<string, unknown>;
        reason: string;
      }[];
      timings: { step: string; durationMs: number }[];
    } | null;
    const stepMs = (step: string) =>
      report?.timings.filter((x) => x.step === step).reduce((a, x) => a + x.durationMs, 0) ?? 0;
    lines.push(
      `restore: PostgreSQL ${s(stepMs('restore-postgres-backup'))} (decrypt + untar + recovery + promotion), Redis canary ${s(stepMs('restore-redis-backup'))} (side by side)`,
    );
    for (const c of report?.checks ?? [])
      lines.push(
        `  ${c.passed ? 'pass' : 'FAIL'} ${c.check.padEnd(28)} ${c.durationMs !== undefined ? s(c.durationMs).padStart(7) : '       '}  ${c.reason.slice(0, 110)}`,
      );
    lines.push(
      `validation workflow: ${s(validationMs)} (select ${s(stepMs('select-backups'))}, validate PostgreSQL ${s(stepMs('validate-postgres-restore'))}, Redis ${s(stepMs('validate-redis-restore'))}, Kafka ${s(stepMs('validate-kafka-offsets'))}, teardown ${s(stepMs('teardown-restore-targets'))}, evidence ${s(stepMs('record-backup-validation'))})`,
    );
    const mem = memory.figures();
    lines.push(
      `memory: this process peak RSS ${mb(mem.nodePeak)} (JS heap + buffers ${mb(mem.heapPeak)}), restored servers peak PSS ${mb(mem.restoredPeak)}`,
    );
    const outcomeOk = report?.outcome === 'passed';
    const fast = totalMs < TARGET_SECONDS * 1000;
    pass = outcomeOk && fast;
    lines.push(
      `total backup + restore + validation: ${s(totalMs)} (target < ${TARGET_SECONDS} s): ${fast ? 'PASS' : 'MISSED'}; validation outcome: ${report?.outcome ?? run.execution.status}`,
    );
    if (run.reportFile) lines.push(`report: ${run.reportFile}`);
  } finally {
    if (!values['keep-sandbox']) await stopSandbox(config);
  }
  console.log(`\n${lines.join('\n')}`);
  if (!pass) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
