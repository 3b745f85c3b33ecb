import {
  decodeOffsetSync,
  encodeOffsetSync,
  latestOffsetSyncs,
  MalformedOffsetSyncError,
  offsetSyncsTopic,
  topicPartitionKey,
} from '../../../lambdas/shared/adapters/kafka/offset-sync';

describe('MirrorMaker 2 offset-sync records', () => {
  test('decodes the Kafka Struct layout: int16-prefixed topic, int32 partition; int64 upstream, int64 downstream', () => {
    // As OffsetSync.serializeKey/serializeValue write them for orders-2, upstream 1234 → downstream 987.
    const key = Buffer.from([0x00, 0x06, ...Buffer.from('orders'), 0x00, 0x00, 0x00, 0x02]);
    const value = Buffer.alloc(16);
    value.writeBigInt64BE(1234n, 0);
    value.writeBigInt64BE(987n, 8);
    expect(decodeOffsetSync(key, value)).toEqual({
      topic: 'orders',
      partition: 2,
      upstreamOffset: 1234n,
      downstreamOffset: 987n,
    });
  });

  test('round-trips offsets beyond 2^53', () => {
    const sync = {
      topic: 'risk_events',
      partition: 7,
      upstreamOffset: 2n ** 60n + 3n,
      downstreamOffset: 2n ** 59n,
    };
    const { key, value } = encodeOffsetSync(sync);
    expect(decodeOffsetSync(key, value)).toEqual(sync);
  });

  test.each([
    ['no value', Buffer.from([0, 1, 0x61, 0, 0, 0, 0]), null],
    ['a key shorter than its topic length', Buffer.from([0, 9, 0x61, 0, 0, 0, 0]), Buffer.alloc(16)],
    ['a value with a version prefix', Buffer.from([0, 1, 0x61, 0, 0, 0, 0]), Buffer.alloc(18)],
  ])('refuses %s', (_what, key, value) => {
    expect(() => decodeOffsetSync(key, value)).toThrow(MalformedOffsetSyncError);
  });

  test('the latest sync per topic-partition is the last one in log order', () => {
    const latest = latestOffsetSyncs([
      { topic: 'orders', partition: 0, upstreamOffset: 0n, downstreamOffset: 0n },
      { topic: 'orders', partition: 1, upstreamOffset: 0n, downstreamOffset: 0n },
      { topic: 'orders', partition: 0, upstreamOffset: 100n, downstreamOffset: 101n },
      // An MM2 restart re-anchors at an earlier upstream offset: still the current mapping.
      { topic: 'orders', partition: 0, upstreamOffset: 90n, downstreamOffset: 140n },
    ]);
    expect(latest.size).toBe(2);
    expect(latest.get(topicPartitionKey('orders', 0))).toMatchObject({
      upstreamOffset: 90n,
      downstreamOffset: 140n,
    });
  });

  test('the topic is named after the target alias', () => {
    expect(offsetSyncsTopic('b')).toBe('mm2-offset-syncs.b.internal');
  });
});
