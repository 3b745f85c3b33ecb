/**
 * Amazon RDS for PostgreSQL: a cross-region read replica promoted with PromoteReadReplica.
 *
 * Fencing runs in SQL against the old primary where it is reachable: the parameter group
 * is too slow (and a static change needs a reboot), and the master user cannot ALTER
 * SYSTEM. It can, as rds_superuser, take LOGIN from the application role, set the
 * database's default_transaction_read_only and terminate non-superuser sessions. Both
 * settings replicate to the read replica; promote() lifts them on the new primary.
 */
import {
  DescribeDBInstancesCommand,
  PromoteReadReplicaCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { NotReadyYetError } from '../../errors';
import { PostgresAdapterBase } from './adapter-base';
import { SqlPostgresNode, type PostgresNode } from './node';
import { pollUntil } from './poll';
import { mapErrors, type PostgresConnection } from './session';

export interface RdsPostgresOptions {
  /** The instance endpoint; the operator is the master user (or another rds_superuser member). */
  readonly connection: PostgresConnection;
  /** Client for the instance's own region. */
  readonly rds: RDSClient;
  readonly dbInstanceIdentifier: string;
  /** Automated backups (point-in-time recovery) on the promoted instance. @default 35 (the runbook's 35 days online) */
  readonly backupRetentionPeriodDays?: number;
  /** Bound on one call's wait; past it NotReadyYetError, and a retry resumes the wait. @default 600000 (the runbook's RTO) */
  readonly promotionTimeoutMs?: number;
  /** @default 10000 */
  readonly pollIntervalMs?: number;
  /** @default SQL against `connection`, read-only default set per database */
  readonly node?: PostgresNode;
}

interface InstanceState {
  status: string | undefined;
  replicaOf: string | undefined;
}

const isPromoted = (s: InstanceState) => s.replicaOf === undefined && s.status === 'available';

export class RdsPostgresAdapter extends PostgresAdapterBase {
  constructor(private readonly opts: RdsPostgresOptions) {
    super(opts.node ?? new SqlPostgresNode(opts.connection, 'database'), opts.promotionTimeoutMs ?? 600_000);
  }

  protected promoteNode() {
    return mapErrors(async () => {
      let requested = false;
      await pollUntil<InstanceState, InstanceState>(
        async () => {
          const state = await this.describe();
          if (isPromoted(state)) return { done: state };
          // Only an available replica can be promoted; any other status is a promotion (or other change) under way.
          if (!requested && state.replicaOf !== undefined && state.status === 'available') {
            requested = await this.requestPromotion();
          }
          return { observed: state };
        },
        {
          timeoutMs: this.opts.promotionTimeoutMs ?? 600_000,
          intervalMs: this.opts.pollIntervalMs ?? 10_000,
          onTimeout: (state, waited) =>
            new NotReadyYetError(
              `RDS instance ${this.opts.dbInstanceIdentifier} not promoted after ${waited} ms (status ${state.status}, replica of ${state.replicaOf ?? 'nothing'})`,
              { ...state, promotionRequested: requested },
            ),
        },
      );
      return { alreadyPromoted: !requested, mechanism: 'rds:PromoteReadReplica' };
    });
  }

  /** `false` when the instance left the promotable state since it was described; the next poll looks again. */
  private async requestPromotion(): Promise<boolean> {
    try {
      await this.opts.rds.send(
        new PromoteReadReplicaCommand({
          DBInstanceIdentifier: this.opts.dbInstanceIdentifier,
          BackupRetentionPeriod: this.opts.backupRetentionPeriodDays ?? 35,
        }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === 'InvalidDBInstanceStateFault') return false;
      throw err;
    }
  }

  private async describe(): Promise<InstanceState> {
    const out = await this.opts.rds.send(
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: this.opts.dbInstanceIdentifier }),
    );
    const instance: DBInstance | undefined = out.DBInstances?.[0];
    return {
      status: instance?.DBInstanceStatus,
      replicaOf: instance?.ReadReplicaSourceDBInstanceIdentifier || undefined,
    };
  }
}
