import type { SandboxEndpoints } from '../sandbox/endpoints';
import { MIRROR_TARGET_ALIAS } from '../sandbox/kafka';
import { parseTopology, type Topology, type TopologyInput } from '../lambdas/shared/topology';

/** The alarm the sandbox's failover is wired to, as an EventBridge rule would send it. */
export const SANDBOX_FAILOVER_ALARM = 'tradepulse-primary-region-unhealthy';

/**
 * The typed topology of a running sandbox: the same shape a deployment's config has, with
 * loopback endpoints and the control-plane resources seeded in moto.
 */
export function topologyFromSandbox(
  endpoints: SandboxEndpoints,
  overrides: Partial<TopologyInput> = {},
): Topology {
  const { resources } = endpoints.aws;
  const region = (r: SandboxEndpoints['primary']) => ({
    postgres: {
      kind: 'self-managed' as const,
      host: r.postgres.host,
      port: r.postgres.port,
      database: r.postgres.database,
      operatorUser: endpoints.postgresUsers.operator,
      applicationUser: endpoints.postgresUsers.app,
    },
    kafka: { brokers: r.kafka.brokers },
    redis: { host: r.redis.host, port: r.redis.port },
    aws: (({ parameters, snsTopicArn, evidenceBucket, lockTable, kmsKeyArn, backupSigningKeyArn }) => ({
      parameters,
      snsTopicArn,
      evidenceBucket,
      lockTable,
      eventBusName: 'default',
      // Sandboxes seeded before the backup signing key existed have none: no backup keys then.
      ...(kmsKeyArn && backupSigningKeyArn
        ? { backup: { dataKeyArn: kmsKeyArn, signingKeyArn: backupSigningKeyArn } }
        : {}),
    }))(resources.regional[r.region]!),
  });
  return parseTopology(
    {
      application: 'tradepulse',
      regions: {
        [endpoints.primary.region]: region(endpoints.primary),
        [endpoints.secondary.region]: region(endpoints.secondary),
      },
      dns: {
        method: 'route53-weighted',
        hostedZoneId: resources.hostedZoneId,
        records: resources.records,
        targets: resources.targets,
        ttlSeconds: 5,
      },
      alarms: {
        [SANDBOX_FAILOVER_ALARM]: {
          sourceRegion: endpoints.primary.region,
          targetRegion: endpoints.secondary.region,
        },
      },
      kafka: {
        criticalTopics: endpoints.criticalTopics,
        // Each region's MirrorMaker 2 alias as a replication source: the primary's topics are `a.<topic>` on the
        // secondary, and after a failover the reversed flow (failback) mirrors the secondary's as `b.<topic>` on the primary.
        sourceAliases: {
          [endpoints.primary.region]: endpoints.mirrorSourceAlias,
          [endpoints.secondary.region]: MIRROR_TARGET_ALIAS,
        },
        maxLagSeconds: 30,
        offsetLagMax: 10,
      },
      ...overrides,
    },
    'sandbox topology',
  );
}
