/**
 * Amazon RDS for PostgreSQL: the old primary region gets a new cross-region read replica of the
 * current primary (CreateDBInstanceReadReplica from the primary's ARN, called in the replica's
 * region; RDS builds the cross-region request itself). The old instance still holds the
 * identifier the topology names, diverged since the failover: it is renamed aside (kept, as
 * evidence of what was not replicated) or deleted with a final snapshot, then the replica is
 * created under the identifier and waited for until available.
 *
 * Each call observes first and is re-entrant: an interrupted rebuild resumes from what it finds
 * (the rename done, the replica being created); past `timeoutMs` it throws NotReadyYetError and a
 * retry resumes the wait.
 */
import {
  CreateDBInstanceReadReplicaCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { awsCall, awsErrorName } from '../aws/aws-call';
import { InvalidInputError, NotReadyYetError } from '../../errors';
import type { PostgresRebuilder, PostgresRebuildPlan, PostgresRebuildResult } from '../contracts';
import { pollUntil } from './poll';
import { alreadyReplicaResult, refuseSelfManagedMethod } from './rebuild-plan';

export interface RdsReadReplicaRebuilderOptions {
  /** RDS client of the current primary's region (describes the source instance). */
  readonly primaryRds: RDSClient;
  /** RDS client of the region being rebuilt (the replica is created there). */
  readonly replicaRds: RDSClient;
  readonly primaryRegion: string;
  readonly primaryInstanceIdentifier: string;
  /** The identifier the topology names in the rebuilt region: the replica takes it. */
  readonly replicaInstanceIdentifier: string;
  /** The diverged old instance: renamed aside (kept) or deleted with a final snapshot. @default 'rename' */
  readonly oldInstance?: 'rename' | 'delete';
  /** @default `<replicaInstanceIdentifier>-diverged` */
  readonly asideIdentifier?: string;
  /** @default 3600000 (creating a replica copies the whole database) */
  readonly timeoutMs?: number;
  /** @default 15000 */
  readonly pollIntervalMs?: number;
}

type Seen =
  | { kind: 'missing' }
  | { kind: 'replica-of-primary'; status: string | undefined; instance: DBInstance }
  | { kind: 'other'; status: string | undefined; replicaOf: string | undefined; instance: DBInstance };

const MECHANISM = 'rds:CreateDBInstanceReadReplica';

export class RdsReadReplicaRebuilder implements PostgresRebuilder {
  constructor(private readonly opts: RdsReadReplicaRebuilderOptions) {
    if (
      opts.primaryInstanceIdentifier === opts.replicaInstanceIdentifier &&
      opts.primaryRds === opts.replicaRds
    )
      throw new InvalidInputError('the primary and the instance to rebuild are the same RDS instance');
  }

  private get aside() {
    return this.opts.asideIdentifier ?? `${this.opts.replicaInstanceIdentifier}-diverged`;
  }

  private async describe(rds: RDSClient, id: string): Promise<DBInstance | null> {
    try {
      const out = await awsCall(() => rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })));
      return out.DBInstances?.[0] ?? null;
    } catch (err) {
      if (awsErrorName(err) === 'DBInstanceNotFoundFault' || awsErrorName(err) === 'DBInstanceNotFound')
        return null;
      throw err;
    }
  }

  private async primary(): Promise<DBInstance> {
    const found = await this.describe(this.opts.primaryRds, this.opts.primaryInstanceIdentifier);
    if (!found?.DBInstanceArn)
      throw new InvalidInputError(
        `RDS instance ${this.opts.primaryInstanceIdentifier} not found in ${this.opts.primaryRegion}`,
      );
    if (found.ReadReplicaSourceDBInstanceIdentifier)
      throw new InvalidInputError(
        `RDS instance ${this.opts.primaryInstanceIdentifier} is itself a replica of ${found.ReadReplicaSourceDBInstanceIdentifier}: not the current primary`,
      );
    return found;
  }

  private async seen(primaryArn: string): Promise<Seen> {
    const instance = await this.describe(this.opts.replicaRds, this.opts.replicaInstanceIdentifier);
    if (!instance) return { kind: 'missing' };
    const replicaOf = instance.ReadReplicaSourceDBInstanceIdentifier || undefined;
    // A cross-region replica names its source by ARN; a same-region one by identifier.
    if (replicaOf === primaryArn || replicaOf === this.opts.primaryInstanceIdentifier)
      return { kind: 'replica-of-primary', status: instance.DBInstanceStatus, instance };
    return { kind: 'other', status: instance.DBInstanceStatus, replicaOf, instance };
  }

  async inspect(): Promise<PostgresRebuildPlan> {
    const primary = await this.primary();
    const seen = await this.seen(primary.DBInstanceArn!);
    const primaryView = { arn: primary.DBInstanceArn, status: primary.DBInstanceStatus };
    const replicaView = { kind: seen.kind, ...(seen.kind === 'missing' ? {} : { status: seen.status }) };
    if (seen.kind === 'replica-of-primary')
      return {
        alreadyReplica: seen.status === 'available',
        method: seen.status === 'available' ? null : MECHANISM,
        reason:
          seen.status === 'available'
            ? `${this.opts.replicaInstanceIdentifier} is an available read replica of ${primary.DBInstanceArn}`
            : `${this.opts.replicaInstanceIdentifier} is a read replica of ${primary.DBInstanceArn} being created (${seen.status})`,
        primary: primaryView,
        replica: replicaView,
      };
    return {
      alreadyReplica: false,
      method: MECHANISM,
      reason:
        seen.kind === 'missing'
          ? `no instance ${this.opts.replicaInstanceIdentifier}: a cross-region read replica of ${primary.DBInstanceArn} is created`
          : `${this.opts.replicaInstanceIdentifier} is ${seen.replicaOf ? `a replica of ${seen.replicaOf}` : 'a standalone instance'} (diverged since the failover): it is ${this.opts.oldInstance === 'delete' ? 'deleted with a final snapshot' : `renamed to ${this.aside}`}, and a cross-region read replica of ${primary.DBInstanceArn} takes its identifier`,
      primary: primaryView,
      replica: replicaView,
    };
  }

  async rebuild(opts: { method: 'auto' | 'pg_rewind' | 'pg_basebackup' }): Promise<PostgresRebuildResult> {
    refuseSelfManagedMethod(opts.method, 'RDS', MECHANISM);
    const started = Date.now();
    const primary = await this.primary();
    const primaryArn = primary.DBInstanceArn!;
    const plan = await this.inspect();
    if (plan.alreadyReplica) return alreadyReplicaResult(plan, started);
    let template: DBInstance | undefined;
    const requested: string[] = [];
    const { value: replica } = await pollUntil<DBInstance, string>(
      async () => {
        const seen = await this.seen(primaryArn);
        if (seen.kind === 'replica-of-primary')
          return seen.status === 'available'
            ? { done: seen.instance }
            : { observed: `replica ${seen.status}` };
        if (seen.kind === 'other') {
          template ??= seen.instance;
          if (seen.status !== 'available') return { observed: `old instance ${seen.status}` };
          if (!requested.includes('set-aside')) {
            await this.setAside();
            requested.push('set-aside');
          }
          return { observed: 'old instance being set aside' };
        }
        // Missing: create the replica, shaped like the old instance (or, re-driven after it was set aside, its aside copy).
        if (!requested.includes('create')) {
          template ??= (await this.describe(this.opts.replicaRds, this.aside)) ?? undefined;
          await this.createReplica(primaryArn, template ?? primary, template !== undefined);
          requested.push('create');
        }
        return { observed: 'replica requested' };
      },
      {
        timeoutMs: this.opts.timeoutMs ?? 3_600_000,
        intervalMs: this.opts.pollIntervalMs ?? 15_000,
        onTimeout: (last, waited) =>
          new NotReadyYetError(
            `${this.opts.replicaInstanceIdentifier} is not an available read replica after ${waited} ms: ${last}`,
            {
              last,
              requested,
            },
          ),
      },
    );
    return {
      alreadyDone: false,
      method: MECHANISM,
      reason: plan.reason,
      lsns: {},
      timingsMs: { total: Date.now() - started },
      verification: {
        replicaArn: replica.DBInstanceArn,
        replicaOf: replica.ReadReplicaSourceDBInstanceIdentifier,
        status: replica.DBInstanceStatus,
        requested,
      },
    };
  }

  private async setAside(): Promise<void> {
    const id = this.opts.replicaInstanceIdentifier;
    if (this.opts.oldInstance === 'delete') {
      await awsCall(() =>
        this.opts.replicaRds.send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: id,
            SkipFinalSnapshot: false,
            FinalDBSnapshotIdentifier: `${id}-before-failback-rebuild`,
            DeleteAutomatedBackups: false,
          }),
        ),
      );
      return;
    }
    await awsCall(() =>
      this.opts.replicaRds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: id,
          NewDBInstanceIdentifier: this.aside,
          ApplyImmediately: true,
        }),
      ),
    );
  }

  /** `inRegion`: `like` lives in the replica's region (its subnet group, security groups and KMS key apply there). */
  private async createReplica(primaryArn: string, like: DBInstance, inRegion: boolean): Promise<void> {
    await awsCall(() =>
      this.opts.replicaRds.send(
        new CreateDBInstanceReadReplicaCommand({
          DBInstanceIdentifier: this.opts.replicaInstanceIdentifier,
          SourceDBInstanceIdentifier: primaryArn,
          DBInstanceClass: like.DBInstanceClass,
          ...(inRegion && like.DBSubnetGroup?.DBSubnetGroupName
            ? { DBSubnetGroupName: like.DBSubnetGroup.DBSubnetGroupName }
            : {}),
          ...(inRegion && like.VpcSecurityGroups?.length
            ? {
                VpcSecurityGroupIds: like.VpcSecurityGroups.map((g) => g.VpcSecurityGroupId!).filter(Boolean),
              }
            : {}),
          ...(inRegion && like.StorageEncrypted && like.KmsKeyId ? { KmsKeyId: like.KmsKeyId } : {}),
          ...(inRegion && like.DBParameterGroups?.[0]?.DBParameterGroupName
            ? { DBParameterGroupName: like.DBParameterGroups[0].DBParameterGroupName }
            : {}),
          PubliclyAccessible: like.PubliclyAccessible ?? false,
          MultiAZ: like.MultiAZ ?? false,
          Tags: [{ Key: 'tradepulse-dr:rebuilt-from', Value: primaryArn }],
        }),
      ),
    );
  }
}
