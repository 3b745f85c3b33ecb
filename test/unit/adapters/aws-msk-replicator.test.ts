import {
  CreateReplicatorCommand,
  DeleteReplicatorCommand,
  DescribeReplicatorCommand,
  KafkaClient,
  ListReplicatorsCommand,
  type ReplicatorSummary,
} from '@aws-sdk/client-kafka';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { MskReplicatorMirrorControl } from '../../../lambdas/shared/adapters/aws/msk-replicator';
import { InvalidInputError, NotReadyYetError } from '../../../lambdas/shared/errors';

const A = 'us-east-1';
const B = 'us-west-2';
const ARN_A = 'arn:aws:kafka:us-east-1:123456789012:cluster/trading-a/1';
const ARN_B = 'arn:aws:kafka:us-west-2:123456789012:cluster/trading-b/2';
const clients: Record<string, KafkaClient> = {
  [A]: new KafkaClient({ region: A }),
  [B]: new KafkaClient({ region: B }),
};

/** One mock per region's client: a replicator is listed only in the region it lives in. */
const inA = mockClient(clients[A]!);
const inB = mockClient(clients[B]!);

const control = (extra: Partial<ConstructorParameters<typeof MskReplicatorMirrorControl>[0]> = {}) =>
  new MskReplicatorMirrorControl({
    kafka: (region) => clients[region]!,
    clusters: {
      [A]: {
        clusterArn: ARN_A,
        subnetIds: ['subnet-a'],
        securityGroupIds: ['sg-a'],
        serviceExecutionRoleArn: 'arn:aws:iam::1:role/repl-a',
      },
      [B]: {
        clusterArn: ARN_B,
        subnetIds: ['subnet-b'],
        securityGroupIds: ['sg-b'],
        serviceExecutionRoleArn: 'arn:aws:iam::1:role/repl-b',
      },
    },
    topics: ['orders', 'fills'],
    pollIntervalMs: 1,
    sleep: async () => undefined,
    ...extra,
  });

const summary = (source: 'a' | 'b', state: string, arn: string): ReplicatorSummary => ({
  ReplicatorArn: arn,
  ReplicatorName: source === 'a' ? `tradepulse-dr-${A}-to-${B}` : `tradepulse-dr-${B}-to-${A}`,
  ReplicatorState: state as ReplicatorSummary['ReplicatorState'],
  KafkaClustersSummary: [
    { KafkaClusterAlias: 'trading-a', AmazonMskCluster: { MskClusterArn: ARN_A } },
    { KafkaClusterAlias: 'trading-b', AmazonMskCluster: { MskClusterArn: ARN_B } },
  ],
  ReplicationInfoSummaryList: [
    source === 'a'
      ? { SourceKafkaClusterAlias: 'trading-a', TargetKafkaClusterAlias: 'trading-b' }
      : { SourceKafkaClusterAlias: 'trading-b', TargetKafkaClusterAlias: 'trading-a' },
  ],
});

beforeEach(() => {
  inA.reset();
  inB.reset();
  inA.on(ListReplicatorsCommand).resolves({ Replicators: [] });
  inB.on(ListReplicatorsCommand).resolves({ Replicators: [] });
});

test('lists the managed replicators of every region as flows', async () => {
  inB.on(ListReplicatorsCommand).resolves({ Replicators: [summary('a', 'RUNNING', 'arn:fwd')] });
  const flows = await control().flows();
  expect(flows).toEqual([
    expect.objectContaining({
      sourceRegion: A,
      targetRegion: B,
      state: 'running',
      mechanism: 'MSK Replicator',
      mirroredTopics: ['trading-a.orders', 'trading-a.fills'],
    }),
  ]);
  expect(inA).toHaveReceivedCommandWith(ListReplicatorsCommand, { ReplicatorNameFilter: 'tradepulse-dr-' });
});

