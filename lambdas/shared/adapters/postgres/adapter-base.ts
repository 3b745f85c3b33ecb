import type { LedgerAggregatesOptions, PostgresAdapter } from '../contracts';
import type { SequencedTable } from './ledger';
import type { PostgresNode } from './node';

/**
 * A PostgresAdapter whose SQL-level work is done by a PostgresNode; each backend adds how
 * a standby becomes the primary. Every operation opens its own short session, so there
 * is nothing to keep alive between Lambda invocations and nothing to close.
 */
export abstract class PostgresAdapterBase implements PostgresAdapter {
  constructor(
    protected readonly node: PostgresNode,
    /** Bound on waiting for the promoted node to take writes. */
    private readonly promotionTimeoutMs: number,
  ) {}

  status() {
    return this.node.status();
  }

  fence() {
    return this.node.fence();
  }

  unfence() {
    return this.node.unfence();
  }

  waitForReplay(timeoutMs: number) {
    return this.node.waitForReplay(timeoutMs);
  }

  ledgerAggregates(options?: LedgerAggregatesOptions) {
    return this.node.ledgerAggregates(options);
  }

  missingSequences(table: SequencedTable, writerId: string, seqs: number[]) {
    return this.node.missingSequences(table, writerId, seqs);
  }

  /** Observes, promotes when needed, then makes sure the new primary takes the application's writes. */
  async promote(): Promise<{ alreadyDone: boolean; timeline: number | null; mechanism: string }> {
    const { alreadyPromoted, mechanism } = await this.promoteNode();
    const { fenceLifted, timeline } = await this.node.finishPromotion(this.promotionTimeoutMs);
    return { alreadyDone: alreadyPromoted && !fenceLifted, timeline, mechanism };
  }

  /** The backend's promotion; `alreadyPromoted` when it found the node promoted (or its promotion under way) and requested nothing. */
  protected abstract promoteNode(): Promise<{ alreadyPromoted: boolean; mechanism: string }>;

  async close(): Promise<void> {}
}
