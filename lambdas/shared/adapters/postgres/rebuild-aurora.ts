/**
 * Aurora PostgreSQL global database: the old primary region back as a secondary.
 *
 * After SwitchoverGlobalCluster, and after a managed FailoverGlobalCluster once the old region
 * is back, Aurora itself makes the old primary cluster a secondary of the global database:
 * then there is nothing to do but wait for it to be available (reported as `alreadyDone` once it
 * is). When the old cluster was detached instead (RemoveFromGlobalCluster, the manual
 * unplanned path), it is a standalone, diverged cluster holding the identifier: it is renamed
 * aside (kept as evidence), and a new secondary cluster is created under the identifier with
 * CreateDBCluster(GlobalClusterIdentifier) plus one reader instance, shaped like the old one.
 * Calls go to the rebuilt region's RDS endpoint; re-entrant like the RDS rebuilder.
 */
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  ModifyDBClusterCommand,
  type DBCluster,
  type GlobalCluster,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { awsCall, awsErrorName } from '../aws/aws-call';
import { InvalidInputError, NotReadyYetError } from '../../errors';
import type { PostgresRebuilder, PostgresRebuildPlan, PostgresRebuildResult } from '../contracts';
import { pollUntil } from './poll';
import { alreadyReplicaResult, refuseSelfManagedMethod } from './rebuild-plan';

export interface AuroraSecondaryRebuilderOptions {
  /** RDS client of the region being rebuilt. */
  readonly rds: RDSClient;
  readonly globalClusterIdentifier: string;
  /** The secondary cluster the topology names in the rebuilt region (the old primary cluster). */
  readonly secondaryClusterArn: string;
  /** @default `<cluster id>-diverged` */
  readonly asideIdentifier?: string;
  /** Reader instance class when the old cluster's cannot be read. @default 'db.r6g.large' */
  readonly instanceClass?: string;
  /** @default 3600000 */
  readonly timeoutMs?: number;
  /** @default 15000 */
  readonly pollIntervalMs?: number;
}

interface Seen {
  global: GlobalCluster;
  member: { writer: boolean } | null;
  cluster: DBCluster | null;
}

const CREATE = 'aurora:CreateDBCluster(GlobalClusterIdentifier)';
const BY_AURORA = 'aurora:secondary-made-by-aurora';

export function clusterIdOfArn(arn: string): string {
  const m = /^arn:[^:]+:rds:[^:]*:[^:]*:cluster:(.+)$/.exec(arn);
  if (!m) throw new InvalidInputError(`not an Aurora cluster ARN: ${arn}`);
  return m[1]!;
}

export class AuroraSecondaryRebuilder implements PostgresRebuilder {
  private readonly clusterId: string;

  constructor(private readonly opts: AuroraSecondaryRebuilderOptions) {
    this.clusterId = clusterIdOfArn(opts.secondaryClusterArn);
  }

  private get aside() {
    return this.opts.asideIdentifier ?? `${this.clusterId}-diverged`;
  }