test('reversing deletes the forward replicator (in B) and creates B → A in A with offset sync, waiting until it runs', async () => {
  let created = false;
  inB
    .on(ListReplicatorsCommand)
    .callsFake(() => ({ Replicators: created ? [] : [summary('a', 'RUNNING', 'arn:fwd')] }));
  inA
    .on(ListReplicatorsCommand)
    .callsFake(() => ({ Replicators: created ? [summary('b', 'RUNNING', 'arn:rev')] : [] }));
  inB.on(DeleteReplicatorCommand).resolves({ ReplicatorState: 'DELETING' });
  inA.on(CreateReplicatorCommand).callsFake(() => {
    created = true;
    return { ReplicatorArn: 'arn:rev', ReplicatorState: 'CREATING' };
  });
  inA
    .on(DescribeReplicatorCommand)
    .resolvesOnce({ ReplicatorState: 'CREATING' })
    .resolves({ ReplicatorState: 'RUNNING' });
  const result = await control().replicate(B, A);
  expect(result.alreadyDone).toBe(false);
  expect(result.stopped).toEqual([
    expect.objectContaining({ sourceRegion: A, targetRegion: B, state: 'stopped' }),
  ]);
  expect(result.flow).toMatchObject({ sourceRegion: B, targetRegion: A, state: 'running' });
  expect(inB).toHaveReceivedCommandWith(DeleteReplicatorCommand, { ReplicatorArn: 'arn:fwd' });
  expect(inA).toHaveReceivedCommandWith(CreateReplicatorCommand, {
    ReplicatorName: `tradepulse-dr-${B}-to-${A}`,
    ServiceExecutionRoleArn: 'arn:aws:iam::1:role/repl-a',
    ReplicationInfoList: [
      expect.objectContaining({
        SourceKafkaClusterArn: ARN_B,
        TargetKafkaClusterArn: ARN_A,
        TopicReplication: expect.objectContaining({
          TopicsToReplicate: ['^orders$', '^fills$'],
          TopicNameConfiguration: { Type: 'PREFIXED_WITH_SOURCE_CLUSTER_ALIAS' },
        }),
        ConsumerGroupReplication: expect.objectContaining({ SynchroniseConsumerGroupOffsets: true }),
      }),
    ],
  });
  expect(inA).toHaveReceivedCommandTimes(DescribeReplicatorCommand, 2);
});

test('already replicating B → A and nothing else: a no-op', async () => {
  inA.on(ListReplicatorsCommand).resolves({ Replicators: [summary('b', 'RUNNING', 'arn:rev')] });
  const result = await control().replicate(B, A);
  expect(result).toMatchObject({ alreadyDone: true, stopped: [], started: null });
  expect(inA).not.toHaveReceivedCommand(CreateReplicatorCommand);
  expect(inB).not.toHaveReceivedCommand(DeleteReplicatorCommand);
});

test('a failed or still-deleting replicator, a replicator that never runs, and bad regions are reported', async () => {
  inA.on(ListReplicatorsCommand).resolves({ Replicators: [summary('b', 'FAILED', 'arn:rev')] });
  await expect(control().replicate(B, A)).rejects.toThrow(/FAILED/);
  inA.on(ListReplicatorsCommand).resolves({ Replicators: [summary('b', 'DELETING', 'arn:rev')] });
  await expect(control().replicate(B, A)).rejects.toThrow(/being deleted/);
  inA.on(ListReplicatorsCommand).resolves({ Replicators: [] });
  inA.on(CreateReplicatorCommand).resolves({ ReplicatorArn: 'arn:rev' });
  inA.on(DescribeReplicatorCommand).resolves({ ReplicatorState: 'CREATING' });
  await expect(control({ timeoutMs: 0 }).replicate(B, A)).rejects.toThrow(NotReadyYetError);
  await expect(control().replicate(A, A)).rejects.toThrow(InvalidInputError);
  await expect(control().replicate('eu-west-1', A)).rejects.toThrow(
    /no MSK cluster configured for region eu-west-1/,
  );
});
