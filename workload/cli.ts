/**
 * `npm run loadgen -- --rate 50 --duration 30 --pg-port 25400 --kafka-brokers 127.0.0.1:25404`
 *
 * Progress on stderr once a second, the final summary as JSON on stdout.
 * Exit codes: 0 finished, 1 aborted (a broken setup) or crashed, 2 bad flags,
 * 130 interrupted twice (the journal is still complete up to the last counted ack).
 */
import { parseCliArgs, USAGE } from './cli-args';
import { startLoadGenerator, type LoadGeneratorEvent, type LoadGeneratorStats } from './generator';

function progressLine(s: LoadGeneratorStats, lastSecond?: number): string {
  const sinks = s.sinks.map((k) => `${k}=${s.acknowledged[k]}`).join(' ');
  const total = (counts: Record<string, number>) =>
    s.sinks.map((k) => counts[k] ?? 0).reduce((a, b) => a + b, 0);
  return (
    `[loadgen ${(s.elapsedMs / 1000).toFixed(0).padStart(4)}s] seq=${s.lastSeq} attempted=${s.attempted} acked ${sinks} ` +
    `failed=${total(s.failed)} retried=${total(s.retried)} dup=${s.duplicatesSuppressed} reconnects=${total(s.reconnects)} ` +
    `in-flight=${s.inFlight} ` +
    (lastSecond === undefined
      ? `avg rate=${s.achievedRatePerSecond}/s`
      : `rate=${lastSecond}/s (avg ${s.achievedRatePerSecond}/s)`)
  );
}

function describe(e: LoadGeneratorEvent, verbose: boolean): string | undefined {
  switch (e.type) {
    case 'connected':
      return e.reconnect ? `[loadgen] ${e.sink} worker ${e.worker} reconnected to ${e.endpoint}` : undefined;
    case 'retry':
      return verbose
        ? `[loadgen] retry ${e.sink} seq ${e.seq} (${e.action}, ${e.reason}) in ${e.delayMs} ms: ${e.error}`
        : undefined;
    case 'failed':
      return `[loadgen] ${e.sink} write seq ${e.seq} FAILED (${e.reason}): ${e.error}`;
    case 'stopping':
      return `[loadgen] stopping (${e.reason}${e.abortReason ? `: ${e.abortReason}` : ''})`;
  }
}

async function main(): Promise<number> {
  const parsed = parseCliArgs(process.argv.slice(2));
  if (!parsed.ok) {
    process.stderr.write(`loadgen: ${parsed.message.split('\n').join('\nloadgen: ')}\n\n${USAGE}`);
    return 2;
  }
  if ('help' in parsed) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { generator: options, quiet, verbose } = parsed.options;
  const log = (line: string | undefined) => {
    if (line !== undefined) process.stderr.write(`${line}\n`);
  };
  const generator = startLoadGenerator({ ...options, onEvent: (e) => log(describe(e, verbose)) });
  const sinks = options.kafka ? 'PostgreSQL + Kafka' : 'PostgreSQL only (no --kafka-brokers)';
  log(
    `[loadgen] writer ${generator.writerId}: ${options.ratePerSecond} writes/s to ${sinks}; journal ${generator.journalPath}`,
  );

  let lastAcked = 0;
  const ticker = quiet
    ? undefined
    : setInterval(() => {
        const stats = generator.stats();
        log(progressLine(stats, stats.acknowledged.postgres - lastAcked));
        lastAcked = stats.acknowledged.postgres;
      }, 1000);
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // One Ctrl-C can arrive twice (the terminal's process group and tsx's relay): only a
    // second signal at least a second later means "exit now".
    if (firstSignalAt !== undefined) {
      if (Date.now() - firstSignalAt < 1000) return;
      log(`[loadgen] ${signal} again: exiting now`);
      process.exit(130);
    }
    firstSignalAt = Date.now();
    log(`[loadgen] ${signal}: finishing in-flight writes (again to exit now)`);
    void generator.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await generator.done;
    if (!quiet) log(progressLine(summary));
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return summary.stopReason === 'aborted' ? 1 : 0;
  } finally {
    if (ticker) clearInterval(ticker);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`loadgen: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
