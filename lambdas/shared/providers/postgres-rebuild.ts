import { RDSClient } from '@aws-sdk/client-rds';
import type { PostgresRebuilder } from '../adapters/contracts';
import { AuroraSecondaryRebuilder } from '../adapters/postgres/rebuild-aurora';
import { RdsReadReplicaRebuilder } from '../adapters/postgres/rebuild-rds';
import { SelfManagedPostgresRebuilder } from '../adapters/postgres/rebuild';
import { standbyNameFor } from '../adapters/postgres/rebuild-plan';
import type { PostgresConnection } from '../adapters/postgres/session';
import type { RebuildDependencies } from '../dependencies';
import { InvalidInputError } from '../errors';
import type { PostgresTopology } from '../topology';
import { distinctRegions } from './rebuild-regions';
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
        distinctRegions(primaryRegion, replicaRegion);
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
