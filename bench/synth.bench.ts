import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { DEFAULT_CONFIG_FILE, loadDeploymentConfig } from '../bin/config';
import { STEP_FUNCTIONS, handlerEntry, type StepFunctionName } from '../lambdas/registry';
import { PROJECT_ROOT } from '../lib/dr-step-function';
import { DATA_STORE_DRIVERS, driverPackages, stageDriverLayer } from '../lib/driver-layer';
import { esbuildOptionsFor, stepBundlingOptions } from '../lib/step-bundling';

/**
 * npm run bench:synth [-- --runs N] [-- --no-synth]
 *
 * 1. Bundles every step's handler exactly as the stack does (lib/step-bundling.ts, the
 *    options the DrStepFunction construct gives NodejsFunction) and prints each bundle's
 *    minified size against the 300 KB budget, with the packages that dominate it (esbuild
 *    metafile).
 *    The data-store drivers are not in the bundles: they ship once, in the stack's driver
 *    layer (lib/driver-layer.ts), whose size is printed too.
 * 2. Imports each bundle in a fresh Node process and prints how long `import()` took: a
 *    proxy for the cold-start init. The AWS SDK v3 is external, as in Lambda, where the
 *    runtime provides it; here the project's copy stands in (node_modules linked beside the
 *    bundle), so SDK client loading is part of the figure, as it is in Lambda's init.
 * 3. Times `cdk synth` of every stack (target < 60 s), into a fresh output directory so no
 *    bundle is reused; the CDK CLI runs with notices, telemetry and version checks off.
 */

const BUDGET_BYTES = 300 * 1024;
const SYNTH_TARGET_SECONDS = 60;

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
const runs = Number(option('runs') ?? 3);
if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
  console.error(`--runs must be a whole number from 1 to 20, got '${option('runs')}'`);
  process.exit(2);
}
const skipSynth = process.argv.includes('--no-synth');

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The package (or project folder) a metafile input belongs to. */
function ownerOf(input: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (pkg) return pkg[1]!;
  return input
    .split('/')
    .slice(0, input.startsWith('lambdas/shared/') ? 3 : 2)
    .join('/');
}

interface BundleMeasure {
  step: StepFunctionName;
  bytes: number;
  dir: string;
  top: { owner: string; bytes: number }[];
}

async function bundleAll(workDir: string): Promise<BundleMeasure[]> {
  const config = loadDeploymentConfig(path.join(PROJECT_ROOT, DEFAULT_CONFIG_FILE));
  const bundling = stepBundlingOptions(config.bundleAwsSdk);
  const out: BundleMeasure[] = [];
  for (const step of Object.keys(STEP_FUNCTIONS) as StepFunctionName[]) {
    const dir = path.join(workDir, step);
    const options = esbuildOptionsFor(
      bundling,
      path.join(PROJECT_ROOT, handlerEntry(step)),
      dir,
      PROJECT_ROOT,
    );
    const result = await esbuild.build({ ...options, metafile: true });
    const output = result.metafile.outputs[path.relative(PROJECT_ROOT, options.outfile)];
    if (!output) throw new Error(`esbuild wrote no ${options.outfile} for ${step}`);
    const byOwner = new Map<string, number>();
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs))
      byOwner.set(ownerOf(input), (byOwner.get(ownerOf(input)) ?? 0) + bytesInOutput);
    const top = [...byOwner]
      .map(([owner, bytes]) => ({ owner, bytes }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 4);
    out.push({ step, bytes: fs.statSync(options.outfile).size, dir, top });
  }
  return out;
}

/** Milliseconds `import('./index.mjs')` takes in a fresh Node process (median of `runs`). */
function importMs(dir: string): number {
  fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const script =
    "const t = performance.now(); await import('./index.mjs'); process.stdout.write('IMPORT_MS ' + (performance.now() - t));";
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-west-2',
        POWERTOOLS_SERVICE_NAME: 'tradepulse-dr',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const match = /IMPORT_MS ([\d.]+)/.exec(result.stdout);
    if (result.status !== 0 || !match)
      throw new Error(`importing ${dir}/index.mjs failed: ${result.stderr || result.stdout}`);
    samples.push(Number(match[1]));
  }
  return median(samples);
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  return total;
}

/** The one layer every step function shares: the drivers' npm packages, unchanged. */
function reportDriverLayer(): void {
  const packages = driverPackages(PROJECT_ROOT);
  const content = stageDriverLayer(PROJECT_ROOT, packages);
  const versions = DATA_STORE_DRIVERS.map((d) => `${d} ${packages.get(d)!.version}`).join(', ');
  console.log(
    `driver layer (shared by every step, not counted in the bundles): ${versions} with ${packages.size - DATA_STORE_DRIVERS.length} dependencies, ${(directoryBytes(content) / 1024 / 1024).toFixed(1)} MB unpacked`,
  );
}

function timeSynth(): { seconds: number; stacks: string[] } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-bench-synth-'));
  try {
    const started = process.hrtime.bigint();
    const result = spawnSync(
      path.join(PROJECT_ROOT, 'node_modules', '.bin', 'cdk'),
      ['synth', '--quiet', '--no-notices', '--output', outdir],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DISABLE_VERSION_CHECK: '1' },
        encoding: 'utf8',
        timeout: 600_000,
      },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.status !== 0) throw new Error(`cdk synth failed:\n${result.stderr}\n${result.stdout}`);
    const stacks = fs
      .readdirSync(outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => f.replace(/\.template\.json$/, ''));
    return { seconds, stacks };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

async function main() {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-bench-bundles-'));
  try {
    console.log(
      `bundles (esbuild ${esbuild.version}, the stack's options; budget ${kb(BUDGET_BYTES)} minified)`,
    );
    const bundles = await bundleAll(workDir);
    console.log(
      `${'step'.padEnd(22)} ${'bundle'.padStart(9)}   ${'import'.padStart(8)}   largest parts (minified bytes in the bundle)`,
    );
    for (const b of bundles) {
      const ms = importMs(b.dir);
      const mark = b.bytes <= BUDGET_BYTES ? '✓' : '✗';
      const parts = b.top.map((t) => `${t.owner} ${kb(t.bytes)}`).join(', ');
      console.log(
        `${b.step.padEnd(22)} ${kb(b.bytes).padStart(9)} ${mark} ${`${ms.toFixed(0)} ms`.padStart(8)}   ${parts}`,
      );
    }
    const over = bundles.filter((b) => b.bytes > BUDGET_BYTES);
    const sizes = bundles.map((b) => b.bytes);
    console.log(
      `bundles: ${bundles.length - over.length}/${bundles.length} within ${kb(BUDGET_BYTES)}; smallest ${kb(Math.min(...sizes))}, median ${kb(median(sizes))}, largest ${kb(Math.max(...sizes))}` +
        (over.length ? `; over: ${over.map((b) => b.step).join(', ')}` : ''),
    );
    console.log(
      `import time: median of ${runs} fresh Node ${process.version} processes per bundle, loading the drivers it imports`,
    );
    reportDriverLayer();
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }

  if (skipSynth) return;
  const synth = timeSynth();
  console.log(
    `cdk synth: ${synth.seconds.toFixed(1)} s for ${synth.stacks.length} stacks (${synth.stacks.join(', ')}) on ${os.availableParallelism()} cores (target < ${SYNTH_TARGET_SECONDS} s) ${synth.seconds < SYNTH_TARGET_SECONDS ? '✓' : '✗'}`,
  );
}

main().catch((err: Error) => {
  console.error(`bench:synth: ${err.message}`);
  process.exit(1);
});
