import { RDSClient } from '@aws-sdk/client-rds';
import type { PostgresAdapter } from '../adapters/contracts';
import { createPostgresAdapter } from '../adapters/postgres';
import { defineProvider, regionOf } from './provider';
import type { DrDependencies } from '../dependencies';

/** `postgres`: one adapter (and its connections) per region for the life of the process. */
export const postgresProvider = defineProvider<Pick<DrDependencies, 'postgres'>>('postgres', (ctx) => {
  const adapters = new Map<string, PostgresAdapter>();
  const postgres = (region: string): PostgresAdapter => {
    let adapter = adapters.get(region);
    if (!adapter) {
      const topology = regionOf(ctx.topology, region).postgres;
      const rds =
        topology.kind === 'self-managed' ? {} : { rds: ctx.aws(region, 'rds', (c) => new RDSClient(c)) };
      adapter = createPostgresAdapter(topology, { ...rds, ...ctx.postgres });
      adapters.set(region, adapter);
    }
    return adapter;
  };
  return {
    forRun: () => ({ postgres }),
    async close() {
      await Promise.allSettled([...adapters.values()].map((a) => a.close()));
      adapters.clear();
    },
  };
});
