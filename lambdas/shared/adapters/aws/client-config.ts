import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';

/**
 * SDK client settings, and a per-process cache of clients that imports no SDK package
 * itself: whoever asks for a client passes the constructor, so a Lambda bundle (and its
 * cold start) carries only the clients its step calls.
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
export type AwsClientConfig = ReturnType<typeof awsClientConfig>;

/** The SDK clients the steps use, by the name the rest of the code knows them by. */
export interface AwsClientTypes {
  route53: Route53Client;
  ssm: SSMClient;
  dynamodb: DynamoDBClient;
  sns: SNSClient;
  eventBridge: EventBridgeClient;
  s3: S3Client;
  rds: RDSClient;
  kms: KMSClient;
}
export type AwsClientKind = keyof AwsClientTypes;

/**
 * The `kind` client of `region`, created once (by `make`, from the shared settings) and
 * reused. S3 clients are path-style behind an endpoint override (moto has no virtual-host DNS):
 * `make` sees `config.endpoint` and decides.
 */
export type AwsClientSource = <K extends AwsClientKind>(
  region: string,
  kind: K,
  make: (config: AwsClientConfig) => AwsClientTypes[K],
) => AwsClientTypes[K];

/** A client cache for one process: `options(region)` says how to reach the region's endpoints. */
export function awsClientCache(options: (region: string) => AwsClientOptions): {
  readonly client: AwsClientSource;
  destroy(): void;
} {
  const created = new Map<string, { destroy(): void }>();
  const client: AwsClientSource = (region, kind, make) => {
    const key = `${region}/${kind}`;
    let found = created.get(key);
    if (!found) {
      found = make(awsClientConfig(options(region)));
      created.set(key, found);
    }
    return found as AwsClientTypes[typeof kind];
  };
  return {
    client,
    destroy() {
      for (const c of created.values()) c.destroy();
      created.clear();
    },
  };
}
