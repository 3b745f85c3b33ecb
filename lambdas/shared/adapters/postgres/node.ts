import type {
  LedgerAggregates,
  LedgerAggregatesOptions,
  PostgresAdapter,
  PostgresNodeStatus,
} from '../contracts';
import { NotReadyYetError, PromotionFailedError } from '../../errors';
import { fenceNode, isInRecovery, probeWrite, unfenceNode, type ReadOnlyScope } from './fencing';
import { readLedgerAggregates, readMissingSequences, type SequencedTable } from './ledger';
import { timelineOfWalFile } from './lsn';
import { pollUntil } from './poll';
import { waitForReplay } from './replay';
import { errorMessage, mapErrors, sqlState, withSession, type PostgresConnection } from './session';
import { readStatus } from './status';

const OBJECT_NOT_IN_PREREQUISITE_STATE = '55000';

/** The SQL side of a PostgreSQL node, shared by every backend; they differ in how a standby is promoted. */
export type PostgresNode = Omit<PostgresAdapter, 'promote' | 'close'> & {
  /**
   * After the backend promoted the node: waits until it takes writes, lifts a fence it
   * inherited from the old primary through replication, and proves a write works.
   */
  finishPromotion(timeoutMs: number): Promise<{ fenceLifted: boolean; timeline: number | null }>;
};

export interface SqlPostgresNodeOptions {
  /** How often waits re-check the node. @default 100 */
  readonly pollIntervalMs?: number;
}

export class SqlPostgresNode implements PostgresNode {
  constructor(
    readonly connection: PostgresConnection,
    private readonly readOnlyScope: ReadOnlyScope,
    private readonly opts: SqlPostgresNodeOptions = {},
  ) {}

  status(): Promise<PostgresNodeStatus> {
    return readStatus(this.connection);
  }

  fence() {
    return mapErrors(() => fenceNode(this.connection, this.readOnlyScope));
  }

  unfence() {
    return mapErrors(() => unfenceNode(this.connection, this.readOnlyScope));
  }

  waitForReplay(timeoutMs: number) {
    return mapErrors(() => waitForReplay(this.connection, timeoutMs, this.pollIntervalMs));
  }

  ledgerAggregates(options?: LedgerAggregatesOptions): Promise<LedgerAggregates> {
    return mapErrors(() => readLedgerAggregates(this.connection, options));
  }

  missingSequences(table: SequencedTable, writerId: string, seqs: number[]): Promise<number[]> {
    return mapErrors(() => readMissingSequences(this.connection, table, writerId, seqs));
  }

  async finishPromotion(timeoutMs: number) {
    await this.awaitPrimary(timeoutMs);
    const { alreadyDone } = await this.unfence();
    return mapErrors(() =>
      withSession(this.connection, async (client) => {
        const probe = await probeWrite(client);
        if (probe.outcome !== 'accepted') {
          throw new PromotionFailedError(`${this.where} was promoted but refuses a write`, { probe });
        }
        const { rows } = await client.query<{ wal_file: string }>(
          'select pg_walfile_name(pg_current_wal_lsn()) as wal_file',
        );
        return { fenceLifted: !alreadyDone, timeline: timelineOfWalFile(rows[0]!.wal_file) };
      }),
    );
  }

  /** Self-managed promotion: pg_promote, waiting for it to finish. `false` when the node was already a primary. */
  async pgPromote(waitSeconds: number): Promise<boolean> {
    return mapErrors(() =>
      withSession(this.connection, async (client) => {
        if (!(await isInRecovery(client))) return false;
        let promoted: boolean;
        try {
          const { rows } = await client.query<{ promoted: boolean }>(
            'select pg_promote(wait => true, wait_seconds => $1) as promoted',
            [waitSeconds],
          );
          promoted = rows[0]!.promoted;
        } catch (err) {
          // Promoted by someone else since we looked: "recovery is not in progress".
          if (sqlState(err) === OBJECT_NOT_IN_PREREQUISITE_STATE && !(await isInRecovery(client))) {
            return false;
          }
          throw err;
        }
        if (!promoted) {
          throw new NotReadyYetError(
            `${this.where}: promotion requested but not finished within ${waitSeconds} s`,
            { waitSeconds },
          );
        }
        return true;
      }),
    );
  }

  /** Connection refusals are expected while a managed service restarts the instance it promotes. */
  private async awaitPrimary(timeoutMs: number): Promise<void> {
    await pollUntil<true, string>(
      async () => {
        try {
          const inRecovery = await withSession(this.connection, isInRecovery);
          return inRecovery ? { observed: 'still in recovery' } : { done: true };
        } catch (err) {
          return { observed: errorMessage(err) };
        }
      },
      {
        timeoutMs,
        intervalMs: this.pollIntervalMs,
        onTimeout: (last, waited) =>
          new NotReadyYetError(`${this.where} is not a writable primary after ${waited} ms: ${last}`, {
            last,
          }),
      },
    );
  }

  private get pollIntervalMs() {
    return this.opts.pollIntervalMs ?? 100;
  }

  private get where() {
    return `${this.connection.host}:${this.connection.port}`;
  }
}
