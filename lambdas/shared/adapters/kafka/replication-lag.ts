import type { TopicReplicationLag } from '../contracts';

/**
 * MirrorMaker 2 replication lag, per partition, from three readings taken in this order:
 *
 * 1. the latest offset sync (upstream U ↔ downstream D: the source record at U is the
 *    mirror's record at D),
 * 2. the mirrored partition's end offset E on the target,
 * 3. the source partition's start (low) and end offsets.
 *
 * Between two syncs MM2 mirrors source records one for one (a skip in upstream offsets
 * forces a new sync), so the mirror's E − (D + 1) records after D are the source records
 * U + 1 … and the next source offset still to mirror is N = U + 1 + (E − D − 1) = U + E − D.
 * messagesBehind = sourceEnd − N. Reading the sync before E, and E before the source end,
 * keeps every race on the safe side: a newer record mirrored meanwhile is missed
 * (lag overstated), never counted twice. A sync still pending in MM2 after an upstream
 * skip also overstates. Only duplicates written to the mirror since the last sync (which
 * an idempotent producer prevents; a restarted MM2 re-anchors with a fresh sync) could
 * understate it.
 *
 * No sync yet, or a sync pointing past the mirror's end (mirror truncated or recreated):
 * nothing is known to be mirrored, so N = the source's start offset (the whole partition
 * counts as behind). Source records below the source's start offset that were never
 * mirrored have been deleted by retention: they are reported, not counted as behind.
 *
 * lagSeconds is the age of the oldest unmirrored record (the source record at N), the
 * caller reads its timestamp; 0 when nothing is behind.
 */
export interface PartitionReplicationReadings {
  partition: number;
  sourceStartOffset: bigint;
  sourceEndOffset: bigint;
  /** null when the mirrored partition does not exist on the target. */
  targetEndOffset: bigint | null;
  latestSync: { upstreamOffset: bigint; downstreamOffset: bigint } | null;
}

export type LagMethod = 'offset-sync' | 'no-sync-yet' | 'sync-beyond-mirror-end' | 'mirror-partition-missing';

export interface PartitionLag {
  partition: number;
  sourceEndOffset: bigint;
  /** The first source offset not yet on the mirror (≥ the source's start offset). */
  nextOffsetToMirror: bigint;
  messagesBehind: bigint;
  /** Unmirrored source records already deleted on the source (lost to retention). */
  deletedBeforeMirrored: bigint;
  method: LagMethod;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

export function partitionLag(r: PartitionReplicationReadings): PartitionLag {
  let method: LagMethod;
  let next: bigint;
  if (r.targetEndOffset === null) {
    method = 'mirror-partition-missing';
    next = r.sourceStartOffset;
  } else if (!r.latestSync) {
    method = 'no-sync-yet';
    next = r.sourceStartOffset;
  } else if (r.targetEndOffset <= r.latestSync.downstreamOffset) {
    method = 'sync-beyond-mirror-end';
    next = r.sourceStartOffset;
  } else {
    method = 'offset-sync';
    next = r.latestSync.upstreamOffset + r.targetEndOffset - r.latestSync.downstreamOffset;
  }
  // Never beyond what the source holds (the mirror may be read after more was mirrored).
  next = min(next, r.sourceEndOffset);
  const deletedBeforeMirrored = max(0n, r.sourceStartOffset - next);
  const firstAvailable = max(next, r.sourceStartOffset);
  return {
    partition: r.partition,
    sourceEndOffset: r.sourceEndOffset,
    nextOffsetToMirror: firstAvailable,
    messagesBehind: max(0n, r.sourceEndOffset - firstAvailable),
    deletedBeforeMirrored,
    method,
  };
}

export interface TopicLagDetail extends TopicReplicationLag {
  partitions: {
    partition: number;
    sourceEndOffset: string;
    nextOffsetToMirror: string;
    messagesBehind: number;
    lagSeconds: number;
    deletedBeforeMirrored: number;
    method: LagMethod;
  }[];
}

/**
 * Sums partitions into the topic's lag. `oldestUnmirroredTimestampMs` holds, for every
 * partition that is behind, the timestamp of the source record at `nextOffsetToMirror`.
 */
export function topicLag(
  topic: string,
  partitions: PartitionLag[],
  oldestUnmirroredTimestampMs: ReadonlyMap<number, number>,
  nowMs: number,
): TopicLagDetail {
  const detail = partitions
    .slice()
    .sort((a, b) => a.partition - b.partition)
    .map((p) => {
      let lagSeconds = 0;
      if (p.messagesBehind > 0n) {
        const ts = oldestUnmirroredTimestampMs.get(p.partition);
        if (ts === undefined)
          throw new Error(`no timestamp for the oldest unmirrored record of ${topic}[${p.partition}]`);
        lagSeconds = Math.max(0, (nowMs - ts) / 1000);
      }
      return {
        partition: p.partition,
        sourceEndOffset: p.sourceEndOffset.toString(),
        nextOffsetToMirror: p.nextOffsetToMirror.toString(),
        messagesBehind: Number(p.messagesBehind),
        lagSeconds,
        deletedBeforeMirrored: Number(p.deletedBeforeMirrored),
        method: p.method,
      };
    });
  return {
    topic,
    messagesBehind: detail.reduce((sum, p) => sum + p.messagesBehind, 0),
    lagSeconds: detail.reduce((worst, p) => Math.max(worst, p.lagSeconds), 0),
    partitions: detail,
  };
}
