import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RDSServiceException,
  type DBCluster,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { RdsReadReplicaRebuilder } from '../../../lambdas/shared/adapters/postgres/rebuild-rds';
import {
  AuroraSecondaryRebuilder,
  clusterIdOfArn,
} from '../../../lambdas/shared/adapters/postgres/rebuild-aurora';
import { InvalidInputError, NotReadyYetError } from '../../../lambdas/shared/errors';

const rdsMock = mockClient(RDSClient);
const PRIMARY_ARN = 'arn:aws:rds:us-west-2:123456789012:db:tradepulse-usw2';
const notFound = (name: string) =>
  new RDSServiceException({ name, $fault: 'client', $metadata: {}, message: `${name}` });

beforeEach(() => rdsMock.reset());

describe('RDS: a cross-region read replica of the new primary', () => {
  const primaryRds = new RDSClient({ region: 'us-west-2' });
  const replicaRds = new RDSClient({ region: 'us-east-1' });
  const rebuilder = (extra: Partial<ConstructorParameters<typeof RdsReadReplicaRebuilder>[0]> = {}) =>
    new RdsReadReplicaRebuilder({
      primaryRds,
      replicaRds,
      primaryRegion: 'us-west-2',
      primaryInstanceIdentifier: 'tradepulse-usw2',
      replicaInstanceIdentifier: 'tradepulse-use1',
      pollIntervalMs: 1,
      ...extra,
    });
  const primary: DBInstance = {
    DBInstanceIdentifier: 'tradepulse-usw2',
    DBInstanceArn: PRIMARY_ARN,
    DBInstanceStatus: 'available',
    DBInstanceClass: 'db.r6g.large',
  };
  const oldPrimary: DBInstance = {
    DBInstanceIdentifier: 'tradepulse-use1',
    DBInstanceArn: 'arn:aws:rds:us-east-1:123456789012:db:tradepulse-use1',
    DBInstanceStatus: 'available',
    DBInstanceClass: 'db.r6g.xlarge',
    DBSubnetGroup: { DBSubnetGroupName: 'trading-use1' },
    VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-1' }],
    StorageEncrypted: true,
    KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k',
  };
  const replica = (status: string): DBInstance => ({
    ...oldPrimary,
    DBInstanceStatus: status,
    ReadReplicaSourceDBInstanceIdentifier: PRIMARY_ARN,
  });

  test('an available replica of the primary is already done, nothing is called', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'tradepulse-usw2' })
      .resolves({ DBInstances: [primary] })
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'tradepulse-use1' })
      .resolves({ DBInstances: [replica('available')] });
    const result = await rebuilder().rebuild({ method: 'auto' });
    expect(result).toMatchObject({ alreadyDone: true, method: 'none' });
    expect(rdsMock).not.toHaveReceivedCommand(CreateDBInstanceReadReplicaCommand);
    expect(rdsMock).not.toHaveReceivedCommand(ModifyDBInstanceCommand);
  });

  test('the diverged old instance is renamed aside, then a replica like it takes its identifier', async () => {
    const replicaSide = rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'tradepulse-use1' });
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'tradepulse-usw2' })
      .resolves({ DBInstances: [primary] });
    replicaSide
      .resolvesOnce({ DBInstances: [oldPrimary] }) // inspect
      .resolvesOnce({ DBInstances: [oldPrimary] }) // poll 1: set aside
      .rejectsOnce(notFound('DBInstanceNotFoundFault')) // poll 2: gone → create
      .resolvesOnce({ DBInstances: [replica('creating')] })
      .resolves({ DBInstances: [replica('available')] });
    const result = await rebuilder().rebuild({ method: 'auto' });
    expect(result).toMatchObject({ alreadyDone: false, method: 'rds:CreateDBInstanceReadReplica' });
    expect(result.reason).toMatch(/renamed to tradepulse-use1-diverged/);
    expect(rdsMock).toHaveReceivedCommandWith(ModifyDBInstanceCommand, {
      DBInstanceIdentifier: 'tradepulse-use1',
      NewDBInstanceIdentifier: 'tradepulse-use1-diverged',
      ApplyImmediately: true,
    });
    expect(rdsMock).toHaveReceivedCommandTimes(CreateDBInstanceReadReplicaCommand, 1);
    expect(rdsMock).toHaveReceivedCommandWith(CreateDBInstanceReadReplicaCommand, {
      DBInstanceIdentifier: 'tradepulse-use1',
      SourceDBInstanceIdentifier: PRIMARY_ARN,
      DBInstanceClass: 'db.r6g.xlarge',
      DBSubnetGroupName: 'trading-use1',
      VpcSecurityGroupIds: ['sg-1'],
      KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k',
    });
  });

  test('deleting the old instance keeps a final snapshot', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'tradepulse-usw2' })
      .resolves({ DBInstances: [primary] });
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'tradepulse-use1' })
      .resolvesOnce({ DBInstances: [oldPrimary] })
      .resolvesOnce({ DBInstances: [oldPrimary] })
      .resolves({ DBInstances: [replica('available')] });
    await rebuilder({ oldInstance: 'delete' }).rebuild({ method: 'auto' });
    expect(rdsMock).toHaveReceivedCommandWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: 'tradepulse-use1',
      SkipFinalSnapshot: false,
      FinalDBSnapshotIdentifier: 'tradepulse-use1-before-failback-rebuild',
    });
  });

  test('a re-drive after the rename creates the replica shaped like the set-aside instance', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'tradepulse-usw2' })
      .resolves({ DBInstances: [primary] });
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'tradepulse-use1-diverged' })
      .resolves({ DBInstances: [{ ...oldPrimary, DBInstanceIdentifier: 'tradepulse-use1-diverged' }] });
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'tradepulse-use1' })
      .rejectsOnce(notFound('DBInstanceNotFoundFault'))
      .rejectsOnce(notFound('DBInstanceNotFoundFault'))
      .resolves({ DBInstances: [replica('available')] });
    await rebuilder().rebuild({ method: 'auto' });
    expect(rdsMock).not.toHaveReceivedCommand(ModifyDBInstanceCommand);
    expect(rdsMock).toHaveReceivedCommandWith(CreateDBInstanceReadReplicaCommand, {
      DBInstanceClass: 'db.r6g.xlarge',
    });
  });

  test('a replica still being created past the timeout is NotReadyYet, and a method for self-managed nodes is refused', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'tradepulse-usw2' })
      .resolves({ DBInstances: [primary] });
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'tradepulse-use1' })
      .resolves({ DBInstances: [replica('creating')] });
    await expect(rebuilder({ timeoutMs: 5 }).rebuild({ method: 'auto' })).rejects.toThrow(NotReadyYetError);
    await expect(rebuilder().rebuild({ method: 'pg_rewind' })).rejects.toThrow(InvalidInputError);
  });

  test('a primary that is itself a replica is refused', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'tradepulse-usw2' })
      .resolves({ DBInstances: [{ ...primary, ReadReplicaSourceDBInstanceIdentifier: 'x' }] });
    await expect(rebuilder().inspect()).rejects.toThrow(/not the current primary/);
  });
});

