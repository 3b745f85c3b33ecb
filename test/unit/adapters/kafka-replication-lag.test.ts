import {
  partitionLag,
  topicLag,
  type PartitionReplicationReadings,
} from '../../../lambdas/shared/adapters/kafka/replication-lag';

const readings = (over: Partial<PartitionReplicationReadings>): PartitionReplicationReadings => ({
  partition: 0,
  sourceStartOffset: 0n,
  sourceEndOffset: 100n,
  targetEndOffset: 100n,
  latestSync: { upstreamOffset: 95n, downstreamOffset: 95n },
  ...over,
});

describe('partitionLag', () => {
  test('caught up: the records after the last sync account for the whole source', () => {
    expect(partitionLag(readings({}))).toMatchObject({
      nextOffsetToMirror: 100n,
      messagesBehind: 0n,
      method: 'offset-sync',
    });
  });

  test('behind: next = sync upstream + (mirror end − sync downstream), lag = source end − next', () => {
    // Mirror offsets are shifted (topic recreated, earlier duplicates): upstream 500 ↔ downstream 20.
    const lag = partitionLag(
      readings({
        sourceEndOffset: 530n,
        targetEndOffset: 25n,
        latestSync: { upstreamOffset: 500n, downstreamOffset: 20n },
      }),
    );
    expect(lag).toMatchObject({
      nextOffsetToMirror: 505n,
      messagesBehind: 25n,
      deletedBeforeMirrored: 0n,
      method: 'offset-sync',
    });
  });

  test('the sync record itself only: the next offset is one past it', () => {
    expect(partitionLag(readings({ targetEndOffset: 96n }))).toMatchObject({
      nextOffsetToMirror: 96n,
      messagesBehind: 4n,
    });
  });

  test('never counts more mirrored than the source holds (mirror read after the source end)', () => {
    expect(partitionLag(readings({ targetEndOffset: 140n }))).toMatchObject({
      nextOffsetToMirror: 100n,
      messagesBehind: 0n,
    });
  });

  test.each([
    ['no sync yet', { latestSync: null }, 'no-sync-yet'],
    [
      'a sync beyond the mirror end (mirror truncated)',
      { targetEndOffset: 50n, latestSync: { upstreamOffset: 80n, downstreamOffset: 60n } },
      'sync-beyond-mirror-end',
    ],
    ['no mirrored partition', { targetEndOffset: null }, 'mirror-partition-missing'],
  ])('%s: nothing counts as mirrored', (_what, over, method) => {
    expect(partitionLag(readings({ sourceStartOffset: 10n, ...over }))).toMatchObject({
      nextOffsetToMirror: 10n,
      messagesBehind: 90n,
      method,
    });
  });

  test('unmirrored records already deleted on the source are reported apart, not as behind', () => {
    const lag = partitionLag(
      readings({
        sourceStartOffset: 60n,
        latestSync: { upstreamOffset: 40n, downstreamOffset: 40n },
        targetEndOffset: 41n,
      }),
    );
    expect(lag).toMatchObject({ nextOffsetToMirror: 60n, messagesBehind: 40n, deletedBeforeMirrored: 19n });
  });

  test('empty partition: nothing behind', () => {
    expect(
      partitionLag(readings({ sourceEndOffset: 0n, targetEndOffset: 0n, latestSync: null })),
    ).toMatchObject({ messagesBehind: 0n });
  });
});

describe('topicLag', () => {
  const now = Date.parse('2025-01-01T00:01:00.000Z');

  test('sums messages behind and takes the oldest unmirrored record’s age as the lag', () => {
    const lags = [
      partitionLag(readings({ partition: 1, targetEndOffset: 97n })),
      partitionLag(readings({ partition: 0 })),
      partitionLag(readings({ partition: 2, targetEndOffset: 99n })),
    ];
    const stamps = new Map([
      [1, now - 12_500],
      [2, now - 4_000],
    ]);
    const topic = topicLag('orders', lags, stamps, now);
    expect(topic).toMatchObject({ topic: 'orders', messagesBehind: 4, lagSeconds: 12.5 });
    expect(
      topic.partitions.map((p) => [p.partition, p.messagesBehind, p.lagSeconds, p.nextOffsetToMirror]),
    ).toEqual([
      [0, 0, 0, '100'],
      [1, 3, 12.5, '97'],
      [2, 1, 4, '99'],
    ]);
  });

  test('caught up: lag 0 seconds without any timestamp', () => {
    expect(topicLag('fills', [partitionLag(readings({}))], new Map(), now)).toMatchObject({
      messagesBehind: 0,
      lagSeconds: 0,
    });
  });

  test('a record stamped in the future (clock skew) counts as 0 s, never negative', () => {
    expect(
      topicLag('fills', [partitionLag(readings({ targetEndOffset: 99n }))], new Map([[0, now + 5000]]), now)
        .lagSeconds,
    ).toBe(0);
  });

  test('a partition behind without its oldest record’s timestamp is an error, not a guess', () => {
    expect(() =>
      topicLag('fills', [partitionLag(readings({ targetEndOffset: 99n }))], new Map(), now),
    ).toThrow(/no timestamp/);
  });
});
