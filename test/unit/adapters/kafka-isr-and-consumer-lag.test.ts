import { groupTopicLag } from '../../../lambdas/shared/adapters/kafka/consumer-lag';
import { evaluateIsr, minInsyncReplicasOf } from '../../../lambdas/shared/adapters/kafka/isr-check';

describe('evaluateIsr', () => {
  test('each partition’s ISR against min.insync.replicas; an offline leader is never ok', () => {
    const rows = evaluateIsr(
      'a.orders',
      [
        { partitionId: 2, leader: -1, replicas: [1, 2, 3], isr: [] },
        { partitionId: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3] },
        { partitionId: 1, leader: 2, replicas: [1, 2, 3], isr: [2] },
      ],
      2,
    );
    expect(rows).toEqual([
      { topic: 'a.orders', partition: 0, isr: 3, replicas: 3, minInsyncReplicas: 2, leader: 1, ok: true },
      { topic: 'a.orders', partition: 1, isr: 1, replicas: 3, minInsyncReplicas: 2, leader: 2, ok: false },
      { topic: 'a.orders', partition: 2, isr: 0, replicas: 3, minInsyncReplicas: 2, leader: null, ok: false },
    ]);
  });

  test('reads the effective min.insync.replicas from describeConfigs entries', () => {
    expect(
      minInsyncReplicasOf([
        { configName: 'retention.ms', configValue: '1' },
        { configName: 'min.insync.replicas', configValue: '3' },
      ]),
    ).toBe(3);
    expect(minInsyncReplicasOf([{ configName: 'min.insync.replicas', configValue: null }])).toBeUndefined();
    expect(minInsyncReplicasOf([])).toBeUndefined();
  });
});

describe('groupTopicLag', () => {
  const ends = new Map([
    [0, 100n],
    [1, 50n],
    [2, 10n],
  ]);

  test('sums end − committed over committed partitions and counts those without an offset', () => {
    expect(
      groupTopicLag(
        'g',
        'a.orders',
        [
          { partition: 0, offset: '90' },
          { partition: 1, offset: '50' },
          { partition: 2, offset: '-1' },
        ],
        ends,
      ),
    ).toEqual({
      group: 'g',
      topic: 'a.orders',
      lag: 10,
      partitionsWithoutOffset: 1,
    });
  });

  test('a group with no offset on the topic does not consume it: null', () => {
    expect(groupTopicLag('g', 'a.orders', [{ partition: 0, offset: '-1' }], ends)).toBeNull();
  });
});
