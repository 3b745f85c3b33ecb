import type { RedisReplicaAttacher } from '../adapters/contracts';
import { IoredisReplicaAttacher } from '../adapters/redis/replica-attach';
import type { RebuildDependencies } from '../dependencies';
import { distinctRegions } from './rebuild-regions';
import { defineProvider, regionOf } from './provider';

/** `redisReplica`: REPLICAOF between the two regions' Redis endpoints of the topology. */
export const redisReplicaProvider = defineProvider<Pick<RebuildDependencies, 'redisReplica'>>(
  'redis-replica',
  (ctx) => ({
    forRun: () => ({
      redisReplica(primaryRegion: string, replicaRegion: string): RedisReplicaAttacher {
        distinctRegions(primaryRegion, replicaRegion);
        return new IoredisReplicaAttacher({
          primary: regionOf(ctx.topology, primaryRegion).redis,
          replica: regionOf(ctx.topology, replicaRegion).redis,
        });
      },
    }),
  }),
);
