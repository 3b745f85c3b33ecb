import { BackupClient, PutRestoreValidationResultCommand } from '@aws-sdk/client-backup';
import {
  CreateDBInstanceCommand,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  RDSServiceException,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { BackupManifest, BackupReader } from '../../../lambdas/shared/backup/contracts';
import { AwsBackupRestoreValidationReporter } from '../../../lambdas/shared/adapters/restore/aws-backup-reporter';
import { RdsRestoreTargets } from '../../../lambdas/shared/adapters/restore/rds-restore-targets';
import { rdsRestoreIdentifier } from '../../../lambdas/shared/adapters/restore/target-names';
import { InvalidInputError, NotReadyYetError } from '../../../lambdas/shared/errors';

const rds = mockClient(RDSClient);
const backup = mockClient(BackupClient);
const RUN = 'bv-20261127T000000-abcdef';
const ID = rdsRestoreIdentifier(RUN);
const CLUSTER = rdsRestoreIdentifier(RUN, 'cluster');

const notFound = (what: 'DBInstanceNotFoundFault' | 'DBClusterNotFoundFault') =>
  new RDSServiceException({ name: what, $fault: 'client', $metadata: {}, message: `${what}` });

function reader(method: string): BackupReader {
  const manifest = {
    backupId: 'postgres-20261127T000000000Z-00000001',
    postgres: {
      method,
      snapshot:
        method === 'pg_basebackup-paused-standby'
          ? undefined
          : { identifier: 'snap-1', arn: 'arn:aws:rds:us-west-2:1:snapshot:snap-1', engineVersion: '15.8' },
    },
  } as unknown as BackupManifest;
  return {
    listBackups: () => Promise.reject(new Error('unused')),
    latestBackup: () => Promise.reject(new Error('unused')),
    loadVerifiedManifest: async () => ({
      manifest,
      manifestKey: 'k',
      manifestSha256: '0'.repeat(64),
      signature: {} as never,
    }),
    openVerifiedArchiveStream: () => Promise.reject(new Error('unused')),
  };
}

const targets = (method: string) =>
  new RdsRestoreTargets({
    rds: rds as unknown as RDSClient,
    backups: reader(method),
    dbSubnetGroupName: 'dr-private',
    vpcSecurityGroupIds: ['sg-1'],
    database: 'tradepulse',
    operatorUser: 'dr_operator',
    applicationUser: 'tradepulse_app',
    pollIntervalMs: 1,
    waitTimeoutMs: 50,
    sleep: async () => undefined,
  });

beforeEach(() => {
  rds.reset();
  backup.reset();
});

describe('RdsRestoreTargets', () => {
  test('restores an RDS snapshot into a temporary instance named after the run and waits for it', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(notFound('DBInstanceNotFoundFault'))
      .resolvesOnce({ DBInstances: [{ DBInstanceStatus: 'creating' }] })
      .resolves({
        DBInstances: [{ DBInstanceStatus: 'available', Endpoint: { Address: 'tmp.rds', Port: 5432 } }],
      });
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({});
    const restored = await targets('rds-snapshot').restorePostgres({ runId: RUN, backupId: 'postgres-x' });
    expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBInstanceIdentifier: ID,
      DBSnapshotIdentifier: 'snap-1',
      DeletionProtection: false,
      PubliclyAccessible: false,
      DBSubnetGroupName: 'dr-private',
      VpcSecurityGroupIds: ['sg-1'],
      Tags: [{ Key: 'tradepulse-dr:backup-validation-run', Value: RUN }],
    });
    expect(restored).toMatchObject({ kind: 'rds-instance', targetId: ID, host: 'tmp.rds', port: 5432 });
  });

  test('a re-driven restore finds the instance it already asked for, does not restore twice, and is timed from its creation', async () => {
    const created = new Date(Date.now() - 700_000);
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceStatus: 'available',
          InstanceCreateTime: created,
          Endpoint: { Address: 'tmp.rds', Port: 5432 },
        },
      ],
    });
    const restored = await targets('rds-snapshot').restorePostgres({ runId: RUN, backupId: 'postgres-x' });
    expect(rds).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
    expect(restored.restoreMs).toBeGreaterThanOrEqual(700_000);
  });

  test('an Aurora cluster snapshot becomes a temporary cluster with one instance', async () => {
    rds.on(DescribeDBClustersCommand).rejects(notFound('DBClusterNotFoundFault'));
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(notFound('DBInstanceNotFoundFault'))
      .resolves({
        DBInstances: [{ DBInstanceStatus: 'available', Endpoint: { Address: 'tmp.aurora', Port: 5432 } }],
      });
    rds.on(RestoreDBClusterFromSnapshotCommand).resolves({});
    rds.on(CreateDBInstanceCommand).resolves({});
    const restored = await targets('aurora-cluster-snapshot').restorePostgres({
      runId: RUN,
      backupId: 'postgres-x',
    });
    expect(rds).toHaveReceivedCommandWith(RestoreDBClusterFromSnapshotCommand, {
      DBClusterIdentifier: CLUSTER,
      SnapshotIdentifier: 'arn:aws:rds:us-west-2:1:snapshot:snap-1',
      Engine: 'aurora-postgresql',
    });
    expect(rds).toHaveReceivedCommandWith(CreateDBInstanceCommand, {
      DBInstanceIdentifier: ID,
      DBClusterIdentifier: CLUSTER,
    });
    expect(restored.kind).toBe('aurora-cluster');
  });

  test('waiting past the bound is NotReadyYetError (the ASL retries the wait)', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: 'creating' }] });
    await expect(
      targets('rds-snapshot').restorePostgres({ runId: RUN, backupId: 'postgres-x' }),
    ).rejects.toBeInstanceOf(NotReadyYetError);
  });

  test('a pg_basebackup archive cannot be restored by RDS: refused before any call', async () => {
    await expect(
      targets('pg_basebackup-paused-standby').restorePostgres({ runId: RUN, backupId: 'postgres-x' }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    expect(rds).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
  });

  test('teardown deletes the instance without a final snapshot, and reports NotReadyYet until RDS forgets it', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [{ DBInstanceStatus: 'available' }] })
      .resolves({ DBInstances: [{ DBInstanceStatus: 'deleting' }] });
    rds.on(DescribeDBClustersCommand).rejects(notFound('DBClusterNotFoundFault'));
    rds.on(DeleteDBInstanceCommand).resolves({});
    await expect(targets('rds-snapshot').teardown(RUN)).rejects.toBeInstanceOf(NotReadyYetError);
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: ID,
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    });
  });

  test('teardown is idempotent: nothing left is a clean no-op with the proof', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(notFound('DBInstanceNotFoundFault'));
    rds.on(DescribeDBClustersCommand).rejects(notFound('DBClusterNotFoundFault'));
    const report = await targets('rds-snapshot').teardown(RUN);
    expect(report).toEqual({
      removed: [],
      alreadyDone: true,
      leftBehind: { processes: [], dataDirectories: [], objects: [] },
    });
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });

  test('an Aurora cluster is deleted only once its instance is gone', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(notFound('DBInstanceNotFoundFault'));
    rds
      .on(DescribeDBClustersCommand)
      .resolvesOnce({ DBClusters: [{ Status: 'available' }] })
      .rejects(notFound('DBClusterNotFoundFault'));
    rds.on(DeleteDBClusterCommand).resolves({});
    const report = await targets('aurora-cluster-snapshot').teardown(RUN);
    expect(rds).toHaveReceivedCommandWith(DeleteDBClusterCommand, {
      DBClusterIdentifier: CLUSTER,
      SkipFinalSnapshot: true,
    });
    expect(report.leftBehind.objects).toEqual([]);
  });
});

describe('AwsBackupRestoreValidationReporter', () => {
  test('reports the result to the restore job with PutRestoreValidationResult', async () => {
    backup.on(PutRestoreValidationResultCommand).resolves({});
    await new AwsBackupRestoreValidationReporter(backup as unknown as BackupClient).report({
      restoreJobId: 'job-1',
      status: 'FAILED',
      message: 'x'.repeat(2000),
    });
    expect(backup).toHaveReceivedCommandWith(PutRestoreValidationResultCommand, {
      RestoreJobId: 'job-1',
      ValidationStatus: 'FAILED',
      ValidationStatusMessage: 'x'.repeat(1000),
    });
  });

  test('a throttle becomes TransientError (the ASL retries it)', async () => {
    backup
      .on(PutRestoreValidationResultCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(
      new AwsBackupRestoreValidationReporter(backup as unknown as BackupClient).report({
        restoreJobId: 'job-1',
        status: 'SUCCESSFUL',
        message: 'ok',
      }),
    ).rejects.toMatchObject({ name: 'TransientError' });
  });
});
