/**
 * Aurora PostgreSQL global database: the secondary cluster in this region becomes the
 * writer, by SwitchoverGlobalCluster (planned: no data loss, needs the old writer's
 * region healthy) or FailoverGlobalCluster (unplanned). AllowDataLoss is sent true only
 * when the caller says a data-loss decision was recorded; without it Aurora keeps its
 * no-data-loss semantics and refuses what it cannot do safely.
 *
 * Fencing and the clean-up after promotion are SQL, as for RDS (see rds.ts). Aurora
 * replicates storage, not a WAL stream: the shared waitForReplay finds no received LSN
 * to wait for on a secondary (assumed, not tried against Aurora) and Aurora itself
 * decides what a failover keeps.
 */
import {
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  SwitchoverGlobalClusterCommand,
  type GlobalCluster,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { InvalidInputError, NotReadyYetError, PromotionFailedError } from '../../errors';
import { PostgresAdapterBase } from './adapter-base';
import { SqlPostgresNode, type PostgresNode } from './node';
import { pollUntil } from './poll';
import { mapErrors, type PostgresConnection } from './session';

export type AuroraPromotionMode = 'switchover' | 'failover';

export interface AuroraGlobalPostgresOptions {
  /** The secondary cluster's writer (cluster) endpoint in this region. */
  readonly connection: PostgresConnection;
  /** Client for this (the target) region: it must work with the old primary's region down. */
  readonly rds: RDSClient;
  readonly globalClusterIdentifier: string;
  /** The secondary cluster to promote. */
  readonly dbClusterArn: string;
  readonly mode: AuroraPromotionMode;
  /** Failover only: a data-loss decision was recorded, so Aurora may drop writes not yet replicated. */
  readonly allowDataLoss: boolean;
  /** Bound on one call's wait; past it NotReadyYetError, and a retry resumes the wait. @default 600000 (the runbook's RTO) */
  readonly promotionTimeoutMs?: number;
  /** @default 10000 */
  readonly pollIntervalMs?: number;
  /** @default SQL against `connection`, read-only default set per database */
  readonly node?: PostgresNode;
}

const IN_FLIGHT = new Set(['pending', 'failing-over', 'cancelling']);

type Observation = { writer: boolean; failoverStatus: string | undefined; failoverTo: string | undefined };

export class AuroraGlobalPostgresAdapter extends PostgresAdapterBase {
  constructor(private readonly opts: AuroraGlobalPostgresOptions) {
    if (opts.mode === 'switchover' && opts.allowDataLoss) {
      throw new InvalidInputError(
        'allowDataLoss applies to an Aurora global failover; a switchover never loses data',
        { mode: opts.mode },
      );
    }
    super(opts.node ?? new SqlPostgresNode(opts.connection, 'database'), opts.promotionTimeoutMs ?? 600_000);
  }

  private get mechanism() {
    return this.opts.mode === 'switchover'
      ? 'aurora:SwitchoverGlobalCluster'
      : `aurora:FailoverGlobalCluster(AllowDataLoss=${this.opts.allowDataLoss})`;
  }

  protected promoteNode() {
    return mapErrors(async () => {
      let requested = false;
      await pollUntil<Observation, Observation>(
        async () => {
          const seen = await this.observe();
          const inFlight = seen.failoverStatus !== undefined && IN_FLIGHT.has(seen.failoverStatus);
          if (seen.writer && !inFlight) return { done: seen };
          if (inFlight && seen.failoverTo !== this.opts.dbClusterArn) {
            throw new PromotionFailedError(
              `global cluster ${this.opts.globalClusterIdentifier} is already moving its writer to ${seen.failoverTo}`,
              { ...seen },
            );
          }
          if (!inFlight && !requested) {
            await this.requestPromotion();
            requested = true;
          }
          return { observed: seen };
        },
        {
          timeoutMs: this.opts.promotionTimeoutMs ?? 600_000,
          intervalMs: this.opts.pollIntervalMs ?? 10_000,
          onTimeout: (seen, waited) =>
            new NotReadyYetError(`${this.opts.dbClusterArn} is not the global writer after ${waited} ms`, {
              ...seen,
              promotionRequested: requested,
            }),
        },
      );
      return { alreadyPromoted: !requested, mechanism: this.mechanism };
    });
  }

  private async requestPromotion(): Promise<void> {
    const target = {
      GlobalClusterIdentifier: this.opts.globalClusterIdentifier,
      TargetDbClusterIdentifier: this.opts.dbClusterArn,
    };
    await this.opts.rds.send(
      this.opts.mode === 'switchover'
        ? new SwitchoverGlobalClusterCommand(target)
        : new FailoverGlobalClusterCommand({ ...target, AllowDataLoss: this.opts.allowDataLoss }),
    );
  }

  private async observe(): Promise<Observation> {
    const out = await this.opts.rds.send(
      new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: this.opts.globalClusterIdentifier }),
    );
    const cluster: GlobalCluster | undefined = out.GlobalClusters?.[0];
    const member = cluster?.GlobalClusterMembers?.find((m) => m.DBClusterArn === this.opts.dbClusterArn);
    if (!member) {
      throw new PromotionFailedError(
        `${this.opts.dbClusterArn} is not a member of global cluster ${this.opts.globalClusterIdentifier}`,
        {
          members: cluster?.GlobalClusterMembers?.map((m) => m.DBClusterArn) ?? [],
        },
      );
    }
    return {
      writer: member.IsWriter === true,
      failoverStatus: cluster?.FailoverState?.Status,
      failoverTo: cluster?.FailoverState?.ToDbClusterArn,
    };
  }
}
