/**
 * In-sync replicas of each mirrored partition against `min.insync.replicas`: with fewer
 * in sync, producers using acks=all are refused, so writes must not resume there yet.
 */
export interface PartitionMetadataReading {
  partitionId: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface PartitionIsr {
  topic: string;
  partition: number;
  isr: number;
  replicas: number;
  minInsyncReplicas: number;
  leader: number | null;
  ok: boolean;
}

export function evaluateIsr(
  topic: string,
  partitions: PartitionMetadataReading[],
  minInsyncReplicas: number,
): PartitionIsr[] {
  return partitions
    .slice()
    .sort((a, b) => a.partitionId - b.partitionId)
    .map((p) => {
      const leader = p.leader >= 0 ? p.leader : null;
      return {
        topic,
        partition: p.partitionId,
        isr: p.isr.length,
        replicas: p.replicas.length,
        minInsyncReplicas,
        leader,
        ok: leader !== null && p.isr.length >= minInsyncReplicas,
      };
    });
}

/** The effective `min.insync.replicas` of a topic from its describeConfigs entries. */
export function minInsyncReplicasOf(
  configEntries: { configName: string; configValue: string | null }[],
): number | undefined {
  const entry = configEntries.find((e) => e.configName === 'min.insync.replicas');
  if (!entry || entry.configValue === null) return undefined;
  const value = Number(entry.configValue);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}
