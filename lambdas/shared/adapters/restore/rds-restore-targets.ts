import {
  CreateDBInstanceCommand,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { BackupReader } from '../../backup/contracts';
import { InvalidInputError, NotReadyYetError } from '../../errors';
import { awsCall, awsErrorName } from '../aws/aws-call';
import type { RestoreTargets, RestoredPostgres, RestoredRedis, RestoreTeardown } from '../contracts';
import { rdsRestoreIdentifier } from './target-names';

export interface RdsRestoreTargetsOptions {
  rds: RDSClient;
  backups: BackupReader;
  /** Network placement of the temporary instance: it must be reachable from the validation Lambda. */
  dbSubnetGroupName: string;
  vpcSecurityGroupIds: string[];
  /** @default db.t4g.medium */
  dbInstanceClass?: string;
  database: string;
  operatorUser: string;
  applicationUser: string;
  /** Bound on one call's wait for `available`; past it NotReadyYetError and the ASL's Retry resumes the wait. @default 600000 */
  waitTimeoutMs?: number;
  /** @default 15000 */
  pollIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const TAG_KEY = 'tradepulse-dr:backup-validation-run';
const notFound = (err: unknown) =>
  ['DBInstanceNotFoundFault', 'DBClusterNotFoundFault'].includes(awsErrorName(err) ?? '');

/**
 * Disposable restore targets on AWS: an RDS snapshot restored with
 * RestoreDBInstanceFromDBSnapshot, an Aurora cluster snapshot with
 * RestoreDBClusterFromSnapshot plus one instance, both named after the run (no
 * final snapshot, deletion protection off) and deleted by the teardown, which waits
 * (NotReadyYetError → ASL Retry) until RDS no longer knows them.
 */
export class RdsRestoreTargets implements RestoreTargets {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: RdsRestoreTargetsOptions) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private async instance(id: string): Promise<DBInstance | null> {
    try {
      const { DBInstances = [] } = await awsCall(() =>
        this.opts.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })),
      );
      return DBInstances[0] ?? null;
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  private async cluster(id: string) {
    try {
      const { DBClusters = [] } = await awsCall(() =>
        this.opts.rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id })),
      );
      return DBClusters[0] ?? null;
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  private async waitAvailable(id: string, started: number): Promise<DBInstance> {
    const deadline = Date.now() + (this.opts.waitTimeoutMs ?? 600_000);
    for (;;) {
      const db = await this.instance(id);
      if (db?.DBInstanceStatus === 'available' && db.Endpoint?.Address) return db;
      if (
        db &&
        ['failed', 'incompatible-restore', 'incompatible-parameters', 'storage-full'].includes(
          db.DBInstanceStatus ?? '',
        )
      )
        throw new InvalidInputError(`temporary instance ${id} ended in status ${db.DBInstanceStatus}`);
      if (Date.now() > deadline)
        throw new NotReadyYetError(
          `temporary instance ${id} not available after ${Date.now() - started} ms (status ${db?.DBInstanceStatus ?? 'unknown'})`,
          { id, status: db?.DBInstanceStatus ?? null },
        );
      await this.sleep(this.opts.pollIntervalMs ?? 15_000);
    }
  }

  async restorePostgres({ runId, backupId }: { runId: string; backupId: string }): Promise<RestoredPostgres> {
    const started = Date.now();
    const { manifest } = await this.opts.backups.loadVerifiedManifest({ kind: 'postgres', backupId });
    const backup = manifest.postgres!;
    if (!backup.snapshot || backup.method === 'pg_basebackup-paused-standby')
      throw new InvalidInputError(
        `backup ${backupId} is a ${backup.method} archive; RDS restores RDS or Aurora snapshots only`,
      );
    const tags = [{ Key: TAG_KEY, Value: runId }];
    const placement = {
      DBSubnetGroupName: this.opts.dbSubnetGroupName,
      VpcSecurityGroupIds: this.opts.vpcSecurityGroupIds,
    };
    const instanceId = rdsRestoreIdentifier(runId);
    let kind: RestoredPostgres['kind'] = 'rds-instance';
    if (backup.method === 'rds-snapshot') {
      // Observe first: a re-driven restore finds the instance it already asked for.
      if (!(await this.instance(instanceId)))
        await awsCall(() =>
          this.opts.rds.send(
            new RestoreDBInstanceFromDBSnapshotCommand({
              DBInstanceIdentifier: instanceId,
              DBSnapshotIdentifier: backup.snapshot!.identifier,
              DBInstanceClass: this.opts.dbInstanceClass ?? 'db.t4g.medium',
              PubliclyAccessible: false,
              MultiAZ: false,
              DeletionProtection: false,
              Tags: tags,
              ...placement,
            }),
          ),
        );
    } else {
      kind = 'aurora-cluster';
      const clusterId = rdsRestoreIdentifier(runId, 'cluster');
      if (!(await this.cluster(clusterId)))
        await awsCall(() =>
          this.opts.rds.send(
            new RestoreDBClusterFromSnapshotCommand({
              DBClusterIdentifier: clusterId,
              SnapshotIdentifier: backup.snapshot!.arn,
              Engine: 'aurora-postgresql',
              EngineVersion: backup.snapshot!.engineVersion || undefined,
              DeletionProtection: false,
              Tags: tags,
              ...placement,
            }),
          ),
        );
      if (!(await this.instance(instanceId)))
        await awsCall(() =>
          this.opts.rds.send(
            new CreateDBInstanceCommand({
              DBInstanceIdentifier: instanceId,
              DBClusterIdentifier: clusterId,
              Engine: 'aurora-postgresql',
              DBInstanceClass: this.opts.dbInstanceClass ?? 'db.t4g.medium',
              PubliclyAccessible: false,
              Tags: tags,
            }),
          ),
        );
    }
    const db = await this.waitAvailable(instanceId, started);
    return {
      kind,
      targetId: instanceId,
      backupId,
      host: db.Endpoint!.Address!,
      port: db.Endpoint!.Port ?? 5432,
      database: this.opts.database,
      operatorUser: this.opts.operatorUser,
      applicationUser: this.opts.applicationUser,
      // A restore that outlasted one invocation (NotReadyYetError, retried) is timed from the instance's creation.
      restoreMs:
        Date.now() - (db.InstanceCreateTime ? Math.min(db.InstanceCreateTime.getTime(), started) : started),
      details: {
        snapshot: backup.snapshot.identifier,
        status: db.DBInstanceStatus,
        engineVersion: db.EngineVersion,
      },
    };
  }

  restoreRedis({ backupId }: { runId: string; backupId: string }): Promise<RestoredRedis> {
    // ElastiCache restores need @aws-sdk/client-elasticache, which this project does not ship yet.
    return Promise.reject(
      new InvalidInputError(
        `restoring Redis backup ${backupId} on AWS (ElastiCache) is not supported by this deployment; validate Redis on the sandbox or add an ElastiCache restore target`,
      ),
    );
  }

  async teardown(runId: string): Promise<RestoreTeardown> {
    const instanceId = rdsRestoreIdentifier(runId);
    const clusterId = rdsRestoreIdentifier(runId, 'cluster');
    const removed: string[] = [];
    const db = await this.instance(instanceId);
    if (db && db.DBInstanceStatus !== 'deleting') {
      await awsCall(() =>
        this.opts.rds.send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: instanceId,
            SkipFinalSnapshot: db.DBClusterIdentifier ? undefined : true,
            DeleteAutomatedBackups: true,
          }),
        ),
      ).catch((err: unknown) => {
        if (!notFound(err)) throw err;
      });
      removed.push(`deleting temporary instance ${instanceId}`);
    }
    const cluster = await this.cluster(clusterId);
    if (cluster && cluster.Status !== 'deleting') {
      // Aurora refuses to delete a cluster that still has instances: wait for the instance first.
      if (await this.instance(instanceId))
        throw new NotReadyYetError(
          `waiting for instance ${instanceId} to be deleted before cluster ${clusterId}`,
          {
            removed,
          },
        );
      await awsCall(() =>
        this.opts.rds.send(
          new DeleteDBClusterCommand({ DBClusterIdentifier: clusterId, SkipFinalSnapshot: true }),
        ),
      ).catch((err: unknown) => {
        if (!notFound(err)) throw err;
      });
      removed.push(`deleting temporary cluster ${clusterId}`);
    }
    const objects = [
      ...((await this.instance(instanceId)) ? [`DB instance ${instanceId}`] : []),
      ...((await this.cluster(clusterId)) ? [`DB cluster ${clusterId}`] : []),
    ];
    if (objects.length > 0)
      throw new NotReadyYetError(`still deleting: ${objects.join(', ')}`, { removed, objects });
    return {
      removed,
      alreadyDone: removed.length === 0,
      leftBehind: { processes: [], dataDirectories: [], objects },
    };
  }
}
