/**
 * npm run bench:integrity [-- --only <section>[,<section>]] [--port-base N] [--orders N]
 *
 * Data-loss mitigation benchmarks (issue 6 targets), one section per job, all on one fresh
 * sandbox started here and torn down at the end. Each section is a function of the shared
 * context that prints its figures and says whether it met its target; add a section by
 * appending it to SECTIONS.
 *
 *  - reconciliation: N (default 1,000,000) orders with their fills, cash-ledger postings
 *    and positions bulk-loaded (set-based SQL, not the load generator); a baseline
 *    captured; 1,000 trades written after it; then the ledger reconciliation the failover
 *    runs (aggregates split at the baseline's horizon + exact comparison) timed — target
 *    under 10 s.
 */
import { parseArgs } from 'node:util';
import { SelfManagedPostgresAdapter } from '../lambdas/shared/adapters/postgres';
import { reconcileLedger } from '../lambdas/shared/ledger/reconcile';
import { defaultSandboxConfig, SANDBOX_HOST } from '../sandbox/config';
import type { SandboxEndpoints } from '../sandbox/endpoints';
import { POSTGRES_APP_USER, POSTGRES_DATABASE, POSTGRES_OPERATOR } from '../sandbox/postgres';
import { silentProgress } from '../sandbox/progress';
import { REPO_ROOT, startSandbox, stopSandbox } from '../sandbox/sandbox';
import { BULK_WRITER, loadBulkLedger } from './bulk-ledger';

export interface BenchContext {
  endpoints: SandboxEndpoints;
  /** Orders (each with a fill) the data sections work on. */
  orders: number;
  /** Loads the bulk ledger into the primary once; later calls reuse it. */
  bulkLedger(): Promise<{ orders: number; loadMs: number }>;
}

export interface SectionResult {
  /** Met its target. */
  pass: boolean;
  /** One line per figure, as printed. */
  figures: string[];
}

export interface BenchSection {
  name: string;
  run(ctx: BenchContext): Promise<SectionResult>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const log = (section: string, line: string) => console.log(`[${section}] ${line}`);

// ---------------------------------------------------------------- reconciliation

const RECONCILIATION_TARGET_MS = 10_000;
const LATE_TRADES = 1_000;

export const reconciliationSection: BenchSection = {
  name: 'reconciliation',
  async run(ctx) {
    const name = this.name;
    const { orders, loadMs } = await ctx.bulkLedger();
    log(
      name,
      `loaded ${orders.toLocaleString('en-US')} orders with their fills, ledger postings and positions in ${seconds(loadMs)}`,
    );
    const primary = ctx.endpoints.primary.postgres;
    const adapter = new SelfManagedPostgresAdapter({
      connection: {
        host: SANDBOX_HOST,
        port: primary.port,
        database: POSTGRES_DATABASE,
        operatorUser: POSTGRES_OPERATOR,
        applicationUser: POSTGRES_APP_USER,
        statementTimeoutMs: 120_000,
      },
    });
    let started = Date.now();
    const baseline = await adapter.ledgerAggregates();
    const captureMs = Date.now() - started;
    log(name, `baseline capture (aggregates per table, account, instrument, writer): ${seconds(captureMs)}`);

    // Trading went on after the snapshot: these must come out as expected, not SEV-1.
    await loadBulkLedger(primary.port, { orders: LATE_TRADES, from: orders + 1 });
    log(name, `${LATE_TRADES.toLocaleString('en-US')} trades written after the snapshot`);

    started = Date.now();
    const result = await reconcileLedger({ baseline, target: adapter });
    const reconcileMs = Date.now() - started;
    const pass = reconcileMs < RECONCILIATION_TARGET_MS && !result.sev1;
    const figures = [
      `aggregates + reconciliation of ${orders.toLocaleString('en-US')} orders (+ fills, ledger, positions): ${seconds(reconcileMs)} (target < ${seconds(RECONCILIATION_TARGET_MS)})`,
      `findings: ${result.findings.filter((f) => f.sev1).length} SEV-1, ${result.counts['write-after-snapshot']} write-after-snapshot (expected: ${LATE_TRADES} orders and fills of writer ${BULK_WRITER} after seq ${2 * orders})`,
    ];
    for (const f of figures) log(name, f);
    return { pass, figures: [`baseline capture ${seconds(captureMs)}`, ...figures] };
  },
};

/** Sections run in this order; others append theirs. */
export const SECTIONS: BenchSection[] = [reconciliationSection];

// ---------------------------------------------------------------- runner

async function main() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      'port-base': { type: 'string', default: '26310' },
      orders: { type: 'string', default: '1000000' },
    },
  });
  const wanted = values.only?.split(',').map((s) => s.trim());
  const unknown = wanted?.filter((w) => !SECTIONS.some((s) => s.name === w)) ?? [];
  if (unknown.length > 0)
    throw new Error(
      `unknown section(s) ${unknown.join(', ')}; sections: ${SECTIONS.map((s) => s.name).join(', ')}`,
    );
  const orders = Number(values.orders);
  if (!Number.isSafeInteger(orders) || orders < 1) throw new Error(`--orders must be a positive integer`);
  const config = defaultSandboxConfig(REPO_ROOT, 'bench-integrity', {
    portBase: Number(values['port-base']),
  });
  console.log(`bench:integrity on a fresh sandbox (port base ${config.portBase})`);
  const endpoints = await startSandbox(config, silentProgress);
  let loaded: Promise<{ orders: number; loadMs: number }> | undefined;
  const ctx: BenchContext = {
    endpoints,
    orders,
    bulkLedger: () =>
      (loaded ??= loadBulkLedger(endpoints.primary.postgres.port, { orders }).then(({ ms }) => ({
        orders,
        loadMs: ms,
      }))),
  };
  const summary: string[] = [];
  let allPass = true;
  try {
    for (const section of SECTIONS.filter((s) => !wanted || wanted.includes(s.name))) {
      const result = await section.run(ctx);
      allPass &&= result.pass;
      summary.push(`${section.name}: ${result.pass ? 'PASS' : 'MISSED'} — ${result.figures.join('; ')}`);
    }
  } finally {
    await stopSandbox(config);
  }
  console.log(`\n${summary.join('\n')}`);
  if (!allPass) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
