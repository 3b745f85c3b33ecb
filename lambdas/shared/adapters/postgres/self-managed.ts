import { PostgresAdapterBase } from './adapter-base';
import { SqlPostgresNode } from './node';
import type { PostgresConnection } from './session';

export interface SelfManagedPostgresOptions {
  /** One node; the operator role must be a superuser (ALTER SYSTEM, pg_promote). */
  readonly connection: PostgresConnection;
  /** pg_promote's wait_seconds. @default 60 */
  readonly promoteWaitSeconds?: number;
  /** @default 100 */
  readonly pollIntervalMs?: number;
}

/** Self-managed PostgreSQL (the sandbox, or EC2/Patroni-less clusters) through `pg`: promotion by pg_promote(). */
export class SelfManagedPostgresAdapter extends PostgresAdapterBase {
  private readonly sqlNode: SqlPostgresNode;
  private readonly promoteWaitSeconds: number;

  constructor(opts: SelfManagedPostgresOptions) {
    const node = new SqlPostgresNode(opts.connection, 'system', { pollIntervalMs: opts.pollIntervalMs });
    const promoteWaitSeconds = opts.promoteWaitSeconds ?? 60;
    super(node, promoteWaitSeconds * 1000);
    this.sqlNode = node;
    this.promoteWaitSeconds = promoteWaitSeconds;
  }

  protected async promoteNode() {
    const promoted = await this.sqlNode.pgPromote(this.promoteWaitSeconds);
    return { alreadyPromoted: !promoted, mechanism: 'pg_promote' };
  }
}
