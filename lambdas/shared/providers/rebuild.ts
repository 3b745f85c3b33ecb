import { RDSClient } from '@aws-sdk/client-rds';
import type { MirrorControl, PostgresRebuilder, RedisReplicaAttacher } from '../adapters/contracts';
import { AuroraSecondaryRebuilder } from '../adapters/postgres/rebuild-aurora';
import { RdsReadReplicaRebuilder } from '../adapters/postgres/rebuild-rds';
import { SelfManagedPostgresRebuilder } from '../adapters/postgres/rebuild';
import { standbyNameFor } from '../adapters/postgres/rebuild-plan';
import type { PostgresConnection } from '../adapters/postgres/session';
import { IoredisReplicaAttacher } from '../adapters/redis/replica-attach';
import type { RebuildDependencies } from '../dependencies';
import { InvalidInputError } from '../errors';
import type { PostgresTopology } from '../topology';
import { defineProvider, regionOf, type ProviderContext } from './provider';

const connectionOf = (t: PostgresTopology, ctx: ProviderContext): PostgresConnection => ({
  host: t.host,
  port: t.port,
  database: t.database,
  operatorUser: t.operatorUser,
  applicationUser: t.applicationUser,
  ...(ctx.postgres?.operatorPassword ? { operatorPassword: ctx.postgres.operatorPassword } : {}),
  ...(ctx.postgres?.ssl ? { ssl: ctx.postgres.ssl } : {}),
});

function distinct(primaryRegion: string, replicaRegion: string): void {
  if (primaryRegion === replicaRegion)
    throw new InvalidInputError(`cannot rebuild region ${replicaRegion} as a replica of itself`);
}

/**
 * `postgresRebuilder`: by the rebuilt region's kind. Self-managed nodes need control of their
 * processes (the sandbox's; on EC2 a host agent, which no Lambda has); RDS and Aurora go through
 * the RDS API, each call in the region that owns the resource.
 */
export const postgresRebuildProvider = defineProvider<Pick<RebuildDependencies, 'postgresRebuilder'>>(
  'postgres-rebuild',
  (ctx) => ({
    forRun: () => ({
      postgresRebuilder(primaryRegion: string, replicaRegion: string): PostgresRebuilder {
        distinct(primaryRegion, replicaRegion);
        const primary = regionOf(ctx.topology, primaryRegion).postgres;
        const replica = regionOf(ctx.topology, replicaRegion).postgres;
        const rds = (region: string) => ctx.aws(region, 'rds', (c) => new RDSClient(c));
        switch (replica.kind) {
          case 'self-managed': {
            const control = ctx.processControl;
            if (!control)
              throw new InvalidInputError(
                `PostgreSQL in ${replicaRegion} is self-managed: rebuilding it needs control of its server process and data directory (the sandbox's supervisor or a host agent), and none is configured for this orchestrator`,
              );
            return new SelfManagedPostgresRebuilder({
              primary: connectionOf(primary, ctx),
              replica: connectionOf(replica, ctx),
              host: control.postgres(replicaRegion),
              replicationUser: control.replicationUser,
              standbyName: standbyNameFor(replicaRegion),
            });
          }
          case 'rds':
            if (primary.kind !== 'rds')
              throw new InvalidInputError(
                `PostgreSQL in ${replicaRegion} is RDS but in ${primaryRegion} it is ${primary.kind}`,
              );
            return new RdsReadReplicaRebuilder({
              primaryRds: rds(primaryRegion),
              replicaRds: rds(replicaRegion),
              primaryRegion,
              primaryInstanceIdentifier: primary.dbInstanceIdentifier,
              replicaInstanceIdentifier: replica.dbInstanceIdentifier,
            });
          case 'aurora-global':
            return new AuroraSecondaryRebuilder({
              rds: rds(replicaRegion),
              globalClusterIdentifier: replica.globalClusterIdentifier,
              secondaryClusterArn: replica.dbClusterArn,
            });
        }
      },
    }),
  }),
);

/** `redisReplica`: REPLICAOF between the two regions' Redis endpoints of the topology. */
export const redisReplicaProvider = defineProvider<Pick<RebuildDependencies, 'redisReplica'>>(
  'redis-replica',
  (ctx) => ({
    forRun: () => ({
      redisReplica(primaryRegion: string, replicaRegion: string): RedisReplicaAttacher {
        distinct(primaryRegion, replicaRegion);
        return new IoredisReplicaAttacher({
          primary: regionOf(ctx.topology, primaryRegion).redis,
          replica: regionOf(ctx.topology, replicaRegion).redis,
        });
      },
    }),
  }),
);

/** `mirrorControl`: the process control's (the sandbox's MirrorMaker 2). */
export const mirrorControlProvider = defineProvider<Pick<RebuildDependencies, 'mirrorControl'>>(
  'mirror-control',
  (ctx) => ({
    forRun: () => ({
      mirrorControl(): MirrorControl {
        if (!ctx.processControl)
          throw new InvalidInputError(
            'no Kafka replication control is configured for this orchestrator (the sandbox provides its MirrorMaker 2 process; an MSK Replicator adapter exists in adapters/aws/msk-replicator.ts but the topology has no replicator settings yet)',
          );
        return ctx.processControl.mirror;
      },
    }),
  }),
);
