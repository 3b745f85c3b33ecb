/** Where each server of one sandbox "region" listens. */
export interface RegionEndpoints {
  region: string;
  postgres: { host: string; port: number; database: string };
  redis: { host: string; port: number };
  kafka: { brokers: string[] };
}

export type TradingEndpoint = 'api' | 'postgresWriter' | 'kafkaBootstrap' | 'redis';
export const TRADING_ENDPOINTS: readonly TradingEndpoint[] = [
  'api',
  'postgresWriter',
  'kafkaBootstrap',
  'redis',
];

/** Resources homed in one region (static stability: a region's failover uses only its own). */
export interface RegionalAwsResources {
  parameters: {
    acceptNewOrders: string;
    strategyActivation: string;
    activeRegion: string;
    deploymentFreeze: string;
  };
  snsTopicArn: string;
  evidenceBucket: string;
  lockTable: string;
  /** Symmetric KMS key (alias/tradepulse-dr-evidence) that envelope-encrypts evidence such as audit exports. */
  kmsKeyArn: string;
  /** Asymmetric KMS key (alias/tradepulse-dr-backup-signing, RSA_2048 SIGN_VERIFY) that signs backup manifests. */
  backupSigningKeyArn: string;
}

/** What the moto server was seeded with: the control-plane resources the workflows use. */
export interface SeededAwsResources {
  hostedZoneId: string;
  hostedZoneName: string;
  /** Weighted CNAME per trading endpoint; one record set per region, identified by the region name. */
  records: Record<TradingEndpoint, string>;
  /** The CNAME target of each endpoint in each region, e.g. postgres-writer.us-west-2.sandbox.tradepulse.internal. */
  targets: Record<string, Record<TradingEndpoint, string>>;
  regional: Record<string, RegionalAwsResources>;
}

export interface SandboxEndpoints {
  primary: RegionEndpoints;
  secondary: RegionEndpoints;
  aws: {
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    resources: SeededAwsResources;
  };
  postgresUsers: { operator: string; app: string };
  /** MirrorMaker 2 source cluster alias: mirrored topics on the secondary are `<alias>.<topic>`. */
  mirrorSourceAlias: string;
  criticalTopics: string[];
}
