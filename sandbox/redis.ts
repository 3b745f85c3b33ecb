import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { SANDBOX_HOST } from './config';
import { waitUntil, type ProcessSupervisor } from './supervisor';

export interface RedisPairOptions {
  redisServer: string;
  supervisor: ProcessSupervisor;
  dataRoot: string;
  primaryPort: number;
  replicaPort: number;
  timeoutMs: number;
}

/** AOF plus RDB snapshots: the replica can be promoted and a feature snapshot replayed into it. */
function redisConf(port: number, dir: string, replicaOfPort?: number): string {
  return [
    `bind ${SANDBOX_HOST}`,
    `port ${port}`,
    'protected-mode yes',
    'daemonize no',
    `dir ${dir}`,
    'dbfilename dump.rdb',
    'save 60 1000',
    'appendonly yes',
    'appendfsync everysec',
    'maxmemory 256mb',
    'maxmemory-policy noeviction',
    ...(replicaOfPort
      ? [
          `replicaof ${SANDBOX_HOST} ${replicaOfPort}`,
          'replica-read-only yes',
          'repl-diskless-sync yes',
          'repl-diskless-sync-delay 0',
        ]
      : []),
    '',
  ].join('\n');
}

/** A one-shot client: connection errors reject the pending call instead of being retried in the background. */
export function redisClient(port: number): Redis {
  const client = new Redis({
    host: SANDBOX_HOST,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  return client;
}

export async function redisInfo(port: number, section = 'replication'): Promise<Record<string, string>> {
  const client = redisClient(port);
  try {
    await client.connect();
    const text = await client.info(section);
    return Object.fromEntries(
      text
        .split('\r\n')
        .filter((l) => l.includes(':'))
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
    );
  } finally {
    client.disconnect();
  }
}

async function startOne(opts: RedisPairOptions, name: string, port: number, replicaOfPort?: number) {
  const dir = path.join(opts.dataRoot, name);
  fs.mkdirSync(dir, { recursive: true });
  const confFile = path.join(dir, 'redis.conf');
  fs.writeFileSync(confFile, redisConf(port, dir, replicaOfPort));
  opts.supervisor.start(name, opts.redisServer, [confFile]);
  await waitUntil(
    `${name} to answer PING on port ${port}`,
    async () => (await redisInfo(port, 'server')).redis_version,
    {
      timeoutMs: opts.timeoutMs,
      alive: () => opts.supervisor.assertRunning(name),
    },
  );
}

/** Region A's primary and region B's replica (`replicaof`), ready when the link is up. */
export async function startRedisPair(opts: RedisPairOptions): Promise<void> {
  await startOne(opts, 'redis-primary', opts.primaryPort);
  await startOne(opts, 'redis-replica', opts.replicaPort, opts.primaryPort);
  await waitUntil(
    'the Redis replica to sync with its primary',
    async () => (await redisInfo(opts.replicaPort)).master_link_status === 'up',
    { timeoutMs: opts.timeoutMs, alive: () => opts.supervisor.assertRunning('redis-replica') },
  );
}

export async function redisHealth(primaryPort: number, replicaPort: number) {
  const probe = async (port: number) => {
    try {
      const info = await redisInfo(port);
      return {
        up: true,
        role: info.role,
        linkStatus: info.master_link_status,
        offset: Number(info.master_repl_offset ?? info.slave_repl_offset),
      };
    } catch (err) {
      return { up: false, error: (err as Error).message };
    }
  };
  return { primary: await probe(primaryPort), replica: await probe(replicaPort) };
}
