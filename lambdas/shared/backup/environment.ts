import { KMSClient } from '@aws-sdk/client-kms';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { PostgresAdapterOptions } from '../adapters/postgres';
import { readLedgerAggregates } from '../adapters/postgres/ledger';
import { withSession, type PostgresConnection } from '../adapters/postgres/session';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsClientSource } from '../adapters/aws/client-config';
import { InvalidInputError } from '../errors';
import { s3Client } from '../providers/s3-client';
import type { Topology } from '../topology';
import type { BackupEnvironment } from './contracts';
import { backupDataKeys } from './envelope';
import { BackupObjectStore } from './object-store';
import { BackupService } from './service';
import { KmsManifestSigner } from './signing';
import type { BackupSources } from './writer';

/**
 * Where a region's backups live: its evidence bucket, its KMS data-key key and its
 * signing key (topology `regions.<region>.aws`). Backups of the primary's stores are kept
 * in the DR (secondary) region by default — where a restore is needed once the primary
 * region is lost — and validated there.
 */
export function backupEnvironmentFromTopology(topology: Topology, region: string): BackupEnvironment {
  const aws = topology.regions[region]?.aws;
  if (!aws) throw new InvalidInputError(`region '${region}' is not in the topology`, { field: 'region' });
  if (!aws.backup)
    throw new InvalidInputError(
      `region '${region}' has no backup keys (topology regions.${region}.aws.backup.dataKeyArn / signingKeyArn)`,
      { field: `regions.${region}.aws.backup` },
    );
  return {
    application: topology.application,
    region,
    bucket: aws.evidenceBucket,
    dataKeyId: aws.backup.dataKeyArn,
    signingKeyId: aws.backup.signingKeyArn,
  };
}

export function backupService(
  env: BackupEnvironment,
  clients: { s3: S3Client; kms: KMSClient },
  opts: { frameSize?: number; partBytes?: number; now?: () => Date } = {},
): BackupService {
  return new BackupService({
    env,
    store: new BackupObjectStore(clients.s3, env.bucket, opts.partBytes),
    dataKeys: backupDataKeys(clients.kms, env.dataKeyId),
    signer: new KmsManifestSigner(clients.kms, env.signingKeyId),
    ...(opts.frameSize !== undefined ? { frameSize: opts.frameSize } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
}

/** The backup service of `region` over a process's shared SDK clients. */
export function backupServiceFromTopology(
  topology: Topology,
  region: string,
  aws: AwsClientSource,
): BackupService {
  return backupService(backupEnvironmentFromTopology(topology, region), {
    s3: aws(region, 's3', s3Client),
    kms: aws(region, 'kms', (c) => new KMSClient(c)),
  });
}

/**
 * What to back up, from the topology: the primary region's Redis and Kafka, its PostgreSQL
 * through the streaming standby in `standbyRegion` (self-managed PostgreSQL only: RDS and
 * Aurora are backed up by snapshots, see rds-snapshot.ts).
 */
export function backupSourcesFromTopology(
  topology: Topology,
  input: {
    sourceRegion: string;
    standbyRegion: string;
    /** Directory of pg_basebackup (self-managed PostgreSQL). */
    pgBinDir?: string;
    /** RDS client of the source region (RDS / Aurora snapshots) and how to log in to read aggregates. */
    rds?: RDSClient;
    postgresOptions?: Pick<PostgresAdapterOptions, 'operatorPassword' | 'ssl'>;
  },
): BackupSources {
  const source = topology.regions[input.sourceRegion];
  const standby = topology.regions[input.standbyRegion];
  if (!source)
    throw new InvalidInputError(`region '${input.sourceRegion}' is not in the topology`, {
      field: 'sourceRegion',
    });
  if (!standby)
    throw new InvalidInputError(`region '${input.standbyRegion}' is not in the topology`, {
      field: 'standbyRegion',
    });
  const pgConn = (p: Topology['regions'][string]['postgres']): PostgresConnection => ({
    host: p.host,
    port: p.port,
    database: p.database,
    operatorUser: p.operatorUser,
    applicationUser: p.applicationUser,
    ...(input.postgresOptions?.operatorPassword
      ? { operatorPassword: input.postgresOptions.operatorPassword }
      : {}),
    ...(input.postgresOptions?.ssl ? { ssl: input.postgresOptions.ssl } : {}),
  });
  const sources: BackupSources = {
    sourceRegion: input.sourceRegion,
    redis: { host: source.redis.host, port: source.redis.port },
    kafka: {
      primaryRegion: input.sourceRegion,
      secondaryRegion: input.standbyRegion,
      primaryBrokers: source.kafka.brokers,
      secondaryBrokers: standby.kafka.brokers,
      sourceAlias: topology.kafka.sourceAliases[input.sourceRegion]!,
      targetAlias: topology.kafka.sourceAliases[input.standbyRegion]!,
      criticalTopics: topology.kafka.criticalTopics,
      offsetLagMax: topology.kafka.offsetLagMax,
    },
  };
  const pg = source.postgres;
  if (pg.kind === 'self-managed' && standby.postgres.kind === 'self-managed' && input.pgBinDir)
    sources.postgres = {
      standby: pgConn(standby.postgres),
      primary: pgConn(pg),
      pgBinDir: input.pgBinDir,
    };
  else if (pg.kind !== 'self-managed' && input.rds) {
    const conn = pgConn(pg);
    sources.postgres = {
      kind: pg.kind === 'rds' ? 'rds-snapshot' : 'aurora-cluster-snapshot',
      rds: input.rds,
      identifier: pg.kind === 'rds' ? pg.dbInstanceIdentifier : clusterIdOf(pg.dbClusterArn),
      readAggregates: async () => ({
        aggregates: await readLedgerAggregates(conn),
        serverVersion: await withSession(conn, async (c) =>
          Number(
            (await c.query<{ v: string }>(`select current_setting('server_version_num') as v`)).rows[0]!.v,
          ),
        ),
        endpoint: `${conn.host}:${conn.port}`,
      }),
    };
  }
  return sources;
}

/** `arn:aws:rds:us-east-1:123:cluster:tradepulse-a` → `tradepulse-a`. */
function clusterIdOf(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}
