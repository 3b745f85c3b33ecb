/**
 * A consumer group's lag on one topic: Σ (end offset − committed offset) over the
 * partitions it has committed, and how many partitions it has no offset for (a consumer
 * there starts from `auto.offset.reset`). null when the group has no offset on the topic.
 */
export interface GroupTopicLag {
  group: string;
  topic: string;
  lag: number;
  partitionsWithoutOffset: number;
}

export function groupTopicLag(
  group: string,
  topic: string,
  committed: { partition: number; offset: string }[],
  endOffsets: ReadonlyMap<number, bigint>,
): GroupTopicLag | null {
  let lag = 0n;
  let withOffset = 0;
  for (const [partition, end] of endOffsets) {
    const entry = committed.find((c) => c.partition === partition);
    if (!entry || BigInt(entry.offset) < 0n) continue;
    withOffset += 1;
    const behind = end - BigInt(entry.offset);
    if (behind > 0n) lag += behind;
  }
  if (withOffset === 0) return null;
  return { group, topic, lag: Number(lag), partitionsWithoutOffset: endOffsets.size - withOffset };
}
