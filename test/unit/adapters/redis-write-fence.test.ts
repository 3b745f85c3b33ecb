import {
  FENCE_MIN_REPLICAS_TO_WRITE,
  fenceConfig,
  isFenced,
  isWriteRefusal,
  parseWriteGuardSettings,
  unfenceConfig,
} from '../../../lambdas/shared/adapters/redis/write-fence';

describe('Redis write fence', () => {
  test('CONFIG GET replies (flat list or object) → settings, Redis defaults for what is absent', () => {
    expect(
      parseWriteGuardSettings([
        'min-replicas-to-write',
        '0',
        'min-replicas-max-lag',
        '10',
        'replica-read-only',
        'yes',
      ]),
    ).toEqual({
      minReplicasToWrite: 0,
      minReplicasMaxLag: 10,
      replicaReadOnly: true,
    });
    expect(parseWriteGuardSettings({ 'min-replicas-to-write': '2', 'replica-read-only': 'no' })).toEqual({
      minReplicasToWrite: 2,
      minReplicasMaxLag: 10,
      replicaReadOnly: false,
    });
  });

  test('a master is fenced only by the impossible replica count with a non-zero max lag (0 disables the check)', () => {
    const fenced = {
      minReplicasToWrite: FENCE_MIN_REPLICAS_TO_WRITE,
      minReplicasMaxLag: 10,
      replicaReadOnly: true,
    };
    expect(isFenced('master', fenced)).toBe(true);
    expect(isFenced('master', { ...fenced, minReplicasMaxLag: 0 })).toBe(false);
    expect(isFenced('master', { ...fenced, minReplicasToWrite: 1 })).toBe(false);
  });

  test('a replica is fenced when read-only', () => {
    expect(isFenced('replica', { minReplicasToWrite: 0, minReplicasMaxLag: 10, replicaReadOnly: true })).toBe(
      true,
    );
    expect(
      isFenced('replica', { minReplicasToWrite: 0, minReplicasMaxLag: 10, replicaReadOnly: false }),
    ).toBe(false);
  });

  test('fencing a master sets the impossible count, and a usable max lag when it was 0', () => {
    expect(
      fenceConfig('master', { minReplicasToWrite: 0, minReplicasMaxLag: 10, replicaReadOnly: true }),
    ).toEqual(['min-replicas-to-write', '2147483647']);
    expect(
      fenceConfig('master', { minReplicasToWrite: 0, minReplicasMaxLag: 0, replicaReadOnly: true }),
    ).toEqual(['min-replicas-to-write', '2147483647', 'min-replicas-max-lag', '10']);
    expect(
      fenceConfig('replica', { minReplicasToWrite: 0, minReplicasMaxLag: 10, replicaReadOnly: false }),
    ).toEqual(['replica-read-only', 'yes']);
  });

  test('unfencing restores the previous settings, or Redis defaults, never the fence value', () => {
    expect(unfenceConfig({ minReplicasToWrite: 1, minReplicasMaxLag: 5 })).toEqual([
      'min-replicas-to-write',
      '1',
      'min-replicas-max-lag',
      '5',
    ]);
    expect(unfenceConfig()).toEqual(['min-replicas-to-write', '0', 'min-replicas-max-lag', '10']);
    expect(unfenceConfig({ minReplicasToWrite: FENCE_MIN_REPLICAS_TO_WRITE })).toEqual([
      'min-replicas-to-write',
      '0',
      'min-replicas-max-lag',
      '10',
    ]);
  });

  test('recognises refusals by a fence or a read-only replica, nothing else', () => {
    expect(isWriteRefusal(new Error('NOREPLICAS Not enough good replicas to write.'))).toBe(true);
    expect(isWriteRefusal(new Error("READONLY You can't write against a read only replica."))).toBe(true);
    expect(isWriteRefusal(new Error('ERR wrong number of arguments'))).toBe(false);
    expect(isWriteRefusal(undefined)).toBe(false);
  });
});
