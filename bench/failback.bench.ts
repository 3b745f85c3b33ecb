/**
 * npm run bench:failback — a full round trip on a fresh sandbox under load (port base 26650):
 * the failover drill A → B, then the failback workflow back to A. Prints the trading-paused
 * time of the failback's switchover excluding the approval (target < 15 s), acknowledged
 * writes lost over the whole round trip (target 0), Kafka skips and duplicates of both
 * legs, and the rebuild durations: the ones the round trip ran, then pg_rewind against a
 * fresh pg_basebackup on the same (bulk-loaded) data with bench:rebuild's benchRebuild on
 * the same port base once the round trip's sandbox is gone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runFailback, type FailbackDrillRun } from '../drill/failback';
import { runDrill, type DrillRun } from '../drill/run-drill';
import { defaultSandboxConfig } from '../sandbox/config';
import { silentProgress } from '../sandbox/progress';
import { REPO_ROOT, sandboxProcessControl, startSandbox, stopSandbox } from '../sandbox/sandbox';
import { benchRebuild } from './rebuild.bench';

type Steps = Record<string, { result?: Record<string, unknown> } | undefined>;

function stepsOf(run: DrillRun): Steps {
  return ((run.executions.at(-1)?.output as { steps?: Steps } | undefined)?.steps ?? {}) as Steps;
}

/** Gateway paused → resumed, less the time the approval request waited for its answer. */
function pausedExcludingApproval(run: DrillRun): { pausedMs: number | null; approvalMs: number } {
  const { pausedAt, resumedAt } = run.gateway;
  const { requestedAt, decidedAt } = run.approval;
  const approvalMs = requestedAt && decidedAt ? decidedAt - requestedAt : 0;
  return { pausedMs: pausedAt && resumedAt ? resumedAt - pausedAt - approvalMs : null, approvalMs };
}

/** Quiesce → trading resumed in the workflow's own timeline, less the approval wait. */
function switchoverSpanMs(run: DrillRun): number | null {
  const timeline = run.executions.flatMap((e) => e.timeline);
  const start = timeline.find((t) => t.state === 'QuiesceTrading')?.enteredAt;
  const end = timeline.findLast((t) => t.state === 'ResumeTrading')?.exitedAt;
  if (!start || !end) return null;
  const approval = timeline
    .filter((t) => t.state === 'RequestApproval' && t.exitedAt)
    .reduce((sum, t) => sum + (t.exitedAt! - t.enteredAt), 0);
  return end - start - approval;
}

const kafkaLine = (label: string, run: DrillRun) =>
  `${label} kafka: ${run.kafka?.skipped ?? '?'} skipped of ${run.kafka?.acknowledged ?? '?'} acknowledged; duplicates ${run.kafka?.duplicates ?? '?'} (offset.lag.max ${run.topology.kafka.offsetLagMax})`;

async function roundTrip(portBase: number, rate: number) {
  const config = defaultSandboxConfig(REPO_ROOT, 'bench-failback', {
    portBase,
    postgres: { synchronous: true },
  });
  const endpoints = await startSandbox(config, silentProgress);
  const reportsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-bench-failback-'));
  try {
    const failover = await runDrill({
      endpoints,
      mode: 'drill',
      trigger: 'cli',
      approval: (decide) => decide.approve('bench'),
      ratePerSecond: rate,
      warmupSeconds: 5,
      afterResumeSeconds: 3,
      reportsDir,
    });
    if (failover.executions.at(-1)?.status !== 'SUCCEEDED')
      throw new Error('the failover leg did not succeed');
    const failback = await runFailback({
      endpoints,
      processControl: await sandboxProcessControl(config),
      approval: (decide) => decide.approve('bench'),
      ratePerSecond: rate,
      loadBeforeSeconds: 5,
      warmupSeconds: 5,
      afterResumeSeconds: 3,
      reportsDir,
      failover,
    });
    return { failover, failback };
  } finally {
    await stopSandbox(config);
  }
}

