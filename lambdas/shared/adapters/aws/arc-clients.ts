import { Route53RecoveryClusterClient } from '@aws-sdk/client-route53-recovery-cluster';
import { awsClientConfig, type AwsClientOptions } from './client-config';

export interface ArcClusterClient {
  readonly endpoint: string;
  readonly region: string;
  readonly client: Route53RecoveryClusterClient;
}

/**
 * One ARC data-plane client per regional cluster endpoint, each signed for the endpoint's
 * own region, as AWS documents: on failure, try the next endpoint. Fewer SDK attempts per
 * endpoint (default 2) because the next endpoint is the better retry.
 */
export function createArcClusterClients(
  clusterEndpoints: readonly { endpoint: string; region: string }[],
  opts: Omit<AwsClientOptions, 'region' | 'endpoint'> = {},
): ArcClusterClient[] {
  return clusterEndpoints.map(({ endpoint, region }) => ({
    endpoint,
    region,
    client: new Route53RecoveryClusterClient(awsClientConfig({ maxAttempts: 2, ...opts, region, endpoint })),
  }));
}
