import path from 'node:path';
import readline from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { defaultSandboxConfig } from '../sandbox/config';
import { terminalProgress } from '../sandbox/progress';
import { REPO_ROOT, sandboxProcessControl, startSandbox, stopSandbox } from '../sandbox/sandbox';
import { buildEvidenceReport } from '../report/build-report';
import { renderReportText } from '../report/render-text';
import { writeEvidenceReport } from '../report/write-report';
import type { ProgressEvent } from '../local-runner/run-workflow';
import { STEP_FUNCTIONS, type StepFunctionName } from '../lambdas/registry';
import { archiveReport } from './archive-report';
import { runFailback } from './failback';
import { drillReportInput } from './report-input';
import { runDrill, type ApprovalAnswer } from './run-drill';

const USAGE = `usage: npm run drill -- [--async] [--dry-run | --alarm | --failback] [--yes | --reject] [--rate N] [--keep-sandbox]

A full failover drill on the local sandbox: starts both regions' servers, runs the load
generator, executes state-machines/failover.asl.json with every step's Lambda handler,
asks for the approval before trading resumes, and writes the evidence report to
reports/disaster-recovery/<run-id>/.

  --async         asynchronous PostgreSQL replication (default: synchronous, zero RPO)
  --dry-run       every step checks and reports what it would do; nothing changes
  --alarm         start as EventBridge would on the failover alarm (mode failover, not drill)
  --failback      a round trip: the failover drill, then state-machines/failback.asl.json back
                  to the primary region (rebuild, warm-up, staggered zero-loss switchover,
                  approval, post-failback review); a second report, <run-id>-failback, is linked
  --failback-warmup S  the failback's warm-up phase in seconds (default 5; 1800 in production)
  --yes           approve resumption without asking   --reject   reject it
                  (without a terminal, drills on the sandbox approve unattended and say so)
  --rate N        load-generator writes per second (default 40)
  --warmup S      seconds of load before the failover starts (default 5)
  --keep-sandbox  leave the servers running afterwards (stop with: npm run sandbox -- down --name drill)
  --port-base N   first sandbox port (default 25400)`;

/** The changes the step that just finished reported (its evidence is the newest of its name in $.steps). */
function latestChanges(output: unknown, stepName: string | undefined): string[] {
  if (!stepName) return [];
  const evidences: { step: string; finishedAt: string; changes: string[] }[] = [];
  const collect = (value: unknown) => {
    if (!value || typeof value !== 'object') return;
    const e = (value as { evidence?: { step: string; finishedAt: string; changes: string[] } }).evidence;
    if (e?.step === stepName) evidences.push(e);
    else if (!e)
      for (const inner of Object.values(value))
        if (inner && typeof inner === 'object' && 'evidence' in inner) collect(inner);
  };
  const steps = (output as { steps?: Record<string, unknown> } | undefined)?.steps ?? {};
  for (const value of Object.values(steps)) collect(value);
  if (Array.isArray(output) || (output as { evidence?: unknown })?.evidence) collect(output);
  return evidences.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt)).at(-1)?.changes ?? [];
}

function printProgress(started: number) {
  const stamp = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
  return (event: ProgressEvent) => {
    const { entry } = event;
    if (entry.type === 'Pass' || entry.type === 'Choice') return;
    const name = entry.state.padEnd(26);
    if (event.kind === 'entered') process.stderr.write(`[drill ${stamp()}] ▶ ${name}\n`);
    if (event.kind === 'retried')
      process.stderr.write(
        `[drill ${stamp()}] ↻ ${name} retry ${event.attempt} after ${entry.error ?? 'error'}\n`,
      );
    if (event.kind === 'caught' || event.kind === 'failed')
      process.stderr.write(
        `[drill ${stamp()}] ✗ ${name} ${entry.error}: ${(entry.cause ?? '').slice(0, 200)}\n`,
      );
    if (event.kind === 'exited') {
      const took = entry.exitedAt ? `${entry.exitedAt - entry.enteredAt} ms` : '';
      const changes = entry.step
        ? latestChanges(event.output, STEP_FUNCTIONS[entry.step as StepFunctionName]?.name)
        : [];
      process.stderr.write(`[drill ${stamp()}] ✓ ${name} ${took}\n`);
      for (const change of changes) process.stderr.write(`${' '.repeat(15)}· ${change}\n`);
    }
  };
}

