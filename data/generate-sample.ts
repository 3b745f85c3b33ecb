/**
 * Writes the DR validation dataset, data/sample.csv (`npm run data:sample`).
 * Deterministic: the same seed and row count give a byte-identical file.
 *
 *   tsx data/generate-sample.ts [--seed N] [--rows N] [--out path]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateSampleCsv, SAMPLE_DEFAULTS } from './sample-ticks';

const here = path.dirname(fileURLToPath(import.meta.url));

function main(): number {
  let values: { seed?: string; rows?: string; out?: string };
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: { seed: { type: 'string' }, rows: { type: 'string' }, out: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(
      `generate-sample: ${(err as Error).message}\nusage: tsx data/generate-sample.ts [--seed N] [--rows N] [--out path]\n`,
    );
    return 2;
  }
  const int = (flag: string, raw: string | undefined, fallback: number): number | undefined => {
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
      process.stderr.write(
        `generate-sample: --${flag} must be a positive integer (got ${JSON.stringify(raw)})\n`,
      );
      return undefined;
    }
    return Number(raw);
  };
  const seed = int('seed', values.seed, SAMPLE_DEFAULTS.seed);
  const rows = int('rows', values.rows, SAMPLE_DEFAULTS.rows);
  if (seed === undefined || rows === undefined) return 2;
  const out = values.out ?? path.join(here, 'sample.csv');
  const csv = generateSampleCsv({ seed, rows });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, csv);
  process.stderr.write(
    `generate-sample: wrote ${rows} ticks (seed ${seed}) to ${path.relative(process.cwd(), out) || out}\n`,
  );
  return 0;
}

process.exitCode = main();