function print(failover: DrillRun, failback: FailbackDrillRun) {
  const last = failback.executions.at(-1)!;
  const steps = stepsOf(failback);
  const paused = pausedExcludingApproval(failback);
  const span = switchoverSpanMs(failback);
  const rebuild = (key: 'rebuild' | 'reprotect') =>
    (
      steps[key] as
        { postgres?: { result?: { method?: string; timingsMs?: Record<string, number> } } } | undefined
    )?.postgres?.result;
  const proof = steps.finalLsn?.result as { finalLsn?: string; replayedLsn?: string } | undefined;
  const fmt = (ms: number | null | undefined) => (ms == null ? '?' : `${(ms / 1000).toFixed(2)} s`);
  console.log(`failback outcome: ${last.status}${last.error ? ` (${last.error}: ${last.cause})` : ''}`);
  console.log(
    `failback trading paused, excluding approval: ${fmt(paused.pausedMs)} (gateway view; approval wait ${fmt(paused.approvalMs)}); workflow quiesce → resumed less approval: ${fmt(span)} (target < 15 s)`,
  );
  const timeline = failback.executions.flatMap((e) => e.timeline);
  const from = timeline.find((t) => t.state === 'QuiesceTrading')?.enteredAt ?? 0;
  const to = timeline.findLast((t) => t.state === 'ResumeTrading')?.exitedAt ?? 0;
  const slowest = timeline
    .filter((t) => t.type === 'Task' && t.exitedAt && t.enteredAt >= from && t.enteredAt <= to)
    .filter((t) => t.state !== 'RequestApproval')
    .map((t) => [t.state, t.exitedAt! - t.enteredAt] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6);
  console.log(`  slowest states while paused: ${slowest.map(([s, ms]) => `${s} ${ms} ms`).join(', ')}`);
  console.log(
    `final LSN of the fenced primary ${proof?.finalLsn ?? '?'}, replayed by the promoted standby ${proof?.replayedLsn ?? '?'}`,
  );
  console.log(
    `acknowledged writes lost over the round trip: ${failback.ackedWritesLost?.missing ?? '?'} of ${failback.ackedWritesLost?.acknowledged ?? '?'} (failover leg ${failover.ackedWritesLost?.missing ?? '?'} of ${failover.ackedWritesLost?.acknowledged ?? '?'} at its end; target 0)`,
  );
  console.log(kafkaLine('failover leg', failover));
  console.log(kafkaLine('failback leg', failback));
  for (const [label, key] of [
    ['rebuild of A as standby of B', 'rebuild'],
    ['re-protection: B as standby of A', 'reprotect'],
  ] as const) {
    const r = rebuild(key);
    console.log(
      `${label}: ${r?.method ?? '?'} ${fmt(r?.timingsMs?.total)} (${Object.entries(r?.timingsMs ?? {})
        .filter(([k]) => k !== 'total')
        .map(([k, v]) => `${k} ${v} ms`)
        .join(', ')})`,
    );
  }
  return {
    pass:
      last.status === 'SUCCEEDED' &&
      (paused.pausedMs ?? Infinity) < 15_000 &&
      failback.ackedWritesLost?.missing === 0,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      'port-base': { type: 'string', default: '26650' },
      rate: { type: 'string', default: '50' },
      // pg_rewind (PostgreSQL 15) copies the new primary's whole pg_wal, so it only beats a fresh
      // base backup once the data outweighs the WAL kept: ~280 MB ties, ~840 MB (600,000 orders) wins.
      orders: { type: 'string', default: '600000' },
    },
  });
  const portBase = Number(values['port-base']);
  const orders = Number(values.orders);
  console.log(`bench:failback on a fresh sandbox (port base ${portBase}, load ${values.rate}/s)`);
  const { failover, failback } = await roundTrip(portBase, Number(values.rate));
  const { pass } = print(failover, failback);

  console.log(
    `pg_rewind against pg_basebackup on the same data (bench:rebuild's benchRebuild, ${orders} bulk orders, port base ${portBase}):`,
  );
  const rebuild = await benchRebuild({ portBase, orders, log: (line) => console.log(line) });
  const rewindTotals = rebuild.rewind.map((r) => r.timingsMs.total ?? NaN);
  const baseBackupTotal = rebuild.baseBackup.timingsMs.total ?? NaN;
  const rewindFaster =
    rebuild.rewind.every((r) => r.method === 'pg_rewind') && rewindTotals.every((t) => t < baseBackupTotal);
  console.log(
    `database ${(rebuild.databaseBytes / 1e6).toFixed(0)} MB: pg_rewind ${rewindTotals.map((t) => `${t} ms`).join(', ')}; pg_basebackup ${baseBackupTotal} ms (target pg_rewind faster: ${rewindFaster ? 'PASS' : 'MISSED'})`,
  );
  console.log(
    `targets (switchover paused < 15 s, 0 acknowledged writes lost, failback succeeded): ${pass ? 'PASS' : 'MISSED'}`,
  );
  if (!pass || !rewindFaster) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