async function askApprover(): Promise<ApprovalAnswer> {
  return (decide, evidence) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    process.stderr.write(
      `\nVerification evidence for the approver:\n${JSON.stringify(evidence, null, 2).slice(0, 4000)}\n\n`,
    );
    void rl.question('Approve resumption of trading in the promoted region? [y/N] ').then(async (answer) => {
      if (/^y(es)?$/i.test(answer.trim())) {
        const who =
          (await rl.question('Your name (recorded as the approver): ')).trim() || 'terminal operator';
        decide.approve(who);
      } else {
        const reason = (await rl.question('Reason for rejecting: ')).trim() || 'rejected at the terminal';
        decide.reject('terminal operator', reason);
      }
      rl.close();
    });
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      async: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      alarm: { type: 'boolean' },
      failback: { type: 'boolean' },
      'failback-warmup': { type: 'string' },
      yes: { type: 'boolean' },
      reject: { type: 'boolean' },
      rate: { type: 'string' },
      warmup: { type: 'string' },
      'keep-sandbox': { type: 'boolean' },
      'port-base': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  const number = (flag: string, value: string | undefined, fallback: number, min: number, max: number) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new Error(`--${flag} must be a number from ${min} to ${max}, got '${value}'`);
    return n;
  };
  if (values.yes && values.reject) throw new Error('--yes and --reject contradict each other; give one');
  if (values.alarm && values['dry-run'])
    throw new Error('--alarm starts an unplanned failover; it cannot be a --dry-run');
  if (values.failback && (values['dry-run'] || values.reject))
    throw new Error(
      '--failback returns after a failover that resumed trading; it cannot follow a --dry-run or --reject',
    );
  const rate = number('rate', values.rate, 40, 1, 2000);
  const failbackWarmup = number('failback-warmup', values['failback-warmup'], 5, 0, 7200);
  const warmup = number('warmup', values.warmup, 5, 0, 600);
  const interactive = Boolean(process.stdin.isTTY) && !values.yes && !values.reject;
  const channel = interactive ? 'terminal' : values.yes || values.reject ? 'task-token' : 'unattended';
  const synchronous = !values.async;
  const config = defaultSandboxConfig(REPO_ROOT, 'drill', {
    ...(values['port-base']
      ? { portBase: number('port-base', values['port-base'], 25400, 1024, 65000) }
      : {}),
    postgres: { synchronous },
  });

  const started = Date.now();
  const progress = terminalProgress('drill');
  let tearingDown = false;
  const teardown = async () => {
    if (tearingDown || values['keep-sandbox']) return;
    tearingDown = true;
    progress.step('stopping the sandbox');
    await stopSandbox(config, progress);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void teardown().finally(() => process.exit(130)));
  }

  try {
    progress.step(
      `starting the sandbox (${synchronous ? 'synchronous' : 'asynchronous'} PostgreSQL replication)`,
    );
    const endpoints = await startSandbox(config, progress);
    const approval: ApprovalAnswer = interactive
      ? await askApprover()
      : values.reject
        ? (decide) => decide.reject('drill --reject', 'rejected by the --reject flag')
        : (decide) => {
            progress.warn(
              values.yes
                ? 'approving resumption (--yes)'
                : 'no terminal: approving resumption unattended (sandbox drill only)',
            );
            decide.approve(values.yes ? 'drill --yes' : 'unattended sandbox drill');
          };
    const drill = await runDrill({
      endpoints,
      mode: values.alarm ? 'failover' : values['dry-run'] ? 'dryRun' : 'drill',
      trigger: values.alarm ? 'alarm' : 'cli',
      approval,
      ratePerSecond: rate,
      warmupSeconds: warmup,
      afterResumeSeconds: 3,
      reportsDir: path.join(REPO_ROOT, 'reports', 'disaster-recovery'),
      onProgress: printProgress(started),
      log: (line) => progress.step(line),
    });
    const publish = async (run: typeof drill) => {
      const report = buildEvidenceReport(drillReportInput(run, synchronous, channel));
      const written = await writeEvidenceReport(report, {
        reportsDir: path.join(REPO_ROOT, 'reports', 'disaster-recovery'),
      });
      const archived = await archiveReport(endpoints, report);
      progress.done(
        `report archived under Object Lock in ${report.targetRegion}: ${archived.map((a) => a.key).join(', ')}`,
      );
      process.stdout.write(
        `\n${renderReportText(report, { files: written, color: Boolean(process.stdout.isTTY) })}\n`,
      );
      return report.outcome;
    };
    const outcome = await publish(drill);
    if (!values.failback || outcome !== 'resumed')
      return outcome === 'resumed' || outcome === 'dry-run-complete' ? 0 : 1;

    progress.step(`failback: returning to ${endpoints.primary.region} after ${drill.runId}`);
    const failback = await runFailback({
      endpoints,
      processControl: await sandboxProcessControl(config, progress),
      approval,
      ratePerSecond: rate,
      loadBeforeSeconds: warmup,
      warmupSeconds: failbackWarmup,
      afterResumeSeconds: 3,
      reportsDir: path.join(REPO_ROOT, 'reports', 'disaster-recovery'),
      failover: drill,
      onProgress: printProgress(started),
      log: (line) => progress.step(line),
    });
    const failbackOutcome = await publish(failback);
    const { pausedAt, resumedAt } = failback.gateway;
    const { requestedAt, decidedAt } = failback.approval;
    const pausedSeconds =
      pausedAt && resumedAt
        ? ((resumedAt - pausedAt - (requestedAt && decidedAt ? decidedAt - requestedAt : 0)) / 1000).toFixed(
            2,
          )
        : '?';
    progress.done(
      `round trip ${drill.runId} → ${failback.runId}: switchover paused trading ${pausedSeconds} s excluding approval; ${failback.ackedWritesLost?.missing ?? '?'} of ${failback.ackedWritesLost?.acknowledged ?? '?'} acknowledged writes lost over both runs; Kafka skipped ${failback.kafka?.skipped ?? '?'}`,
    );
    return failbackOutcome === 'resumed' ? 0 : 1;
  } finally {
    await teardown();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`drill: ${err.name === 'Error' ? '' : `${err.name}: `}${err.message}\n`);
    process.exit(1);
  },
);
