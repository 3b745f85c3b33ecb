/** The sandbox topology describes replication both ways: the failback's B → A route names B's alias, its mirrored topics and checkpoints on A. */
import { KafkajsAdapter } from '../../../lambdas/shared/adapters/kafka/kafkajs-adapter';
import { offsetSyncsTopic } from '../../../lambdas/shared/adapters/kafka/offset-sync';
import { kafkaProvider } from '../../../lambdas/shared/providers/kafka';
import { topologyFromSandbox } from '../../../local-runner/sandbox-topology';
import type { SandboxEndpoints } from '../../../sandbox/endpoints';

const regional = (region: string) => ({
  parameters: {
    acceptNewOrders: `/tradepulse/${region}/accept-new-orders`,
    strategyActivation: `/tradepulse/${region}/strategy-activation`,
    activeRegion: `/tradepulse/${region}/active-region`,
    deploymentFreeze: `/tradepulse/${region}/deployment-freeze`,
  },
  snsTopicArn: `arn:aws:sns:${region}:123456789012:dr`,
  evidenceBucket: `evidence-${region}`,
  lockTable: 'dr-lock',
  kmsKeyArn: `arn:aws:kms:${region}:123456789012:key/k`,
});

const target = (region: string) => ({
  api: `api.${region}`,
  postgresWriter: `pg.${region}`,
  kafkaBootstrap: `kafka.${region}`,
  redis: `redis.${region}`,
});

const endpoints = {
  primary: {
    region: 'us-east-1',
    postgres: { host: '127.0.0.1', port: 1, database: 'tradepulse' },
    redis: { host: '127.0.0.1', port: 3 },
    kafka: { brokers: ['127.0.0.1:5'] },
  },
  secondary: {
    region: 'us-west-2',
    postgres: { host: '127.0.0.1', port: 2, database: 'tradepulse' },
    redis: { host: '127.0.0.1', port: 4 },
    kafka: { brokers: ['127.0.0.1:7'] },
  },
  aws: {
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    resources: {
      hostedZoneId: 'Z1',
      hostedZoneName: 'trading.tradepulse.internal',
      records: { api: 'api.t', postgresWriter: 'pg.t', kafkaBootstrap: 'kafka.t', redis: 'redis.t' },
      targets: { 'us-east-1': target('us-east-1'), 'us-west-2': target('us-west-2') },
      regional: { 'us-east-1': regional('us-east-1'), 'us-west-2': regional('us-west-2') },
    },
  },
  postgresUsers: { operator: 'dr_operator', app: 'tradepulse_app' },
  mirrorSourceAlias: 'a',
  criticalTopics: ['orders', 'fills', 'risk_events'],
} as unknown as SandboxEndpoints;

test('the failback route B → A reads b.<topic> and b.checkpoints.internal on A, offset syncs for a on B', () => {
  const topology = topologyFromSandbox(endpoints);
  expect(topology.kafka.sourceAliases).toEqual({ 'us-east-1': 'a', 'us-west-2': 'b' });
  const opened = kafkaProvider.open({ topology, region: 'us-east-1', aws: () => undefined as never });
  const reverse = opened.forRun('run').kafka('us-west-2', 'us-east-1') as KafkajsAdapter;
  const forward = opened.forRun('run').kafka('us-east-1', 'us-west-2') as KafkajsAdapter;
  expect(reverse.mirroredTopic('orders')).toBe('b.orders');
  expect(reverse.checkpointsTopic).toBe('b.checkpoints.internal');
  expect(offsetSyncsTopic('a')).toBe('mm2-offset-syncs.a.internal');
  expect(forward.mirroredTopic('orders')).toBe('a.orders');
  expect(forward.checkpointsTopic).toBe('a.checkpoints.internal');
});
