import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { drillReportInput } from '../drill/report-input';
import { runDrill, type DrillRun } from '../drill/run-drill';
import { buildEvidenceReport } from '../report/build-report';
import { defaultSandboxConfig } from '../sandbox/config';
import { silentProgress } from '../sandbox/progress';
import { REPO_ROOT, startSandbox, stopSandbox } from '../sandbox/sandbox';

/**
 * npm run bench:drill — one drill with synchronous and one with asynchronous PostgreSQL
 * replication, each on a fresh sandbox under load. Prints trigger → trading resumed
 * (excluding the human wait; target < 15 s), the orchestration's own overhead (workflow
 * time not spent inside a step; target < 2 s), acknowledged writes lost against what the
 * workflow reported at risk, and Kafka skips and duplicates against offset.lag.max.
 */
function orchestrationOverheadMs(drill: DrillRun): {
  workflowMs: number;
  stepsMs: number;
  approvalWaitMs: number;
  overheadMs: number;
} {
  const execution = drill.executions.at(-1)!;
  const workflowMs = execution.finishedAt - execution.startedAt;
  const byState = new Map(drill.invocations.map((i) => [i.state, i]));
  let stepsMs = 0;
  let approvalWaitMs = 0;
  for (const entry of execution.timeline) {
    const span = (entry.exitedAt ?? execution.finishedAt) - entry.enteredAt;
    if (entry.type === 'Parallel') stepsMs += span;
    else if (entry.type === 'Task' && !/^Promote(Postgres|Kafka|Redis)$/.test(entry.state)) {
      if (entry.state === 'RequestApproval') {
        const invoked = byState.get(entry.state)?.durationMs ?? 0;
        stepsMs += invoked;
        approvalWaitMs += span - invoked;
      } else stepsMs += span;
    }
  }
  return { workflowMs, stepsMs, approvalWaitMs, overheadMs: workflowMs - approvalWaitMs - stepsMs };
}

async function benchOne(synchronous: boolean, portBase: number) {
  const config = defaultSandboxConfig(REPO_ROOT, `bench-drill-${synchronous ? 'sync' : 'async'}`, {
    portBase,
    postgres: { synchronous },
  });
  const endpoints = await startSandbox(config, silentProgress);
  try {
    const drill = await runDrill({
      endpoints,
      mode: 'drill',
      trigger: 'cli',
      approval: (decide) => decide.approve('bench'),
      ratePerSecond: 50,
      warmupSeconds: 5,
      afterResumeSeconds: 3,
      reportsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tp-bench-drill-')),
    });
    const report = buildEvidenceReport(drillReportInput(drill, synchronous, 'task-token'));
    const overhead = orchestrationOverheadMs(drill);
    const maxDup = Math.max(0, ...Object.values(drill.kafka?.duplicatesByPartition ?? {}));
    const label = synchronous ? 'synchronous ' : 'asynchronous';
    console.log(`${label} outcome ${report.outcome}`);
    console.log(
      `${label} trigger → trading resumed, excluding approval: ${report.rto.excludingApprovalSeconds?.toFixed(2)} s (target < 15 s)`,
    );
    console.log(
      `${label} orchestration overhead: ${(overhead.overheadMs / 1000).toFixed(2)} s of ${(overhead.workflowMs / 1000).toFixed(2)} s (steps ${(overhead.stepsMs / 1000).toFixed(2)} s, approval wait ${(overhead.approvalWaitMs / 1000).toFixed(2)} s; target < 2 s)`,
    );
    console.log(`${label} trading paused: ${report.rto.tradingDowntimeSeconds?.toFixed(2)} s`);
    console.log(
      `${label} acknowledged writes lost: ${drill.ackedWritesLost?.missing} of ${drill.ackedWritesLost?.acknowledged}; reported at risk before promotion: ${JSON.stringify(report.rpo.postgres.atRiskReported)}`,
    );
    console.log(
      `${label} kafka: ${drill.kafka?.skipped} skipped of ${drill.kafka?.acknowledged}; duplicates ${drill.kafka?.duplicates} (max ${maxDup}/partition, offset.lag.max ${drill.topology.kafka.offsetLagMax})`,
    );
  } finally {
    await stopSandbox(config);
  }
}

async function main() {
  await benchOne(true, 25320);
  await benchOne(false, 25340);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
