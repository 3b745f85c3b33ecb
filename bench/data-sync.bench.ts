import { createCipheriv, createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAwsClients } from '../lambdas/shared/adapters/aws/clients';
import { buildManifest, type ManifestPart } from '../lambdas/shared/manifest';
import { syncManifest, type SyncResult } from '../integrity/sync/engine';
import { FaultInjectingS3, SimulatedInterruptionError } from '../integrity/sync/fault-injection';
import { FileSyncJournal } from '../integrity/sync/journal';
import { LocalDirSyncSource, S3SyncSource } from '../integrity/sync/object-store';
import { MiB, validatePartSize } from '../integrity/sync/part-plan';
import { terminalSyncProgress } from '../integrity/sync/progress';
import { defaultSandboxConfig } from '../sandbox/config';
import type { SandboxEndpoints } from '../sandbox/endpoints';
import { silentProgress } from '../sandbox/progress';
import { REPO_ROOT, startSandbox, stopSandbox } from '../sandbox/sandbox';
import { mib, pidsInGroups, rssBytes } from './process-memory';

/**
 * npm run bench:data-sync — the resilient data sync on the sandbox's moto S3: a file
 * (1 GiB by default) generated deterministically on disk and streamed into the primary
 * region's bucket, then synced to the secondary region's bucket, interrupted at half way
 * (fault injection: the "process" dies after half the parts), and resumed by a new run.
 * Target: the resumed run finishes without re-sending any part the first run completed.
 * Prints the parts sent before and after the interruption, completed parts re-sent,
 * MB/s, and the peak RSS of this process and of moto (which keeps objects in memory).
 *
 *   --size-mib N      file size (default 1024)
 *   --part-size MiB   multipart part size (default 16)
 *   --concurrency N   parts in flight (default 4)
 *   --port-base N     the benchmark's own sandbox (default 26500)
 */

export interface DataSyncBenchOptions {
  endpoints: SandboxEndpoints;
  sizeBytes: number;
  partSize: number;
  concurrency: number;
  /** Directory for the generated file and the journal. */
  workDir: string;
  /** Process ids whose resident memory to watch (moto). */
  watchPids?: () => number[];
  log?: (line: string) => void;
}

export interface DataSyncBenchResult {
  sizeBytes: number;
  partSize: number;
  parts: number;
  generateSeconds: number;
  seed: { seconds: number; mbPerSecond: number };
  interrupted: { partsSent: number; partNumbers: number[]; seconds: number };
  resumed: {
    partsSent: number;
    partsKept: number;
    completedPartsResent: number;
    seconds: number;
    transferSeconds: number;
    verifySeconds: number;
    sendMBps: number;
    verifyMBps: number;
    /** moto's CompleteMultipartUpload of the whole object (included in transferSeconds). */
    completeSeconds: number;
  };
  /** Both runs of the interrupted sync: bytes sent over time spent sending. */
  overallSendMBps: number;
  peakRssBytes: number;
  peakWatchedRssBytes: number;
  targetMet: boolean;
}

/** Deterministic, incompressible bytes: AES-256-CTR keystream of a fixed key, written in 1 MiB chunks and hashed in parts. */
async function generateFile(file: string, size: number, partSize: number) {
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(MiB);
  const whole = createHash('sha256');
  const parts: ManifestPart[] = [];
  let part = createHash('sha256');
  let partFilled = 0;
  const out = fs.createWriteStream(file);
  for (let written = 0; written < size;) {
    const n = Math.min(MiB, size - written);
    const chunk = cipher.update(zeros.subarray(0, n));
    whole.update(chunk);
    for (let at = 0; at < chunk.length;) {
      const take = Math.min(partSize - partFilled, chunk.length - at);
      part.update(chunk.subarray(at, at + take));
      partFilled += take;
      at += take;
      if (partFilled === partSize) {
        parts.push({
          index: parts.length,
          offset: parts.length * partSize,
          size: partSize,
          sha256: part.digest('hex'),
        });
        part = createHash('sha256');
        partFilled = 0;
      }
    }
    if (!out.write(chunk)) await once(out, 'drain');
    written += n;
  }
  if (partFilled > 0)
    parts.push({
      index: parts.length,
      offset: parts.length * partSize,
      size: partFilled,
      sha256: part.digest('hex'),
    });
  out.end();
  await once(out, 'finish');
  return { size, sha256: whole.digest('hex'), parts };
}

