/**
 * Ledger reconciliation against real PostgreSQL (a fresh sandbox): the load generator
 * writes and journals acknowledged writes; a baseline is captured; the reconciliation the
 * failover runs (and `npm run reconcile`, the operators' CLI) then has to find a deleted
 * acknowledged order as SEV-1 naming table, writer and seq, and classify writes after the
 * snapshot as expected. Tests run in order and build on each other's effects.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { journalFile } from '../../drill/journal-source';
import type { LedgerAggregates } from '../../lambdas/shared/adapters/contracts';
import { SelfManagedPostgresAdapter } from '../../lambdas/shared/adapters/postgres';
import { reconcileLedger } from '../../lambdas/shared/ledger/reconcile';
import { SANDBOX_HOST } from '../../sandbox/config';
import { POSTGRES_APP_USER, POSTGRES_DATABASE, POSTGRES_OPERATOR, queryOnce } from '../../sandbox/postgres';
import { REPO_ROOT } from '../../sandbox/sandbox';
import { startLoadGenerator } from '../../workload';
import { useFreshSandbox } from './fresh-sandbox';

const run = promisify(execFile);
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

const adapter = (port: number) =>
  new SelfManagedPostgresAdapter({
    connection: {
      host: SANDBOX_HOST,
      port,
      database: POSTGRES_DATABASE,
      operatorUser: POSTGRES_OPERATOR,
      applicationUser: POSTGRES_APP_USER,
    },
    pollIntervalMs: 50,
  });

/** `npm run reconcile -- …` as an operator runs it: exit code, stdout, stderr. */
async function reconcileCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      TSX,
      [path.join(REPO_ROOT, 'integrity', 'reconcile-cli.ts'), ...args],
      {
        cwd: REPO_ROOT,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('ledger reconciliation on a fresh sandbox', () => {
  const endpoints = useFreshSandbox('integrity-reconcile', 26300);
  const primaryPort = () => endpoints().primary.postgres.port;
  const standbyPort = () => endpoints().secondary.postgres.port;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-reconcile-'));
  const journal = path.join(dir, 'acknowledged.jsonl');
  const baselineFile = path.join(dir, 'baseline.json');
  let baseline: LedgerAggregates;
  let writerBefore: string;
  let writerAfter: string;

  /** The load generator, PostgreSQL only, appending to the shared journal. */
  async function trade(writes: number): Promise<string> {
    const generator = startLoadGenerator({
      journalPath: journal,
      ratePerSecond: 200,
      maxWrites: writes,
      postgres: { ...endpoints().primary.postgres, user: endpoints().postgresUsers.app },
    });
    const result = await generator.done;
    expect(result.acknowledged.postgres).toBe(writes);
    return generator.writerId;
  }

  test('before anything is lost: the standby, once replayed, is at parity with the baseline and holds every acknowledged write', async () => {
    writerBefore = await trade(150);
    baseline = await adapter(primaryPort()).ledgerAggregates();
    expect(baseline.byWriter?.orders?.[writerBefore]?.rows).toBeGreaterThan(0);
    expect(Object.keys(baseline.byAccount?.orders ?? {}).length).toBeGreaterThan(1);
    expect(Object.keys(baseline.byInstrument?.fills ?? {}).length).toBeGreaterThan(1);
    await adapter(standbyPort()).waitForReplay(10_000);

    const result = await reconcileLedger({
      baseline,
      target: adapter(standbyPort()),
      journal: journalFile(journal),
    });
    expect(result.findings).toEqual([]);
    expect(result).toMatchObject({ parity: true, sev1: false, journal: { acknowledged: 150, missing: 0 } });
  });

  test('the operators’ CLI captures a baseline and finds parity (exit 0)', async () => {
    const captured = await reconcileCli(['--capture', baselineFile, '--pg-port', String(primaryPort())]);
    expect(captured.code).toBe(0);
    expect(captured.stderr).toMatch(
      /baseline of PostgreSQL 127\.0\.0\.1:\d+\/tradepulse as dr_operator captured at/,
    );
    const onFile = JSON.parse(fs.readFileSync(baselineFile, 'utf8')) as LedgerAggregates;
    expect(onFile.tables).toEqual(baseline.tables);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const checked = await reconcileCli([
      '--baseline',
      baselineFile,
      '--pg-port',
      String(primaryPort()),
      '--journal',
      journal,
    ]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain('journal   150 acknowledged writes checked, 0 missing');
    expect(checked.stdout).toContain('RESULT: parity — no SEV-1 finding');
  });

  test('writes after the snapshot are classified as expected, per table and writer with their seq range', async () => {
    writerAfter = await trade(40);
    const result = await reconcileLedger({
      baseline,
      target: adapter(primaryPort()),
      journal: journalFile(journal),
    });
    expect(result.sev1).toBe(false);
    expect(result.journal).toEqual({ acknowledged: 190, missing: 0 });
    const later = result.findings.filter((f) => f.classification === 'write-after-snapshot');
    expect(later.length).toBeGreaterThan(0);
    expect(result.findings).toEqual(later);
    expect(later).toContainEqual(
      expect.objectContaining({
        table: 'orders',
        key: expect.stringMatching(new RegExp(`^writer ${writerAfter} seq 1-\\d+$`)),
        expected: expect.stringContaining('(writer not in it)'),
        sev1: false,
      }),
    );
    // Positions and balances moved with the later fills, yet within the horizon they equal the baseline.
    expect(result.found.horizon!.within.positionsByAccountInstrument).toEqual(
      Object.fromEntries(Object.entries(baseline.positionsByAccountInstrument)),
    );
  });

  test('a deleted acknowledged order is SEV-1: missing data naming table, account, instrument and writer seq, and a missing acknowledged write', async () => {
    const [victim] = await queryOnce<{ seq: string; account_id: string; symbol: string }>(
      primaryPort(),
      `select o.seq::text, o.account_id, o.symbol from orders o
        where o.writer_id = $1
          and not exists (select 1 from fills f where f.order_id = o.order_id)
          and not exists (select 1 from risk_events r where r.order_id = o.order_id)
        order by o.seq limit 1`,
      [writerBefore],
    );
    expect(victim).toBeDefined();
    await queryOnce(primaryPort(), 'delete from orders where writer_id = $1 and seq = $2', [
      writerBefore,
      victim!.seq,
    ]);

    const result = await reconcileLedger({
      baseline,
      target: adapter(primaryPort()),
      journal: journalFile(journal),
    });
    expect(result.sev1).toBe(true);
    expect(result.journal).toEqual({ acknowledged: 190, missing: 1 });
    const sev1 = result.findings.filter((f) => f.sev1);
    expect(sev1).toContainEqual({
      table: 'orders',
      key: `writer ${writerBefore} seq ${victim!.seq}`,
      expected: expect.stringMatching(/acknowledged$/),
      found: expect.stringMatching(/ present, 1 missing$/),
      classification: 'missing-acknowledged-write',
      sev1: true,
    });
    expect(sev1).toContainEqual(
      expect.objectContaining({ table: 'orders', key: 'all rows', classification: 'missing-data' }),
    );
    expect(sev1).toContainEqual(
      expect.objectContaining({
        table: 'orders',
        key: `account ${victim!.account_id}`,
        classification: 'missing-data',
      }),
    );
    expect(sev1).toContainEqual(
      expect.objectContaining({
        table: 'orders',
        key: `instrument ${victim!.symbol}`,
        classification: 'missing-data',
      }),
    );
    // Without the journal the aggregates alone name the writer and the seq that is gone.
    expect(sev1).toContainEqual(
      expect.objectContaining({
        table: 'orders',
        key: `writer ${writerBefore} seq ${victim!.seq}`,
        classification: 'missing-data',
      }),
    );
    // The later writes are still only expected.
    expect(
      result.findings.filter((f) => f.key.startsWith(`writer ${writerAfter}`)).every((f) => !f.sev1),
    ).toBe(true);
  });

  test('the CLI exits 1 on SEV-1 and prints the finding with table, writer and seq', async () => {
    const out = path.join(dir, 'result.json');
    const checked = await reconcileCli([
      '--baseline',
      baselineFile,
      '--pg-port',
      String(primaryPort()),
      '--journal',
      journal,
      '--out',
      out,
    ]);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(
      new RegExp(
        `SEV-1 +missing-acknowledged-write +orders writer ${writerBefore} seq \\d+: expected \\d+ acknowledged`,
      ),
    );
    expect(checked.stdout).toMatch(/expected +write-after-snapshot +orders writer /);
    expect(checked.stdout).toMatch(
      /RESULT: SEV-1 — \d+ finding\(s\): manual broker reconciliation is required/,
    );
    const saved = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      sev1: boolean;
      counts: Record<string, number>;
    };
    expect(saved.sev1).toBe(true);
    expect(saved.counts['missing-acknowledged-write']).toBe(1);
  });

  test('bad input: a baseline that is not valid, unknown tables, a wrong port — clear errors, exit 2, nothing written', async () => {
    const notJson = path.join(dir, 'not-json.json');
    fs.writeFileSync(notJson, '{"tables": ');
    const r1 = await reconcileCli(['--baseline', notJson, '--pg-port', String(primaryPort())]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(new RegExp(`baseline ${notJson} is not JSON`));

    const unknownTable = path.join(dir, 'unknown-table.json');
    fs.writeFileSync(
      unknownTable,
      JSON.stringify({ ...baseline, tables: { ...baseline.tables, trades: { rows: 3 } } }),
    );
    const r2 = await reconcileCli(['--baseline', unknownTable, '--pg-port', String(primaryPort())]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(
      "tables.trades: unknown table 'trades' (known: accounts, instruments, orders",
    );

    const noAggregates = path.join(dir, 'manifest.json');
    fs.writeFileSync(
      noAggregates,
      JSON.stringify({
        version: 1,
        kind: 'postgres-base-backup',
        createdAt: '2026-11-27T00:00:00Z',
        files: [],
      }),
    );
    const r3 = await reconcileCli(['--baseline', noAggregates, '--pg-port', String(primaryPort())]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('is a postgres-base-backup manifest without ledger aggregates');

    const r4 = await reconcileCli(['--baseline', baselineFile, '--pg-port', '26309']);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toMatch(
      /cannot reach PostgreSQL 127\.0\.0\.1:26309\/tradepulse as dr_operator: .*ECONNREFUSED/,
    );

    const missingJournal = await reconcileCli([
      '--baseline',
      baselineFile,
      '--pg-port',
      String(primaryPort()),
      '--journal',
      path.join(dir, 'nope.jsonl'),
    ]);
    expect(missingJournal.code).toBe(2);
    expect(missingJournal.stderr).toContain('nope.jsonl does not exist');

    const capture = path.join(dir, 'never.json');
    const r5 = await reconcileCli(['--capture', capture, '--pg-port', '26309']);
    expect(r5.code).toBe(2);
    expect(fs.existsSync(capture)).toBe(false);
  });
});
