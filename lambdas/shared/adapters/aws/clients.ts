import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { Route53RecoveryClusterClient } from '@aws-sdk/client-route53-recovery-cluster';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';

/**
 * SDK clients for one region, created once at module scope by handlers (and by the
 * local runner / tests with the sandbox's endpoint and dummy credentials).
 */
export interface AwsClientOptions {
  readonly region: string;
  /** Endpoint override (the sandbox's moto server). @default the AWS endpoint of the region */
  readonly endpoint?: string;
  /** Static credentials (the sandbox). @default the SDK's default provider chain (the Lambda role) */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per call, first try included, in the SDK's `standard` retry mode. @default 3 */
  readonly maxAttempts?: number;
  /** TCP connect timeout, so a black-holed endpoint fails fast and the caller can move on. @default 3000 */
  readonly connectionTimeoutMs?: number;
  /** Socket idle timeout per request. @default 10000 */
  readonly requestTimeoutMs?: number;
}

/** AWS's recommended retry set-up: `standard` mode (exponential backoff with jitter, retry quota). */
export const DEFAULT_MAX_ATTEMPTS = 3;

export function awsClientConfig(opts: AwsClientOptions) {
  return {
    region: opts.region,
    retryMode: 'standard',
    maxAttempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: opts.connectionTimeoutMs ?? 3000,
      requestTimeout: opts.requestTimeoutMs ?? 10_000,
    },
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  };
}

export interface AwsClients {
  readonly route53: Route53Client;
  readonly ssm: SSMClient;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly eventBridge: EventBridgeClient;
  readonly s3: S3Client;
  /** Destroys the clients created so far (tests, the local runner). */
  destroy(): void;
}

/** The region's clients, each created on first use (a handler pays only for what it calls). */
export function createAwsClients(opts: AwsClientOptions): AwsClients {
  const config = awsClientConfig(opts);
  const created: { destroy(): void }[] = [];
  const lazy = <T extends { destroy(): void }>(make: () => T): (() => T) => {
    let client: T | undefined;
    return () => {
      if (!client) {
        client = make();
        created.push(client);
      }
      return client;
    };
  };
  const route53 = lazy(() => new Route53Client(config));
  const ssm = lazy(() => new SSMClient(config));
  const dynamodb = lazy(() => new DynamoDBClient(config));
  const sns = lazy(() => new SNSClient(config));
  const eventBridge = lazy(() => new EventBridgeClient(config));
  // Path-style addressing only against an endpoint override (moto has no virtual-host DNS).
  const s3 = lazy(() => new S3Client({ ...config, forcePathStyle: Boolean(opts.endpoint) }));
  return {
    get route53() {
      return route53();
    },
    get ssm() {
      return ssm();
    },
    get dynamodb() {
      return dynamodb();
    },
    get sns() {
      return sns();
    },
    get eventBridge() {
      return eventBridge();
    },
    get s3() {
      return s3();
    },
    destroy() {
      for (const client of created.splice(0)) client.destroy();
    },
  };
}

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
