import { kafkaContinuity, type ConsumedMessage } from '../../../drill/audit-consumer';

const msg = (topic: string, partition: number, offset: number, seq: number | null): ConsumedMessage => ({
  topic,
  partition,
  offset: String(offset),
  seq,
});

describe('Kafka continuity across a failover', () => {
  test('every acknowledged message consumed once: nothing skipped, no duplicate', () => {
    const result = kafkaContinuity(new Set([1, 2, 3]), [
      msg('orders', 0, 0, 1),
      msg('orders', 1, 0, 2),
      msg('a.orders', 0, 7, 3),
    ]);
    expect(result).toMatchObject({
      acknowledged: 3,
      consumed: 3,
      skipped: 0,
      duplicates: 0,
      duplicatesByPartition: {},
    });
  });

  test('an acknowledged message never consumed in either region is a skip, named by its sequence number', () => {
    const result = kafkaContinuity(new Set([1, 2, 3, 4]), [msg('orders', 0, 0, 1), msg('a.orders', 0, 1, 3)]);
    expect(result.skipped).toBe(2);
    expect(result.skippedSeqs).toEqual([2, 4]);
  });

  test('a message delivered again after offset translation counts as a duplicate of the partition it came back on', () => {
    const result = kafkaContinuity(new Set([1, 2]), [
      msg('orders', 0, 0, 1),
      msg('orders', 0, 1, 2),
      msg('a.orders', 0, 0, 1),
      msg('a.orders', 0, 1, 2),
      msg('a.orders', 0, 1, 2),
    ]);
    expect(result.skipped).toBe(0);
    expect(result.duplicates).toBe(3);
    expect(result.duplicatesByPartition).toEqual({ 'a.orders-0': 3 });
  });

  test('messages without a sequence number (other producers) are not counted against the journal', () => {
    const result = kafkaContinuity(new Set([5]), [msg('orders', 0, 0, null), msg('orders', 0, 1, 5)]);
    expect(result).toMatchObject({ skipped: 0, duplicates: 0, consumed: 2 });
  });
});