export async function benchDataSync(opts: DataSyncBenchOptions): Promise<DataSyncBenchResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  validatePartSize(opts.partSize);
  const { endpoints } = opts;
  const primary = endpoints.primary.region;
  const secondary = endpoints.secondary.region;
  const clients = (region: string) =>
    createAwsClients({
      region,
      endpoint: endpoints.aws.endpoint,
      credentials: endpoints.aws.credentials,
      // moto assembles a completed upload before it answers: allow it time.
      requestTimeoutMs: 600_000,
    });
  const awsPrimary = clients(primary);
  const awsSecondary = clients(secondary);
  const fromBucket = endpoints.aws.resources.regional[primary]!.evidenceBucket;
  const toBucket = endpoints.aws.resources.regional[secondary]!.evidenceBucket;
  const runId = new Date().toISOString().replace(/[-:.]/g, '');
  const prefix = `bench/data-sync/${runId}/`;
  const dataDir = path.join(opts.workDir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });

  let peakWatched = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      if (opts.watchPids) peakWatched = Math.max(peakWatched, rssBytes(opts.watchPids()));
      await sleep(200);
    }
  })();

  try {
    let t = Date.now();
    const digest = await generateFile(path.join(dataDir, 'artifact.bin'), opts.sizeBytes, opts.partSize);
    const generateSeconds = (Date.now() - t) / 1000;
    const manifest = buildManifest({
      kind: 'artifact-sync',
      files: [{ path: 'artifact.bin', size: digest.size, sha256: digest.sha256, parts: digest.parts }],
      metadata: { purpose: 'data-sync benchmark' },
    });
    fs.writeFileSync(path.join(dataDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
    const parts = digest.parts.length;
    log(
      `generated ${mib(opts.sizeBytes)} on disk in ${generateSeconds.toFixed(1)} s: ${parts} parts of ${mib(opts.partSize)}`,
    );

    // Seed the primary region's bucket (the same engine, from the local directory).
    t = Date.now();
    await syncManifest({
      source: new LocalDirSyncSource(dataDir),
      target: { s3: awsPrimary.s3, bucket: fromBucket, prefix },
      partSize: opts.partSize,
      concurrency: opts.concurrency,
      progress: terminalSyncProgress({ prefix: 'seed primary' }),
    });
    const seedSeconds = (Date.now() - t) / 1000;
    log(`seeded s3://${fromBucket}/${prefix} in ${seedSeconds.toFixed(1)} s`);

    const syncOptions = (s3: FaultInjectingS3) => ({
      source: new S3SyncSource(awsPrimary.s3, fromBucket, prefix),
      target: { s3, bucket: toBucket, prefix },
      partSize: opts.partSize,
      concurrency: opts.concurrency,
      journal: new FileSyncJournal(path.join(opts.workDir, 'journal')),
    });

    // Run 1: dies once half the parts are in.
    const half = Math.floor(parts / 2);
    const first = new FaultInjectingS3(awsSecondary.s3, { interruptAfterParts: half });
    t = Date.now();
    try {
      await syncManifest({ ...syncOptions(first), progress: terminalSyncProgress({ prefix: 'sync run 1' }) });
      throw new Error('the first run was meant to be interrupted');
    } catch (err) {
      if (!(err instanceof SimulatedInterruptionError)) throw err;
    }
    const firstSeconds = (Date.now() - t) / 1000;
    const firstParts = first.stats.sent.filter((p) => p.ok && p.partNumber > 0).map((p) => p.partNumber);
    log(`run 1 interrupted after ${firstParts.length} of ${parts} parts (${firstSeconds.toFixed(1)} s)`);

    // Run 2: a new run, new client and journal object, as after a restart.
    const second = new FaultInjectingS3(awsSecondary.s3);
    t = Date.now();
    const result: SyncResult = await syncManifest({
      ...syncOptions(second),
      progress: terminalSyncProgress({ prefix: 'sync run 2' }),
    });
    const secondSeconds = (Date.now() - t) / 1000;
    const secondParts = second.stats.sent.filter((p) => p.partNumber > 0).map((p) => p.partNumber);
    const resent = secondParts.filter((n) => firstParts.includes(n));
    const sentBytes = (ps: number[]) => ps.reduce((n, p) => n + digest.parts[p - 1]!.size, 0);
    const overallSendMBps =
      (sentBytes(firstParts) + sentBytes(secondParts)) / 1e6 / (firstSeconds + result.transferMs / 1000);
    sampling = false;
    await sampler;
    const out: DataSyncBenchResult = {
      sizeBytes: opts.sizeBytes,
      partSize: opts.partSize,
      parts,
      generateSeconds,
      seed: { seconds: seedSeconds, mbPerSecond: opts.sizeBytes / 1e6 / seedSeconds },
      interrupted: {
        partsSent: firstParts.length,
        partNumbers: firstParts.sort((a, b) => a - b),
        seconds: firstSeconds,
      },
      resumed: {
        partsSent: secondParts.length,
        partsKept: result.parts.kept,
        completedPartsResent: resent.length,
        seconds: secondSeconds,
        transferSeconds: result.transferMs / 1000,
        verifySeconds: result.verifyMs / 1000,
        sendMBps: result.sendMBps,
        verifyMBps: result.bytes.verified / 1e6 / (result.verifyMs / 1000),
        completeSeconds: (result.files[0]!.completeMs ?? 0) / 1000,
      },
      overallSendMBps,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      peakWatchedRssBytes: peakWatched,
      targetMet:
        resent.length === 0 && firstParts.length + secondParts.length === parts && result.manifestWritten,
    };
    return out;
  } finally {
    sampling = false;
    await sampler;
    awsPrimary.destroy();
    awsSecondary.destroy();
  }
}

export function printDataSyncBench(r: DataSyncBenchResult, print: (line: string) => void = console.log) {
  const mb = (n: number) => `${n.toFixed(1)} MB/s`;
  print(
    `data-sync ${mib(r.sizeBytes)} in ${r.parts} parts of ${mib(r.partSize)} (primary → secondary bucket, moto)`,
  );
  print(
    `  parts sent before the interruption: ${r.interrupted.partsSent} (${r.interrupted.seconds.toFixed(1)} s)`,
  );
  print(
    `  parts sent after resuming:          ${r.resumed.partsSent} (${r.resumed.partsKept} kept as verified on the target)`,
  );
  print(`  completed parts re-sent:            ${r.resumed.completedPartsResent} (target 0)`);
  print(
    `  send rate: resumed run ${mb(r.resumed.sendMBps)}, both runs ${mb(r.overallSendMBps)}; verification read-back ${mb(r.resumed.verifyMBps)} (${r.resumed.verifySeconds.toFixed(1)} s)`,
  );
  print(
    `  of the resumed run's ${r.resumed.transferSeconds.toFixed(1)} s of transfer, ${r.resumed.completeSeconds.toFixed(1)} s were moto completing the upload (assembling ${mib(r.sizeBytes)})`,
  );
  print(`  seeding the primary bucket from disk: ${mb(r.seed.mbPerSecond)}`);
  print(`  peak RSS: this process ${mib(r.peakRssBytes)}, moto ${mib(r.peakWatchedRssBytes)}`);
  print(`  target met: ${r.targetMet ? 'yes' : 'NO'}`);
}

async function main() {
  const { values } = parseArgs({
    options: {
      'size-mib': { type: 'string', default: '1024' },
      'part-size': { type: 'string', default: '16' },
      concurrency: { type: 'string', default: '4' },
      'port-base': { type: 'string', default: '26500' },
    },
  });
  const sizeBytes = Math.round(Number(values['size-mib']) * MiB);
  const partSize = Math.round(Number(values['part-size']) * MiB);
  const concurrency = Number(values.concurrency);
  if (!(sizeBytes > 0) || !Number.isInteger(concurrency) || concurrency < 1)
    throw new Error('--size-mib and --concurrency must be positive numbers');
  const config = defaultSandboxConfig(REPO_ROOT, 'bench-data-sync', {
    portBase: Number(values['port-base']),
  });
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-data-sync-'));
  const endpoints = await startSandbox(config, silentProgress);
  const registry = path.join(config.rootDir, 'processes.json');
  const motoGroup = () =>
    (JSON.parse(fs.readFileSync(registry, 'utf8')) as { name: string; pid: number }[])
      .filter((p) => p.name === 'moto')
      .map((p) => p.pid);
  try {
    const result = await benchDataSync({
      endpoints,
      sizeBytes,
      partSize,
      concurrency,
      workDir,
      watchPids: () => pidsInGroups(motoGroup()),
    });
    printDataSyncBench(result);
    console.log(JSON.stringify(result));
    if (!result.targetMet) process.exitCode = 1;
  } finally {
    await stopSandbox(config);
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
