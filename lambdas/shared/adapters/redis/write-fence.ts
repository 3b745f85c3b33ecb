/**
 * Fencing a Redis that must take no more writes (the old primary), reversibly and
 * without touching its data.
 *
 * Chosen mechanism, on a master: `min-replicas-to-write` set to INT_MAX (with
 * `min-replicas-max-lag` > 0, which the check needs). Redis then refuses every write —
 * plain commands, MULTI/EXEC and scripts alike — with `-NOREPLICAS`, for every client and
 * user, until the setting is lowered again; reads keep working, the dataset and the
 * replication role are untouched, and it needs no other host. `CONFIG REWRITE` makes it
 * survive a restart where the server has a config file. Rejected alternatives:
 * `CLIENT PAUSE … WRITE` (expires, and blocks clients instead of refusing them),
 * `REPLICAOF <unreachable>` (changes the role, and on reconnecting to a real master would
 * replace the data that is evidence of what was lost), ACL changes (per user, and would
 * lock out the operator connection that shares the user).
 * On a replica the fence is `replica-read-only yes` (a replica is read-only unless
 * configured otherwise).
 */
export const FENCE_MIN_REPLICAS_TO_WRITE = 2_147_483_647;
const DEFAULT_MIN_REPLICAS_MAX_LAG = 10;

export interface WriteGuardSettings {
  minReplicasToWrite: number;
  minReplicasMaxLag: number;
  replicaReadOnly: boolean;
}

export const WRITE_GUARD_PARAMETERS = [
  'min-replicas-to-write',
  'min-replicas-max-lag',
  'replica-read-only',
] as const;

/** CONFIG GET reply (flat [name, value, …] list or object) → settings. */
export function parseWriteGuardSettings(reply: unknown): WriteGuardSettings {
  const map = new Map<string, string>();
  if (Array.isArray(reply))
    for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), String(reply[i + 1]));
  else if (reply && typeof reply === 'object')
    for (const [k, v] of Object.entries(reply)) map.set(k, String(v));
  const int = (name: string, fallback: number) => {
    const v = Number(map.get(name));
    return Number.isFinite(v) ? v : fallback;
  };
  return {
    minReplicasToWrite: int('min-replicas-to-write', 0),
    minReplicasMaxLag: int('min-replicas-max-lag', DEFAULT_MIN_REPLICAS_MAX_LAG),
    replicaReadOnly: map.get('replica-read-only') !== 'no',
  };
}

export function isFenced(role: 'master' | 'replica' | 'unknown', s: WriteGuardSettings): boolean {
  if (role === 'replica') return s.replicaReadOnly;
  return s.minReplicasToWrite >= FENCE_MIN_REPLICAS_TO_WRITE && s.minReplicasMaxLag > 0;
}

/** CONFIG SET arguments that fence a node in this role. */
export function fenceConfig(role: 'master' | 'replica' | 'unknown', s: WriteGuardSettings): string[] {
  if (role === 'replica') return ['replica-read-only', 'yes'];
  return [
    'min-replicas-to-write',
    String(FENCE_MIN_REPLICAS_TO_WRITE),
    ...(s.minReplicasMaxLag > 0 ? [] : ['min-replicas-max-lag', String(DEFAULT_MIN_REPLICAS_MAX_LAG)]),
  ];
}

/** CONFIG SET arguments that lift a master's fence, restoring what it replaced (Redis defaults when unknown). */
export function unfenceConfig(previous: Partial<WriteGuardSettings> = {}): string[] {
  return [
    'min-replicas-to-write',
    String(
      previous.minReplicasToWrite !== undefined && previous.minReplicasToWrite < FENCE_MIN_REPLICAS_TO_WRITE
        ? previous.minReplicasToWrite
        : 0,
    ),
    'min-replicas-max-lag',
    String(previous.minReplicasMaxLag ?? DEFAULT_MIN_REPLICAS_MAX_LAG),
  ];
}

/** A write refused because of a fence (or read-only replica), as opposed to any other failure. */
export function isWriteRefusal(err: unknown): boolean {
  return /^(NOREPLICAS|READONLY)\b/.test((err as Error)?.message ?? '');
}
