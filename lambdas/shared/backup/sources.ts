import type { RDSClient } from '@aws-sdk/client-rds';
import type { PostgresAdapterOptions } from '../adapters/postgres';
import { readLedgerAggregates } from '../adapters/postgres/ledger';
import { withSession, type PostgresConnection } from '../adapters/postgres/session';
import { InvalidInputError } from '../errors';
import type { Topology } from '../topology';
import type { BackupSources } from './writer';

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
