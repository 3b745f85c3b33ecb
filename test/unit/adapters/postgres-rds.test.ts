import {
  DescribeDBInstancesCommand,
  PromoteReadReplicaCommand,
  RDSClient,
  RDSServiceException,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { jest } from '@jest/globals';
import { RdsPostgresAdapter } from '../../../lambdas/shared/adapters/postgres';
import type { PostgresNode } from '../../../lambdas/shared/adapters/postgres/node';
import { NotReadyYetError, TransientError } from '../../../lambdas/shared/errors';

const rdsMock = mockClient(RDSClient);
const INSTANCE = 'tradepulse-usw2';
const SOURCE = 'arn:aws:rds:us-east-1:123456789012:db:tradepulse-use1';

/** The SQL side is proven on real servers (test/integration/postgres-adapter.test.ts); here it only records calls. */
function fakeNode(fenceLifted = false) {
  const finishPromotion = jest
    .fn<PostgresNode['finishPromotion']>()
    .mockResolvedValue({ fenceLifted, timeline: 3 });
  const unused = () => Promise.reject(new Error('not used by promote()'));
  const node: PostgresNode = {
    status: unused,
    fence: unused,
    unfence: unused,
    waitForReplay: unused,
    ledgerAggregates: unused,
    missingSequences: unused,
    finishPromotion,
  };
  return { node, finishPromotion };
}

function adapter(
  node: PostgresNode,
  extra: Partial<ConstructorParameters<typeof RdsPostgresAdapter>[0]> = {},
) {
  return new RdsPostgresAdapter({
    connection: {
      host: 'tradepulse-usw2.abc.us-west-2.rds.amazonaws.com',
      port: 5432,
      database: 'tradepulse',
      operatorUser: 'postgres',
      applicationUser: 'tradepulse_app',
    },
    rds: new RDSClient({ region: 'us-west-2' }),
    dbInstanceIdentifier: INSTANCE,
    pollIntervalMs: 1,
    promotionTimeoutMs: 2_000,
    node,
    ...extra,
  });
}

const instance = (status: string, replicaOf?: string): { DBInstances: DBInstance[] } => ({
  DBInstances: [
    {
      DBInstanceIdentifier: INSTANCE,
      DBInstanceStatus: status,
      ...(replicaOf ? { ReadReplicaSourceDBInstanceIdentifier: replicaOf } : {}),
    },
  ],
});

const awsError = (name: string) =>
  new RDSServiceException({ name, $fault: 'client', $metadata: {}, message: `${name} (simulated)` });

beforeEach(() => {
  rdsMock.reset();
});

describe('RDS PostgreSQL adapter: promote', () => {
  test('promotes an available read replica, then polls until the instance is available and no longer a replica', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce(instance('available', SOURCE))
      .resolvesOnce(instance('modifying', SOURCE))
      .resolvesOnce(instance('rebooting'))
      .resolves(instance('available'));
    rdsMock.on(PromoteReadReplicaCommand).resolves({});
    const { node, finishPromotion } = fakeNode();

    const result = await adapter(node).promote();

    expect(result).toEqual({ alreadyDone: false, timeline: 3, mechanism: 'rds:PromoteReadReplica' });
    expect(rdsMock).toHaveReceivedCommandTimes(PromoteReadReplicaCommand, 1);
    expect(rdsMock).toHaveReceivedCommandWith(PromoteReadReplicaCommand, {
      DBInstanceIdentifier: INSTANCE,
      BackupRetentionPeriod: 35,
    });
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { DBInstanceIdentifier: INSTANCE });
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 4);
    // Only after the control plane reports it done does the SQL side confirm writes and lift an inherited fence.
    expect(finishPromotion).toHaveBeenCalledWith(2_000);
  });

  test('sends the configured backup retention', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce(instance('available', SOURCE))
      .resolves(instance('available'));
    rdsMock.on(PromoteReadReplicaCommand).resolves({});
    await adapter(fakeNode().node, { backupRetentionPeriodDays: 7 }).promote();
    expect(rdsMock).toHaveReceivedCommandWith(PromoteReadReplicaCommand, {
      DBInstanceIdentifier: INSTANCE,
      BackupRetentionPeriod: 7,
    });
  });

  test('an instance that is no longer a replica is a no-op: nothing is requested', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves(instance('available'));
    const { node, finishPromotion } = fakeNode(false);

    expect(await adapter(node).promote()).toEqual({
      alreadyDone: true,
      timeline: 3,
      mechanism: 'rds:PromoteReadReplica',
    });
    expect(rdsMock).not.toHaveReceivedCommand(PromoteReadReplicaCommand);
    expect(finishPromotion).toHaveBeenCalledTimes(1);
  });

  test('a promoted instance that still carried the replicated fence is not reported as a no-op', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves(instance('available'));
    expect((await adapter(fakeNode(true).node).promote()).alreadyDone).toBe(false);
    expect(rdsMock).not.toHaveReceivedCommand(PromoteReadReplicaCommand);
  });

  test('a promotion already under way (a retried step) is waited for, not requested again', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce(instance('modifying', SOURCE))
      .resolvesOnce(instance('rebooting'))
      .resolves(instance('available'));

    expect((await adapter(fakeNode().node).promote()).alreadyDone).toBe(true);
    expect(rdsMock).not.toHaveReceivedCommand(PromoteReadReplicaCommand);
  });

  test('a DescribeDBInstances answer that lags behind the request does not make it ask twice', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce(instance('available', SOURCE))
      .resolvesOnce(instance('available', SOURCE))
      .resolvesOnce(instance('modifying', SOURCE))
      .resolves(instance('available'));
    rdsMock.on(PromoteReadReplicaCommand).resolves({});

    await adapter(fakeNode().node).promote();
    expect(rdsMock).toHaveReceivedCommandTimes(PromoteReadReplicaCommand, 1);
  });

  test('a replica that left the promotable state as it was asked is asked again once available', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce(instance('available', SOURCE))
      .resolvesOnce(instance('available', SOURCE))
      .resolves(instance('available'));
    rdsMock.on(PromoteReadReplicaCommand).rejectsOnce(awsError('InvalidDBInstanceStateFault')).resolves({});

    expect((await adapter(fakeNode().node).promote()).alreadyDone).toBe(false);
    expect(rdsMock).toHaveReceivedCommandTimes(PromoteReadReplicaCommand, 2);
  });

  test('still a replica when the time is up: NotReadyYetError with what was seen, and a retry resumes the wait', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce(instance('available', SOURCE))
      .resolves(instance('modifying', SOURCE));
    rdsMock.on(PromoteReadReplicaCommand).resolves({});
    const { node, finishPromotion } = fakeNode();

    const error = await adapter(node, { promotionTimeoutMs: 30 })
      .promote()
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(NotReadyYetError);
    expect((error as NotReadyYetError).details).toMatchObject({
      status: 'modifying',
      replicaOf: SOURCE,
      promotionRequested: true,
    });
    expect(finishPromotion).not.toHaveBeenCalled();

    rdsMock.on(DescribeDBInstancesCommand).resolves(instance('available'));
    expect((await adapter(node).promote()).alreadyDone).toBe(true);
    expect(rdsMock).toHaveReceivedCommandTimes(PromoteReadReplicaCommand, 1);
  });

  test('throttling is a TransientError (the ASL retries it); an unknown instance is not', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(awsError('Throttling'));
    await expect(adapter(fakeNode().node).promote()).rejects.toBeInstanceOf(TransientError);

    rdsMock.on(DescribeDBInstancesCommand).rejects(awsError('DBInstanceNotFoundFault'));
    const error = await adapter(fakeNode().node)
      .promote()
      .catch((err: unknown) => err);
    expect(error).not.toBeInstanceOf(TransientError);
    expect((error as Error).name).toBe('DBInstanceNotFoundFault');
  });

  test('a failure of PromoteReadReplica itself is mapped the same way', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves(instance('available', SOURCE));
    rdsMock.on(PromoteReadReplicaCommand).rejects(awsError('ThrottlingException'));
    await expect(adapter(fakeNode().node).promote()).rejects.toBeInstanceOf(TransientError);
  });
});
