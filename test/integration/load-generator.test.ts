import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { postgresClient } from '../../sandbox/postgres';
import { reconcilePostgres, startLoadGenerator, summarizeJournal } from '../../workload';
import { testEndpoints } from './sandbox-fixture';

describe('the load generator against the sandbox', () => {
  test('its journal of acknowledged writes matches exactly what is in the database and on Kafka', async () => {
    const endpoints = testEndpoints();
    const journalPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tp-loadgen-')), 'journal.jsonl');
    const generator = startLoadGenerator({
      journalPath,
      ratePerSecond: 60,
      durationSeconds: 3,
      postgres: { ...endpoints.primary.postgres, user: endpoints.postgresUsers.app },
      kafka: { brokers: endpoints.primary.kafka.brokers },
    });
    const result = await generator.done;
    expect(result.acknowledged.postgres).toBeGreaterThan(100);

    const summary = await summarizeJournal(journalPath);
    const db = postgresClient(endpoints.primary.postgres.port);
    await db.connect();
    try {
      const reconciliation = await reconcilePostgres(db, summary, generator.writerId);
      expect(reconciliation.ok).toBe(true);
      expect(reconciliation.lost).toEqual([]);
      expect(reconciliation.unacknowledged).toEqual([]);
      expect(reconciliation.acknowledged).toBe(result.acknowledged.postgres);
    } finally {
      await db.end();
    }
    // Every offset Kafka acknowledged exists on the broker.
    const kafkaAcks = Object.values(summary.kafkaPartitions).reduce((n, p) => n + p.count, 0);
    expect(kafkaAcks).toBe(result.acknowledged.kafka);
    const admin = new Kafka({
      clientId: 'loadgen-test',
      brokers: endpoints.primary.kafka.brokers,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      for (const p of Object.values(summary.kafkaPartitions)) {
        const offsets = await admin.fetchTopicOffsets(p.topic);
        const high = offsets.find((o) => o.partition === p.partition)!.high;
        expect(BigInt(high)).toBeGreaterThan(BigInt(p.maxOffset));
      }
    } finally {
      await admin.disconnect();
    }
  });
});
