import * as z from 'zod';
import type { LedgerAggregates } from '../adapters/contracts';
import { DrError } from '../errors';
import { parseManifest } from '../manifest';
import { formatIssues } from '../topology';

/**
 * Ledger baselines as files: the aggregates of the last healthy state, either on their own
 * (what `npm run reconcile -- --capture` writes) or carried in a manifest's metadata under
 * `ledgerAggregates` (a backup's manifest, in the one manifest format). Everything read is
 * validated: a baseline that names a table the schema does not have, or a figure that is
 * not an exact decimal, is refused with what is wrong and where.
 */
export const MANIFEST_LEDGER_KEY = 'ledgerAggregates';

/** The tables of schemas/postgres/0001_trading_core.sql that reconciliation knows. */
export const RECONCILED_TABLES = [
  'accounts',
  'instruments',
  'orders',
  'fills',
  'risk_events',
  'positions',
  'balance_ledger',
] as const;
const SEQUENCED = ['orders', 'fills', 'risk_events'];

/** The baseline file is not usable: unreadable, not JSON, or not ledger aggregates. */
export class InvalidBaselineError extends DrError {
  override name = 'InvalidBaselineError';
}

const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'must be an exact decimal string, e.g. "1500.25"');
const count = z.number().int().nonnegative();
const figures = z
  .object({ rows: count, quantitySum: decimal.optional(), notionalSum: decimal.optional() })
  .strict();

const byTable = <T extends z.ZodType>(value: T) => z.record(z.string(), value);

/** Table names the schema does not have are named, with the ones it has. */
function checkTableNames(
  aggregates: Record<string, unknown>,
  ctx: { addIssue: (issue: { code: 'custom'; path: (string | number)[]; message: string }) => void },
) {
  const check = (field: string, allowed: readonly string[], what: string) => {
    const value = aggregates[field];
    if (typeof value !== 'object' || value === null) return;
    for (const name of Object.keys(value))
      if (!allowed.includes(name))
        ctx.addIssue({
          code: 'custom',
          path: [field, name],
          message: `unknown ${what} '${name}' (known: ${allowed.join(', ')})`,
        });
  };
  check('tables', RECONCILED_TABLES, 'table');
  for (const field of ['maxSeq', 'byAccount', 'byInstrument', 'byWriter'])
    check(field, SEQUENCED, 'sequenced table');
}

export const LedgerAggregatesSchema = z
  .object({
    capturedAt: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp' }),
    lsn: z
      .string()
      .regex(/^[0-9A-F]+\/[0-9A-F]+$/, 'must be a WAL position like 0/3000000')
      .nullable(),
    tables: byTable(figures),
    balancesByAccount: z.record(z.string(), decimal),
    positionsByAccountInstrument: z.record(z.string(), decimal),
    maxSeq: byTable(count),
    byAccount: byTable(z.record(z.string(), figures)).optional(),
    byInstrument: byTable(z.record(z.string(), figures)).optional(),
    byWriter: byTable(z.record(z.string(), z.object({ rows: count, maxSeq: count }).strict())).optional(),
    writerGaps: z.record(z.string(), z.array(z.number().int().positive())).optional(),
    // A reconciled read's split is evidence, not part of a baseline: accepted and ignored.
    horizon: z.unknown().optional(),
  })
  .strict()
  .superRefine(checkTableNames);

/** Validates ledger aggregates (a captured baseline). */
export function parseLedgerAggregates(input: unknown, source = 'ledger baseline'): LedgerAggregates {
  const result = LedgerAggregatesSchema.safeParse(input);
  if (!result.success)
    throw new InvalidBaselineError(
      `${source} is not valid ledger aggregates:\n${formatIssues(result.error.issues)}`,
      { source },
    );
  const { horizon: _ignored, ...aggregates } = result.data;
  return aggregates as LedgerAggregates;
}

const looksLikeManifest = (json: unknown) =>
  typeof json === 'object' && json !== null && 'files' in json && 'kind' in json && 'version' in json;

/**
 * A baseline from a file's text: ledger aggregates, or a manifest carrying them in
 * `metadata.ledgerAggregates`.
 */
export function parseLedgerBaseline(
  text: string,
  source: string,
): { aggregates: LedgerAggregates; from: 'aggregates' | 'manifest'; manifestKind?: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidBaselineError(`${source} is not JSON: ${(err as Error).message}`, { source });
  }
  if (looksLikeManifest(json)) {
    let manifest;
    try {
      manifest = parseManifest(json, source);
    } catch (err) {
      throw new InvalidBaselineError((err as Error).message, { source });
    }
    const carried = manifest.metadata[MANIFEST_LEDGER_KEY];
    if (carried === undefined)
      throw new InvalidBaselineError(
        `${source} is a ${manifest.kind} manifest without ledger aggregates (metadata.${MANIFEST_LEDGER_KEY})`,
        { source },
      );
    return {
      aggregates: parseLedgerAggregates(carried, `${source} metadata.${MANIFEST_LEDGER_KEY}`),
      from: 'manifest',
      manifestKind: manifest.kind,
    };
  }
  return { aggregates: parseLedgerAggregates(json, source), from: 'aggregates' };
}
