import {
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  RDSClient,
  RDSServiceException,
  SwitchoverGlobalClusterCommand,
  type DescribeGlobalClustersCommandOutput,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { jest } from '@jest/globals';
import {
  AuroraGlobalPostgresAdapter,
  type AuroraGlobalPostgresOptions,
} from '../../../lambdas/shared/adapters/postgres';
import type { PostgresNode } from '../../../lambdas/shared/adapters/postgres/node';
import {
  InvalidInputError,
  NotReadyYetError,
  PromotionFailedError,
  TransientError,
} from '../../../lambdas/shared/errors';

const rdsMock = mockClient(RDSClient);
const GLOBAL = 'tradepulse-global';
const PRIMARY = 'arn:aws:rds:us-east-1:123456789012:cluster:tradepulse-use1';
const TARGET = 'arn:aws:rds:us-west-2:123456789012:cluster:tradepulse-usw2';
const OTHER = 'arn:aws:rds:eu-west-1:123456789012:cluster:tradepulse-euw1';

/** The SQL side is proven on real servers (test/integration/postgres-adapter.test.ts); here it only records calls. */
function fakeNode(fenceLifted = false) {
  const finishPromotion = jest
    .fn<PostgresNode['finishPromotion']>()
    .mockResolvedValue({ fenceLifted, timeline: 1 });
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
  over: Partial<AuroraGlobalPostgresOptions> & Pick<AuroraGlobalPostgresOptions, 'mode' | 'allowDataLoss'>,
) {
  return new AuroraGlobalPostgresAdapter({
    connection: {
      host: 'tradepulse-usw2.cluster-abc.us-west-2.rds.amazonaws.com',
      port: 5432,
      database: 'tradepulse',
      operatorUser: 'postgres',
      applicationUser: 'tradepulse_app',
    },
    rds: new RDSClient({ region: 'us-west-2' }),
    globalClusterIdentifier: GLOBAL,
    dbClusterArn: TARGET,
    pollIntervalMs: 1,
    promotionTimeoutMs: 2_000,
    node: fakeNode().node,
    ...over,
  });
}

function globalCluster(
  writer: string,
  failover?: { Status: 'pending' | 'failing-over' | 'cancelling'; ToDbClusterArn: string },
): DescribeGlobalClustersCommandOutput {
  return {
    $metadata: {},
    GlobalClusters: [
      {
        GlobalClusterIdentifier: GLOBAL,
        Status: failover ? 'failing-over' : 'available',
        GlobalClusterMembers: [PRIMARY, TARGET].map((arn) => ({
          DBClusterArn: arn,
          IsWriter: arn === writer,
        })),
        ...(failover ? { FailoverState: { ...failover, FromDbClusterArn: PRIMARY } } : {}),
      },
    ],
  };
}

const awsError = (name: string) =>
  new RDSServiceException({ name, $fault: 'client', $metadata: {}, message: `${name} (simulated)` });

beforeEach(() => {
  rdsMock.reset();
});

describe('Aurora global database adapter: promote', () => {
  test('switchover (planned): SwitchoverGlobalCluster to this cluster, then waits until it is the writer', async () => {
    rdsMock
      .on(DescribeGlobalClustersCommand)
      .resolvesOnce(globalCluster(PRIMARY))
      .resolvesOnce(globalCluster(PRIMARY, { Status: 'pending', ToDbClusterArn: TARGET }))
      .resolvesOnce(globalCluster(TARGET, { Status: 'failing-over', ToDbClusterArn: TARGET }))
      .resolves(globalCluster(TARGET));
    rdsMock.on(SwitchoverGlobalClusterCommand).resolves({});
    const { node, finishPromotion } = fakeNode();

    const result = await adapter({ mode: 'switchover', allowDataLoss: false, node }).promote();

    expect(result).toEqual({ alreadyDone: false, timeline: 1, mechanism: 'aurora:SwitchoverGlobalCluster' });
    expect(rdsMock).toHaveReceivedCommandTimes(SwitchoverGlobalClusterCommand, 1);
    expect(rdsMock).toHaveReceivedCommandWith(SwitchoverGlobalClusterCommand, {
      GlobalClusterIdentifier: GLOBAL,
      TargetDbClusterIdentifier: TARGET,
    });
    expect(rdsMock).not.toHaveReceivedCommand(FailoverGlobalClusterCommand);
    expect(rdsMock).toHaveReceivedCommandWith(DescribeGlobalClustersCommand, {
      GlobalClusterIdentifier: GLOBAL,
    });
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeGlobalClustersCommand, 4);
    expect(finishPromotion).toHaveBeenCalledWith(2_000);
  });

  test('failover with a recorded data-loss decision: FailoverGlobalCluster with AllowDataLoss true', async () => {
    rdsMock
      .on(DescribeGlobalClustersCommand)
      .resolvesOnce(globalCluster(PRIMARY))
      .resolves(globalCluster(TARGET));
    rdsMock.on(FailoverGlobalClusterCommand).resolves({});

    const result = await adapter({ mode: 'failover', allowDataLoss: true }).promote();

    expect(result.mechanism).toBe('aurora:FailoverGlobalCluster(AllowDataLoss=true)');
    expect(rdsMock).toHaveReceivedCommandWith(FailoverGlobalClusterCommand, {
      GlobalClusterIdentifier: GLOBAL,
      TargetDbClusterIdentifier: TARGET,
      AllowDataLoss: true,
    });
    expect(rdsMock).not.toHaveReceivedCommand(SwitchoverGlobalClusterCommand);
  });

  test('failover without a data-loss decision never sends AllowDataLoss true', async () => {
    rdsMock
      .on(DescribeGlobalClustersCommand)
      .resolvesOnce(globalCluster(PRIMARY))
      .resolves(globalCluster(TARGET));
    rdsMock.on(FailoverGlobalClusterCommand).resolves({});

    const result = await adapter({ mode: 'failover', allowDataLoss: false }).promote();

    expect(result.mechanism).toBe('aurora:FailoverGlobalCluster(AllowDataLoss=false)');
    expect(rdsMock).toHaveReceivedCommandTimes(FailoverGlobalClusterCommand, 1);
    expect(rdsMock).toHaveReceivedCommandWith(FailoverGlobalClusterCommand, {
      GlobalClusterIdentifier: GLOBAL,
      TargetDbClusterIdentifier: TARGET,
      AllowDataLoss: false,
    });
  });

  test('a switchover cannot be told to allow data loss', () => {
    expect(() => adapter({ mode: 'switchover', allowDataLoss: true })).toThrow(InvalidInputError);
  });

  test('this cluster already the writer: a no-op, nothing requested', async () => {
    rdsMock.on(DescribeGlobalClustersCommand).resolves(globalCluster(TARGET));
    const { node, finishPromotion } = fakeNode();

    expect(await adapter({ mode: 'failover', allowDataLoss: true, node }).promote()).toEqual({
      alreadyDone: true,
      timeline: 1,
      mechanism: 'aurora:FailoverGlobalCluster(AllowDataLoss=true)',
    });
    expect(rdsMock).not.toHaveReceivedCommand(FailoverGlobalClusterCommand);
    expect(rdsMock).not.toHaveReceivedCommand(SwitchoverGlobalClusterCommand);
    expect(finishPromotion).toHaveBeenCalledTimes(1);
  });

  test('a move to this cluster already under way (a retried step) is waited for, not requested again', async () => {
    rdsMock
      .on(DescribeGlobalClustersCommand)
      .resolvesOnce(globalCluster(PRIMARY, { Status: 'failing-over', ToDbClusterArn: TARGET }))
      .resolves(globalCluster(TARGET));

    expect((await adapter({ mode: 'switchover', allowDataLoss: false }).promote()).alreadyDone).toBe(true);
    expect(rdsMock).not.toHaveReceivedCommand(SwitchoverGlobalClusterCommand);
  });

  test('a move to another cluster under way is a PromotionFailedError; nothing is requested', async () => {
    rdsMock
      .on(DescribeGlobalClustersCommand)
      .resolves(globalCluster(PRIMARY, { Status: 'pending', ToDbClusterArn: OTHER }));

    await expect(adapter({ mode: 'failover', allowDataLoss: true }).promote()).rejects.toThrow(
      PromotionFailedError,
    );
    expect(rdsMock).not.toHaveReceivedCommand(FailoverGlobalClusterCommand);
  });

  test('a cluster that is not a member of the global database is a PromotionFailedError', async () => {
    rdsMock.on(DescribeGlobalClustersCommand).resolves(globalCluster(PRIMARY));

    await expect(
      adapter({ mode: 'switchover', allowDataLoss: false, dbClusterArn: OTHER }).promote(),
    ).rejects.toThrow(/is not a member of global cluster/);
    expect(rdsMock).not.toHaveReceivedCommand(SwitchoverGlobalClusterCommand);
  });

  test('not the writer when the time is up: NotReadyYetError, and the SQL side is not touched', async () => {
    rdsMock.on(DescribeGlobalClustersCommand).resolves(globalCluster(PRIMARY));
    rdsMock.on(SwitchoverGlobalClusterCommand).resolves({});
    const { node, finishPromotion } = fakeNode();

    const error = await adapter({ mode: 'switchover', allowDataLoss: false, node, promotionTimeoutMs: 30 })
      .promote()
      .catch((err: unknown) => err);

    expect(error).toBeInstanceOf(NotReadyYetError);
    expect((error as NotReadyYetError).details).toMatchObject({ writer: false, promotionRequested: true });
    expect(rdsMock).toHaveReceivedCommandTimes(SwitchoverGlobalClusterCommand, 1);
    expect(finishPromotion).not.toHaveBeenCalled();
  });

  test('throttling is a TransientError; a refusal by Aurora is passed on as it is', async () => {
    rdsMock.on(DescribeGlobalClustersCommand).rejects(awsError('Throttling'));
    await expect(adapter({ mode: 'switchover', allowDataLoss: false }).promote()).rejects.toBeInstanceOf(
      TransientError,
    );

    rdsMock.on(DescribeGlobalClustersCommand).resolves(globalCluster(PRIMARY));
    rdsMock.on(FailoverGlobalClusterCommand).rejects(awsError('InvalidGlobalClusterStateFault'));
    const error = await adapter({ mode: 'failover', allowDataLoss: false })
      .promote()
      .catch((err: unknown) => err);
    expect(error).not.toBeInstanceOf(TransientError);
    expect((error as Error).name).toBe('InvalidGlobalClusterStateFault');
  });
});
