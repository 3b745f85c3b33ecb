/**
 * The failback's rebuild providers, one module each so a step's bundle carries only its own
 * drivers (the PostgreSQL rebuild: RDS + pg; the Redis re-attach: ioredis; the mirror
 * control: none). Handlers import the module they need; this re-export keeps older imports working.
 */
export { postgresRebuildProvider } from './postgres-rebuild';
export { redisReplicaProvider } from './redis-replica';
export { mirrorControlProvider } from './mirror-control';
