import type { AcknowledgedJournal } from '../lambdas/shared/dependencies';
import { readJournal } from '../workload/journal';

const TABLE_OF_KIND = { order: 'orders', fill: 'fills', risk_event: 'risk_events' } as const;

/** The load generator's journal file as the ledger reconciliation's source of acknowledged writes. */
export function journalFile(
  path: string,
): AcknowledgedJournal & { acknowledgedKafka(topic: string): Promise<Set<number>> } {
  return {
    async acknowledgedPostgresWrites() {
      const groups = new Map<
        string,
        { table: (typeof TABLE_OF_KIND)[keyof typeof TABLE_OF_KIND]; writerId: string; seqs: number[] }
      >();
      for await (const record of readJournal(path)) {
        if (record.type !== 'entry' || record.entry.sink !== 'postgres') continue;
        const table = TABLE_OF_KIND[record.entry.kind];
        const key = `${table}/${record.entry.writer}`;
        if (!groups.has(key)) groups.set(key, { table, writerId: record.entry.writer, seqs: [] });
        groups.get(key)!.seqs.push(record.entry.seq);
      }
      return [...groups.values()];
    },
    /** Sequence numbers of the messages Kafka acknowledged on `topic` (either region). */
    async acknowledgedKafka(topic) {
      const seqs = new Set<number>();
      for await (const record of readJournal(path)) {
        if (record.type === 'entry' && record.entry.sink === 'kafka' && record.entry.topic === topic)
          seqs.add(record.entry.seq);
      }
      return seqs;
    },
  };
}