  private async cluster(id: string): Promise<DBCluster | null> {
    try {
      const out = await awsCall(() =>
        this.opts.rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id })),
      );
      return out.DBClusters?.[0] ?? null;
    } catch (err) {
      if (awsErrorName(err) === 'DBClusterNotFoundFault') return null;
      throw err;
    }
  }

  private async seen(): Promise<Seen> {
    const out = await awsCall(() =>
      this.opts.rds.send(
        new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: this.opts.globalClusterIdentifier }),
      ),
    );
    const global = out.GlobalClusters?.[0];
    if (!global) throw new InvalidInputError(`global cluster ${this.opts.globalClusterIdentifier} not found`);
    const member = global.GlobalClusterMembers?.find((m) => m.DBClusterArn === this.opts.secondaryClusterArn);
    return {
      global,
      member: member ? { writer: member.IsWriter === true } : null,
      cluster: await this.cluster(this.clusterId),
    };
  }

  private static ready(s: Seen): boolean {
    return (
      s.member !== null &&
      !s.member.writer &&
      s.cluster?.Status === 'available' &&
      (s.cluster.DBClusterMembers?.length ?? 0) > 0
    );
  }

  async inspect(): Promise<PostgresRebuildPlan> {
    const s = await this.seen();
    const primary = {
      globalCluster: this.opts.globalClusterIdentifier,
      writer: s.global.GlobalClusterMembers?.find((m) => m.IsWriter)?.DBClusterArn ?? null,
      engineVersion: s.global.EngineVersion,
    };
    const replica = { member: s.member, status: s.cluster?.Status ?? null };
    if (s.member?.writer)
      return {
        alreadyReplica: false,
        method: null,
        reason: `${this.clusterId} is the global writer: there is no failover to rebuild from`,
        primary,
        replica,
      };
    if (s.member)
      return {
        alreadyReplica: AuroraSecondaryRebuilder.ready(s),
        method: AuroraSecondaryRebuilder.ready(s) ? null : BY_AURORA,
        reason: `Aurora made ${this.clusterId} a secondary of ${this.opts.globalClusterIdentifier} itself (switchover, or managed failover once the region recovered)${AuroraSecondaryRebuilder.ready(s) ? '' : `; it is ${s.cluster?.Status ?? 'not visible yet'}`}`,
        primary,
        replica,
      };
    return {
      alreadyReplica: false,
      method: CREATE,
      reason: s.cluster
        ? `${this.clusterId} was detached from the global database (standalone, diverged): it is renamed to ${this.aside} and a new secondary cluster joins under its identifier`
        : `no cluster ${this.clusterId}: a new secondary cluster joins the global database`,
      primary,
      replica,
    };
  }

  async rebuild(opts: { method: 'auto' | 'pg_rewind' | 'pg_basebackup' }): Promise<PostgresRebuildResult> {
    refuseSelfManagedMethod(opts.method, 'Aurora', CREATE);
    const started = Date.now();
    const plan = await this.inspect();
    if (plan.alreadyReplica) return alreadyReplicaResult(plan, started);
    if (plan.method === null) throw new InvalidInputError(plan.reason);
    const requested: string[] = [];
    let template: DBCluster | null = null;
    await pollUntil<true, string>(
      async () => {
        const s = await this.seen();
        if (AuroraSecondaryRebuilder.ready(s)) return { done: true };
        if (s.member?.writer)
          throw new InvalidInputError(`${this.clusterId} became the global writer during the rebuild`);
        if (!s.member && s.cluster) {
          template ??= s.cluster;
          if (s.cluster.Status === 'available' && !requested.includes('set-aside')) {
            await awsCall(() =>
              this.opts.rds.send(
                new ModifyDBClusterCommand({
                  DBClusterIdentifier: this.clusterId,
                  NewDBClusterIdentifier: this.aside,
                  ApplyImmediately: true,
                }),
              ),
            );
            requested.push('set-aside');
          }
          return { observed: `old cluster ${s.cluster.Status}` };
        }
        if (!s.cluster) {
          if (!requested.includes('create-cluster')) {
            template ??= await this.cluster(this.aside);
            await this.createCluster(s.global, template);
            requested.push('create-cluster');
          }
          return { observed: 'secondary cluster requested' };
        }
        if ((s.cluster.DBClusterMembers?.length ?? 0) === 0 && !requested.includes('create-instance')) {
          await this.createInstance(s.global, template);
          requested.push('create-instance');
        }
        return {
          observed: `secondary cluster ${s.cluster.Status}, ${s.cluster.DBClusterMembers?.length ?? 0} instances`,
        };
      },
      {
        timeoutMs: this.opts.timeoutMs ?? 3_600_000,
        intervalMs: this.opts.pollIntervalMs ?? 15_000,
        onTimeout: (last, waited) =>
          new NotReadyYetError(
            `${this.clusterId} is not an available secondary after ${waited} ms: ${last}`,
            { last, requested },
          ),
      },
    );
    return {
      alreadyDone: false,
      method: plan.method,
      reason: plan.reason,
      lsns: {},
      timingsMs: { total: Date.now() - started },
      verification: {
        requested,
        globalCluster: this.opts.globalClusterIdentifier,
        secondary: this.opts.secondaryClusterArn,
      },
    };
  }

  private async createCluster(global: GlobalCluster, like: DBCluster | null): Promise<void> {
    await awsCall(() =>
      this.opts.rds.send(
        new CreateDBClusterCommand({
          DBClusterIdentifier: this.clusterId,
          GlobalClusterIdentifier: this.opts.globalClusterIdentifier,
          Engine: global.Engine ?? 'aurora-postgresql',
          EngineVersion: global.EngineVersion,
          ...(like?.DBSubnetGroup ? { DBSubnetGroupName: like.DBSubnetGroup } : {}),
          ...(like?.VpcSecurityGroups?.length
            ? {
                VpcSecurityGroupIds: like.VpcSecurityGroups.map((g) => g.VpcSecurityGroupId!).filter(Boolean),
              }
            : {}),
          ...(like?.StorageEncrypted && like.KmsKeyId ? { KmsKeyId: like.KmsKeyId } : {}),
          ...(like?.DBClusterParameterGroup
            ? { DBClusterParameterGroupName: like.DBClusterParameterGroup }
            : {}),
        }),
      ),
    );
  }

  private async createInstance(global: GlobalCluster, like: DBCluster | null): Promise<void> {
    let instanceClass = this.opts.instanceClass ?? 'db.r6g.large';
    const writerOfOld = like?.DBClusterMembers?.[0]?.DBInstanceIdentifier;
    if (writerOfOld) {
      const out = await awsCall(() =>
        this.opts.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: writerOfOld })),
      ).catch(() => null);
      instanceClass = out?.DBInstances?.[0]?.DBInstanceClass ?? instanceClass;
    }
    await awsCall(() =>
      this.opts.rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: `${this.clusterId}-reader-1`,
          DBClusterIdentifier: this.clusterId,
          Engine: global.Engine ?? 'aurora-postgresql',
          DBInstanceClass: instanceClass,
        }),
      ),
    );
  }
}
