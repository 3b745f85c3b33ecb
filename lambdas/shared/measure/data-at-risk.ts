import type { DrDependencies } from '../dependencies';
import type { Run } from '../run';

/** What would be lost if the target were promoted now, per store. */
export interface DataAtRisk {
  measuredAt: string;
  postgres: {
    primaryReachable: boolean;
    /** WAL the standby has not replayed: from the primary's current LSN when reachable, else received-not-replayed. */
    lagBytes: number | null;
    /** Seconds of transactions not yet replayed (0 when caught up). */
    lagSeconds: number | null;
    primaryLsn: string | null;
    standbyReplayLsn: string | null;
  };
  kafka: { topics: { topic: string; messagesBehind: number; lagSeconds: number }[]; maxLagSeconds: number };
  redis: { primaryReachable: boolean; offsetBehindBytes: number | null; replicaLinkUp: boolean | null };
}

function lsnToBigInt(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

/** Bytes between two LSNs (`X/Y` hex); never negative. */
export function lsnDistance(ahead: string | null, behind: string | null): number | null {
  if (!ahead || !behind) return null;
  const diff = lsnToBigInt(ahead) - lsnToBigInt(behind);
  return Number(diff > 0n ? diff : 0n);
}

export async function measureDataAtRisk(
  run: Run,
  deps: Pick<DrDependencies, 'postgres' | 'kafka' | 'redis'>,
  now: Date,
): Promise<DataAtRisk> {
  const [pgPrimary, pgStandby, kafkaLag, redisPrimary, redisReplica] = await Promise.all([
    deps.postgres(run.sourceRegion).status(),
    deps.postgres(run.targetRegion).status(),
    deps
      .kafka(run.sourceRegion, run.targetRegion)
      .replicationLag()
      .catch(() => null),
    deps.redis(run.sourceRegion).status(),
    deps.redis(run.targetRegion).status(),
  ]);
  const primaryLsn = pgPrimary.reachable && pgPrimary.role === 'primary' ? pgPrimary.lsn : null;
  const lagBytes = primaryLsn ? lsnDistance(primaryLsn, pgStandby.replayLsn) : pgStandby.replayPendingBytes;
  const topics = kafkaLag ?? [];
  return {
    measuredAt: now.toISOString(),
    postgres: {
      primaryReachable: pgPrimary.reachable,
      lagBytes,
      lagSeconds: lagBytes === 0 ? 0 : pgStandby.replayDelaySeconds,
      primaryLsn,
      standbyReplayLsn: pgStandby.replayLsn,
    },
    kafka: {
      topics: topics.map((t) => ({
        topic: t.topic,
        messagesBehind: t.messagesBehind,
        lagSeconds: t.lagSeconds,
      })),
      maxLagSeconds:
        kafkaLag === null ? Number.POSITIVE_INFINITY : Math.max(0, ...topics.map((t) => t.lagSeconds)),
    },
    redis: {
      primaryReachable: redisPrimary.reachable,
      offsetBehindBytes:
        redisPrimary.reachable && redisReplica.reachable
          ? Math.max(0, redisPrimary.replicationOffset - redisReplica.replicationOffset)
          : null,
      replicaLinkUp: redisReplica.linkUp,
    },
  };
}
