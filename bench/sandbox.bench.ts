import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultSandboxConfig } from '../sandbox/config';
import { silentProgress } from '../sandbox/progress';
import { REPO_ROOT, startSandbox, stopSandbox } from '../sandbox/sandbox';
import { startLoadGenerator } from '../workload';
import { mib, pidsInGroups, pssBytes, rssBytes } from './process-memory';

/**
 * npm run bench:sandbox — start-up time of the whole sandbox (first start after install,
 * then a second, warm start) and its peak memory under a light load. Targets: ready in
 * under 60 s on 2 cores; under 3 GiB resident.
 */
// --with-install: a fresh download cache, so the first start includes fetching the Kafka jars and moto.
const withInstall = process.argv.includes('--with-install');
const config = defaultSandboxConfig(REPO_ROOT, 'bench', {
  portBase: 25300,
  ...(withInstall ? { cacheDir: fs.mkdtempSync(path.join(REPO_ROOT, '.sandbox', 'bench-cache-')) } : {}),
});
const registry = path.join(config.rootDir, 'processes.json');
const groups = () => (JSON.parse(fs.readFileSync(registry, 'utf8')) as { pid: number }[]).map((p) => p.pid);

async function measuredStart(label: string) {
  const started = process.hrtime.bigint();
  const endpoints = await startSandbox(config, silentProgress);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${label.padEnd(28)} ready in ${seconds.toFixed(1)} s (target < 60 s)`);
  return { endpoints, seconds };
}

async function peakMemoryUnderLoad(endpoints: Awaited<ReturnType<typeof startSandbox>>) {
  const journal = path.join(config.rootDir, 'bench-journal.jsonl');
  const load = startLoadGenerator({
    journalPath: journal,
    ratePerSecond: 100,
    durationSeconds: 15,
    postgres: { ...endpoints.primary.postgres, user: endpoints.postgresUsers.app },
    kafka: { brokers: endpoints.primary.kafka.brokers },
  });
  let peakPss = 0;
  let peakRss = 0;
  const sampler = (async () => {
    for (let i = 0; i < 30; i += 1) {
      const pids = pidsInGroups(groups());
      peakPss = Math.max(peakPss, pssBytes(pids));
      peakRss = Math.max(peakRss, rssBytes(pids));
      await sleep(500);
    }
  })();
  const summary = await load.done;
  await sampler;
  console.log(
    `peak memory under load            PSS ${mib(peakPss)}, RSS ${mib(peakRss)} (target < 3072 MiB; ${summary.acknowledged.postgres} writes in 15 s)`,
  );
}

async function main() {
  await stopSandbox(config);
  const cold = await measuredStart(
    withInstall ? 'first start incl. install' : 'first start (empty data dirs)',
  );
  await peakMemoryUnderLoad(cold.endpoints);
  await stopSandbox(config);
  const warm = await measuredStart('second start (warm caches)');
  await stopSandbox(config);
  console.log(`ratio warm/first: ${(warm.seconds / cold.seconds).toFixed(2)}`);
  if (withInstall) fs.rmSync(config.cacheDir, { recursive: true, force: true });
}

main().catch(async (err) => {
  console.error(err);
  await stopSandbox(config);
  process.exit(1);
});