describe('Aurora: the old region back as a global-database secondary', () => {
  const GLOBAL = 'tradepulse-global';
  const OLD = 'arn:aws:rds:us-east-1:123456789012:cluster:tradepulse-use1';
  const NEW = 'arn:aws:rds:us-west-2:123456789012:cluster:tradepulse-usw2';
  const rebuilder = (extra: Partial<ConstructorParameters<typeof AuroraSecondaryRebuilder>[0]> = {}) =>
    new AuroraSecondaryRebuilder({
      rds: new RDSClient({ region: 'us-east-1' }),
      globalClusterIdentifier: GLOBAL,
      secondaryClusterArn: OLD,
      pollIntervalMs: 1,
      ...extra,
    });
  const global = (members: { arn: string; writer: boolean }[]) => ({
    GlobalClusters: [
      {
        GlobalClusterIdentifier: GLOBAL,
        Engine: 'aurora-postgresql',
        EngineVersion: '15.4',
        GlobalClusterMembers: members.map((m) => ({ DBClusterArn: m.arn, IsWriter: m.writer })),
      },
    ],
  });
  const cluster = (status: string, members = 1): DBCluster => ({
    DBClusterIdentifier: 'tradepulse-use1',
    Status: status,
    DBClusterMembers: Array.from({ length: members }, (_, i) => ({ DBInstanceIdentifier: `i${i}` })),
    DBSubnetGroup: 'trading-use1',
    VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-1' }],
  });

  test('after a switchover Aurora made it a secondary itself: already done', async () => {
    rdsMock.on(DescribeGlobalClustersCommand).resolves(
      global([
        { arn: NEW, writer: true },
        { arn: OLD, writer: false },
      ]),
    );
    rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [cluster('available')] });
    const plan = await rebuilder().inspect();
    expect(plan).toMatchObject({ alreadyReplica: true, method: null });
    expect(plan.reason).toMatch(/Aurora made tradepulse-use1 a secondary/);
    expect(await rebuilder().rebuild({ method: 'auto' })).toMatchObject({ alreadyDone: true });
    expect(rdsMock).not.toHaveReceivedCommand(CreateDBClusterCommand);
  });

  test('a detached old cluster is renamed aside and a new secondary with a reader joins under its name', async () => {
    const globals = rdsMock.on(DescribeGlobalClustersCommand);
    globals
      .resolvesOnce(global([{ arn: NEW, writer: true }])) // inspect
      .resolvesOnce(global([{ arn: NEW, writer: true }])) // poll: detached, available → rename
      .resolvesOnce(global([{ arn: NEW, writer: true }])) // poll: gone → create cluster
      .resolvesOnce(
        global([
          { arn: NEW, writer: true },
          { arn: OLD, writer: false },
        ]),
      ) // poll: no instance yet
      .resolves(
        global([
          { arn: NEW, writer: true },
          { arn: OLD, writer: false },
        ]),
      );
    rdsMock
      .on(DescribeDBClustersCommand, { DBClusterIdentifier: 'tradepulse-use1' })
      .resolvesOnce({ DBClusters: [cluster('available')] })
      .resolvesOnce({ DBClusters: [cluster('available')] })
      .rejectsOnce(notFound('DBClusterNotFoundFault'))
      .resolvesOnce({ DBClusters: [cluster('available', 0)] })
      .resolves({ DBClusters: [cluster('available', 1)] });
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceClass: 'db.r6g.2xlarge' }] });
    const result = await rebuilder().rebuild({ method: 'auto' });
    expect(result).toMatchObject({
      alreadyDone: false,
      method: 'aurora:CreateDBCluster(GlobalClusterIdentifier)',
    });
    expect(rdsMock).toHaveReceivedCommandWith(ModifyDBClusterCommand, {
      DBClusterIdentifier: 'tradepulse-use1',
      NewDBClusterIdentifier: 'tradepulse-use1-diverged',
    });
    expect(rdsMock).toHaveReceivedCommandWith(CreateDBClusterCommand, {
      DBClusterIdentifier: 'tradepulse-use1',
      GlobalClusterIdentifier: GLOBAL,
      Engine: 'aurora-postgresql',
      EngineVersion: '15.4',
      DBSubnetGroupName: 'trading-use1',
      VpcSecurityGroupIds: ['sg-1'],
    });
    expect(rdsMock).toHaveReceivedCommandWith(CreateDBInstanceCommand, {
      DBClusterIdentifier: 'tradepulse-use1',
      DBInstanceClass: 'db.r6g.2xlarge',
    });
  });

  test('the global writer is not rebuilt', async () => {
    rdsMock.on(DescribeGlobalClustersCommand).resolves(global([{ arn: OLD, writer: true }]));
    rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [cluster('available')] });
    await expect(rebuilder().rebuild({ method: 'auto' })).rejects.toThrow(/is the global writer/);
  });

  test('cluster ARNs are checked', () => {
    expect(clusterIdOfArn(OLD)).toBe('tradepulse-use1');
    expect(() => clusterIdOfArn('arn:aws:rds:us-east-1:1:db:x')).toThrow(InvalidInputError);
  });
});
