/**
 * Counts what a failover lost: compares the journal of acknowledged writes with the
 * rows a PostgreSQL server (typically the promoted standby) holds for the same writer.
 *
 * - lost: acknowledged (journal says COMMIT returned) but absent. Each one is data
 *   loss; their number over the write rate bounds the measured RPO.
 * - unacknowledged: present but never acknowledged. Legitimate: a commit whose
 *   acknowledgement never arrived (connection cut during COMMIT) and whose retries
 *   later gave up. Not loss, but in doubt for the client.
 */
import { WRITE_KINDS, type PerKind, type WriteKind } from './accounting';
import { toRanges, type JournalSummary } from './journal';

/** Anything with pg's query(): a Client, a Pool or a PoolClient. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export const TABLE_OF_KIND: PerKind<string> = { order: 'orders', fill: 'fills', risk_event: 'risk_events' };

/** Sequence numbers of `writerId`'s rows, per kind, as the server sees them. */
export async function fetchWriterSeqs(db: Queryable, writerId: string): Promise<PerKind<Set<number>>> {
  const { rows } = await db.query(
    `select 'order' as kind, seq::text as seq from orders where writer_id = $1
     union all select 'fill', seq::text from fills where writer_id = $1
     union all select 'risk_event', seq::text from risk_events where writer_id = $1`,
    [writerId],
  );
  const result: PerKind<Set<number>> = { order: new Set(), fill: new Set(), risk_event: new Set() };
  for (const row of rows) result[row.kind as WriteKind].add(Number(row.seq));
  return result;
}

export interface PostgresReconciliation {
  writerId: string;
  /** Writes the journal says PostgreSQL acknowledged. */
  acknowledged: number;
  /** Rows of this writer on the server. */
  present: number;
  presentByKind: PerKind<number>;
  /** Acknowledged but not on the server: data loss. */
  lost: number[];
  /** On the server but never acknowledged: in-doubt commits, not loss. */
  unacknowledged: number[];
  /** True when nothing acknowledged is missing. */
  ok: boolean;
}

export function reconcileWithDatabase(
  summary: JournalSummary,
  writerId: string,
  database: PerKind<Set<number>>,
): PostgresReconciliation {
  const acked = summary.writers[writerId]?.postgres.seqs ?? new Set<number>();
  const present = new Set<number>();
  for (const kind of WRITE_KINDS) for (const seq of database[kind]) present.add(seq);
  const lost = [...acked].filter((s) => !present.has(s)).sort((a, b) => a - b);
  const unacknowledged = [...present].filter((s) => !acked.has(s)).sort((a, b) => a - b);
  return {
    writerId,
    acknowledged: acked.size,
    present: present.size,
    presentByKind: {
      order: database.order.size,
      fill: database.fill.size,
      risk_event: database.risk_event.size,
    },
    lost,
    unacknowledged,
    ok: lost.length === 0,
  };
}

/** Queries the server and reconciles it with the journal summary for `writerId`. */
export async function reconcilePostgres(
  db: Queryable,
  summary: JournalSummary,
  writerId: string,
): Promise<PostgresReconciliation> {
  return reconcileWithDatabase(summary, writerId, await fetchWriterSeqs(db, writerId));
}

/** A reconciliation as compact JSON (sequence lists as ranges). */
export function reconciliationToJson(r: PostgresReconciliation): unknown {
  return { ...r, lost: toRanges(r.lost), unacknowledged: toRanges(r.unacknowledged) };
}
