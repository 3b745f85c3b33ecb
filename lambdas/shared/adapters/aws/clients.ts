import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { awsClientConfig, type AwsClientOptions } from './client-config';

export {
  DEFAULT_MAX_ATTEMPTS,
  awsClientConfig,
  type AwsClientConfig,
  type AwsClientOptions,
} from './client-config';
export { createArcClusterClients, type ArcClusterClient } from './arc-clients';

/**
 * All SDK clients of one region behind getters, each created on first use: the local runner,
 * the drill and the tests. Deployed steps use `awsClientCache` (client-config.ts) through
 * their dependency providers, which import only the clients they call.
 */
export interface AwsClients {
  readonly route53: Route53Client;
  readonly ssm: SSMClient;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly eventBridge: EventBridgeClient;
  readonly s3: S3Client;
  /** Backups: data keys (GenerateDataKey/Decrypt) and manifest signatures (Sign/Verify). */
  readonly kms: KMSClient;
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
  const kms = lazy(() => new KMSClient(config));
  return {
    get route53() {
      return route53();
    },
    get kms() {
      return kms();
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
