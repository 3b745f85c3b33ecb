import {
  checkpointsByGroup,
  commitsByTopic,
  isGroupActive,
  latestCheckpoints,
  partitionKey,
  partitionsWithoutCheckpoint,
  planGroupTranslation,
} from '../../../lambdas/shared/adapters/kafka/offset-translation';
import type { MirrorCheckpoint } from '../../../lambdas/shared/kafka/mirror-checkpoint';

const cp = (
  consumerGroup: string,
  topic: string,
  partition: number,
  upstream: bigint,
  downstream: bigint,
): MirrorCheckpoint => ({
  consumerGroup,
  topic,
  partition,
  upstreamOffset: upstream,
  downstreamOffset: downstream,
  metadata: '',
});

describe('latestCheckpoints', () => {
  test('keeps the last checkpoint per group, topic and partition in log order, including an upstream rewind', () => {
    const latest = latestCheckpoints([
      cp('g1', 'a.orders', 0, 10n, 9n),
      cp('g1', 'a.orders', 1, 5n, 5n),
      cp('g2', 'a.orders', 0, 3n, 3n),
      cp('g1', 'a.orders', 0, 50n, 48n),
      cp('g2', 'a.orders', 0, 1n, 1n), // group rewound upstream: MM2 emits the lower checkpoint on purpose
    ]);
    expect(latest).toEqual([
      cp('g1', 'a.orders', 0, 50n, 48n),
      cp('g1', 'a.orders', 1, 5n, 5n),
      cp('g2', 'a.orders', 0, 1n, 1n),
    ]);
  });
});

describe('checkpointsByGroup', () => {
  test('keeps only mirrored critical topics and sorts groups, topics and partitions', () => {
    const byGroup = checkpointsByGroup(
      [
        cp('zeta', 'a.orders', 1, 1n, 1n),
        cp('alpha', 'a.other', 0, 1n, 1n),
        cp('zeta', 'a.fills', 0, 1n, 1n),
        cp('zeta', 'a.orders', 0, 1n, 1n),
      ],
      new Set(['a.orders', 'a.fills']),
    );
    expect([...byGroup.keys()]).toEqual(['zeta']);
    expect(byGroup.get('zeta')!.map((c) => `${c.topic}-${c.partition}`)).toEqual([
      'a.fills-0',
      'a.orders-0',
      'a.orders-1',
    ]);
  });
});

describe('isGroupActive', () => {
  test.each([
    [undefined, false],
    [{ state: 'Dead', members: 0 }, false],
    [{ state: 'Empty', members: 0 }, false],
    [{ state: 'Stable', members: 2 }, true],
    [{ state: 'PreparingRebalance', members: 0 }, true],
    [{ state: 'CompletingRebalance', members: 1 }, true],
  ])('%j → %s', (group, active) => {
    expect(isGroupActive(group)).toBe(active);
  });
});

describe('planGroupTranslation', () => {
  const checkpoints = [
    cp('g', 'a.orders', 0, 120n, 118n),
    cp('g', 'a.orders', 1, 40n, 40n),
    cp('g', 'a.fills', 0, 7n, 6n),
  ];

  test('a group unknown on the target: commit every translated offset', () => {
    const plan = planGroupTranslation({
      group: 'g',
      checkpoints,
      onTarget: undefined,
      targetCommitted: new Map(),
      dryRun: false,
    });
    expect(plan.skippedReason).toBeUndefined();
    expect(plan.offsets).toEqual([
      {
        topic: 'a.orders',
        partition: 0,
        offset: '118',
        upstreamOffset: '120',
        previousOffset: null,
        decision: 'commit',
      },
      {
        topic: 'a.orders',
        partition: 1,
        offset: '40',
        upstreamOffset: '40',
        previousOffset: null,
        decision: 'commit',
      },
      {
        topic: 'a.fills',
        partition: 0,
        offset: '6',
        upstreamOffset: '7',
        previousOffset: null,
        decision: 'commit',
      },
    ]);
    expect([...commitsByTopic(plan)]).toEqual([
      [
        'a.orders',
        [
          { partition: 0, offset: '118' },
          { partition: 1, offset: '40' },
        ],
      ],
      ['a.fills', [{ partition: 0, offset: '6' }]],
    ]);
  });

  test('partitions already at or beyond the translated offset are never moved back; the others are committed', () => {
    const committed = new Map([
      [partitionKey('a.orders', 0), 118n],
      [partitionKey('a.orders', 1), 55n],
      [partitionKey('a.fills', 0), 2n],
    ]);
    const plan = planGroupTranslation({
      group: 'g',
      checkpoints,
      onTarget: { state: 'Empty', members: 0 },
      targetCommitted: committed,
      dryRun: false,
    });
    expect(plan.offsets.map((o) => [o.topic, o.partition, o.previousOffset, o.decision])).toEqual([
      ['a.orders', 0, '118', 'already-at-or-beyond'],
      ['a.orders', 1, '55', 'already-at-or-beyond'],
      ['a.fills', 0, '2', 'commit'],
    ]);
    expect([...commitsByTopic(plan)]).toEqual([['a.fills', [{ partition: 0, offset: '6' }]]]);
  });

  test('everything already at or beyond (sync.group.offsets did it): a recorded no-op', () => {
    const committed = new Map(
      checkpoints.map((c) => [partitionKey(c.topic, c.partition), c.downstreamOffset]),
    );
    const plan = planGroupTranslation({
      group: 'g',
      checkpoints,
      onTarget: { state: 'Empty', members: 0 },
      targetCommitted: committed,
      dryRun: false,
    });
    expect(plan).toMatchObject({ committed: false, skippedReason: 'already-at-or-beyond' });
  });

  test('a group with members on the target is skipped with its reason, its translation still shown', () => {
    const plan = planGroupTranslation({
      group: 'g',
      checkpoints,
      onTarget: { state: 'Stable', members: 1 },
      targetCommitted: new Map(),
      dryRun: false,
    });
    expect(plan).toMatchObject({ committed: false, skippedReason: 'group-active-on-target' });
    expect(plan.offsets).toHaveLength(3);
  });

  test('no checkpoint for the group: skipped as no-checkpoint', () => {
    expect(
      planGroupTranslation({
        group: 'g',
        checkpoints: [],
        onTarget: undefined,
        targetCommitted: new Map(),
        dryRun: false,
      }).skippedReason,
    ).toBe('no-checkpoint');
  });

  test('dry run: the same decisions, flagged as a dry run', () => {
    const plan = planGroupTranslation({
      group: 'g',
      checkpoints,
      onTarget: undefined,
      targetCommitted: new Map(),
      dryRun: true,
    });
    expect(plan).toMatchObject({ dryRun: true, committed: false });
    expect(plan.skippedReason).toBeUndefined();
    expect(plan.offsets.every((o) => o.decision === 'commit')).toBe(true);
  });
});

describe('partitionsWithoutCheckpoint', () => {
  test('names the source partitions a group committed on that have no checkpoint on the target', () => {
    const missing = partitionsWithoutCheckpoint(
      { g1: { orders: { 0: '10', 1: '12' } }, g2: { fills: { 0: '3' } } },
      [cp('g1', 'a.orders', 0, 10n, 10n)],
      (t) => `a.${t}`,
    );
    expect([...missing]).toEqual([
      ['g1', [{ topic: 'a.orders', partition: 1, sourceOffset: '12' }]],
      ['g2', [{ topic: 'a.fills', partition: 0, sourceOffset: '3' }]],
    ]);
  });
});
