/**
 * Re-attaching the old primary's Redis as a replica of the new primary's (failback): REPLICAOF
 * the new primary, read-only as a replica, then the old primary's write fence cleared (it was a
 * master fenced with min-replicas-to-write, see write-fence.ts; as a replica the fence does
 * nothing, and left in place it would refuse every write the day this node is promoted again).
 * The replica is never writable in between: REPLICAOF comes before the fence is lifted.
 *
 * REPLICAOF makes the old primary drop its dataset and take a full copy of the new primary's;
 * what it held after the failover was fenced (never acknowledged to a client) or is also on
 * the new primary. Self-managed Redis only: ElastiCache global datastores re-attach regions
 * through their own API.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { classifyError, TargetUnhealthyError, TransientError } from '../../errors';
import type { RedisReplicaAttacher, RedisReplicaState } from '../contracts';
import { parseInfo, parseRoleReply } from './replication-info';
import { isFenced, parseWriteGuardSettings, unfenceConfig, WRITE_GUARD_PARAMETERS } from './write-fence';

export interface ReplicaEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface IoredisReplicaAttacherProps {
  /** The new primary (master) Redis. */
  readonly primary: ReplicaEndpoint;
  /** The old primary to turn into its replica. */
  readonly replica: ReplicaEndpoint;
  readonly redisOptions?: Omit<RedisOptions, 'host' | 'port' | 'lazyConnect'>;
  /** @default 100 */
  readonly pollIntervalMs?: number;
}

export class IoredisReplicaAttacher implements RedisReplicaAttacher {
  constructor(private readonly props: IoredisReplicaAttacherProps) {}

  private async withClient<T>(endpoint: ReplicaEndpoint, fn: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis({
      connectTimeout: 2000,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
      ...this.props.redisOptions,
      host: endpoint.host,
      port: endpoint.port,
      lazyConnect: true,
    });
    redis.on('error', () => {});
    try {
      await redis.connect();
      return await fn(redis);
    } catch (err) {
      const classified = classifyError(err);
      if (classified !== err) throw classified;
      if (/connect|ECONNREFUSED|Connection is closed/i.test((err as Error).message))
        throw new TransientError(
          `Redis ${endpoint.host}:${endpoint.port} unreachable: ${(err as Error).message}`,
        );
      throw err;
    } finally {
      redis.disconnect();
    }
  }

  private get primaryAddress() {
    return `${this.props.primary.host}:${this.props.primary.port}`;
  }

  async inspect(): Promise<RedisReplicaState> {
    let primaryOffset = 0;
    try {
      // The primary's offset first: a replica offset read afterwards that reaches it is caught up.
      primaryOffset = await this.withClient(this.props.primary, async (redis) => {
        const role = parseRoleReply(await redis.call('ROLE'));
        if (role.role !== 'master')
          throw new TargetUnhealthyError(
            `the new primary Redis ${this.primaryAddress} is not a master (${role.role})`,
          );
        return role.replicationOffset;
      });
    } catch (err) {
      if (err instanceof TargetUnhealthyError) throw err;
      return { ...unknownState(err), primaryOffset: 0 };
    }
    try {
      return await this.withClient(this.props.replica, async (redis) => {
        const role = parseRoleReply(await redis.call('ROLE'));
        const info = parseInfo(await redis.info('replication'));
        const guard = parseWriteGuardSettings(await redis.call('CONFIG', 'GET', ...WRITE_GUARD_PARAMETERS));
        const master = role.master ? `${role.master.host}:${role.master.port}` : null;
        const linkUp = role.role === 'replica' ? info.master_link_status === 'up' : null;
        return {
          reachable: true,
          role: role.role,
          master,
          linkUp,
          replicaOffset: role.replicationOffset,
          primaryOffset,
          attached:
            role.role === 'replica' &&
            master === this.primaryAddress &&
            linkUp === true &&
            role.replicationOffset >= primaryOffset,
          // The master fence, whatever the role now (as a replica it is dormant until a promotion).
          fenceSet: isFenced('master', guard),
          keys: await redis.dbsize(),
        };
      });
    } catch (err) {
      return { ...unknownState(err), primaryOffset };
    }
  }

  async attach(opts: { timeoutMs: number }) {
    const started = Date.now();
    const before = await this.inspect();
    if (!before.reachable) throw new TransientError(`cannot re-attach Redis: ${before.error}`, { before });
    if (before.attached && !before.fenceSet)
      return { alreadyDone: true, before, after: before, fenceCleared: false, waitedMs: 0 };
    const { host, port } = this.props.primary;
    await this.withClient(this.props.replica, async (redis) => {
      if (before.role !== 'replica' || before.master !== this.primaryAddress) {
        await redis.call('CONFIG', 'SET', 'replica-read-only', 'yes');
        await redis.call('REPLICAOF', host, String(port));
      }
      if (before.fenceSet) await redis.call('CONFIG', 'SET', ...unfenceConfig());
      // Persist the new role and settings where the server has a config file (best effort, as for fencing).
      await redis.call('CONFIG', 'REWRITE').catch(() => undefined);
    });
    const deadline = started + opts.timeoutMs;
    let after = await this.inspect();
    while (!after.attached) {
      if (Date.now() > deadline)
        throw new TargetUnhealthyError(
          `Redis ${this.props.replica.host}:${this.props.replica.port} is not a caught-up replica of ${this.primaryAddress} after ${opts.timeoutMs} ms (link ${after.linkUp ? 'up' : 'down'}, offset ${after.replicaOffset} of ${after.primaryOffset})`,
          { before, after },
        );
      await sleep(this.props.pollIntervalMs ?? 100);
      after = await this.inspect();
    }
    return {
      alreadyDone: false,
      before,
      after,
      fenceCleared: before.fenceSet && !after.fenceSet,
      waitedMs: Date.now() - started,
    };
  }
}

function unknownState(err: unknown): Omit<RedisReplicaState, 'primaryOffset'> {
  return {
    reachable: false,
    role: 'unknown',
    master: null,
    linkUp: null,
    replicaOffset: 0,
    attached: false,
    fenceSet: false,
    keys: 0,
    error: (err as Error).message,
  };
}
