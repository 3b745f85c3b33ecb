import type { KafkaOffsetsBackup, RedisKeyDigest } from '../backup/contracts';
import type { LedgerAggregates } from '../adapters/contracts';
import type { IndexCheck } from '../adapters/restore/restored-stores';
import type { ReplayedWindow } from '../adapters/kafka/mirror-replay';
import { sameDecimal, seqRanges } from '../ledger/compare-aggregates';

/**
 * The checks of a backup validation, as pure functions of what was observed. Each returns a
 * ValidationCheck: passed or failed, with the reason in words and the figures behind it.
 * A check that has nothing to prove fails ("never a silent pass").
 */
export const VALIDATED_STORES = ['postgres', 'redis', 'kafka'] as const;
export type ValidatedStore = (typeof VALIDATED_STORES)[number];

export interface ValidationCheck {
  /** `postgres.amcheck`, `redis.key-digests`, `kafka.sequence-gaps`, … */
  check: string;
  store: ValidatedStore | 'all';
  passed: boolean;
  /** Why it failed (or, when passed, what was proven), in one sentence. */
  reason: string;
  figures: Record<string, unknown>;
  durationMs?: number;
}

/** At most `n` items, with how many more there were: evidence stays small whatever the damage. */
export function firstOf<T>(items: readonly T[], n = 20): { items: T[]; more: number } {
  return { items: items.slice(0, n), more: Math.max(0, items.length - n) };
}

const pass = (
  check: string,
  store: ValidationCheck['store'],
  reason: string,
  figures: Record<string, unknown>,
): ValidationCheck => ({ check, store, passed: true, reason, figures });
const fail = (
  check: string,
  store: ValidationCheck['store'],
  reason: string,
  figures: Record<string, unknown>,
): ValidationCheck => ({ check, store, passed: false, reason, figures });

// ---------------------------------------------------------------- age (RPO)

/**
 * How old a backup may be: the cadence the runbook sets (hourly PostgreSQL base backups and
 * Redis RDB snapshots, a daily Kafka offset parity record) plus the store's RPO objective.
 */
export const BACKUP_CADENCE_SECONDS: Record<ValidatedStore, number> = {
  postgres: 3600,
  redis: 3600,
  kafka: 86_400,
};

export function maxBackupAgeSeconds(store: ValidatedStore, rpoSeconds: number): number {
  return BACKUP_CADENCE_SECONDS[store] + rpoSeconds;
}

export function checkBackupAge(input: {
  store: ValidatedStore;
  backupId: string;
  takenAt: string;
  now: Date;
  maxAgeSeconds: number;
  rpoSeconds: number;
}): ValidationCheck {
  const ageSeconds = Math.round((input.now.getTime() - Date.parse(input.takenAt)) / 1000);
  const figures = {
    backupId: input.backupId,
    takenAt: input.takenAt,
    ageSeconds,
    maxAgeSeconds: input.maxAgeSeconds,
    rpoObjectiveSeconds: input.rpoSeconds,
  };
  if (ageSeconds > input.maxAgeSeconds)
    return fail(
      `${input.store}.backup-age`,
      input.store,
      `backup ${input.backupId} was taken ${ageSeconds} s ago; the RPO objective allows at most ${input.maxAgeSeconds} s`,
      figures,
    );
  if (ageSeconds < -300)
    return fail(
      `${input.store}.backup-age`,
      input.store,
      `backup ${input.backupId} claims to be taken ${-ageSeconds} s in the future`,
      figures,
    );
  return pass(
    `${input.store}.backup-age`,
    input.store,
    `taken ${ageSeconds} s ago (at most ${input.maxAgeSeconds} s)`,
    figures,
  );
}

// ---------------------------------------------------------------- restore time (RTO)

export function checkRestoreTime(
  store: ValidatedStore,
  restoreMs: number,
  rtoSeconds: number,
): ValidationCheck {
  const figures = { restoreMs, rtoObjectiveSeconds: rtoSeconds };
  return restoreMs <= rtoSeconds * 1000
    ? pass(`${store}.restore-time`, store, `restored in ${restoreMs} ms (RTO ${rtoSeconds} s)`, figures)
    : fail(
        `${store}.restore-time`,
        store,
        `restore took ${Math.round(restoreMs / 1000)} s, more than the ${rtoSeconds} s RTO objective`,
        figures,
      );
}

/**
 * A restore from the archive stream completes only when every AES-GCM frame authenticated
 * and the ciphertext and plaintext SHA-256 equal the manifest's (the stream errors
 * otherwise): a finished sandbox restore is that proof. Snapshot restores (RDS) have none.
 */
export function restoredArchiveCheck(
  store: ValidatedStore,
  manifest: { objects: { name: string; bytes: number; sha256: string }[] },
  details: Record<string, unknown>,
): ValidationCheck[] {
  if (details.streamVerified !== true) return [];
  return manifest.objects.map((o) =>
    pass(
      `${store}.archive-checksums`,
      store,
      `${o.name} decrypted with every GCM frame authenticated; ${o.bytes} bytes with the manifest's ciphertext and plaintext SHA-256`,
      { object: o.name, bytes: o.bytes, sha256: o.sha256 },
    ),
  );
}

// ---------------------------------------------------------------- PostgreSQL

export function checkIndexes(checks: readonly IndexCheck[], tables: readonly string[]): ValidationCheck {
  const broken = checks.filter((c) => !c.ok);
  const figures = {
    indexesChecked: checks.length,
    tables: [...new Set(checks.map((c) => c.table))],
    broken: firstOf(broken.map((c) => `${c.table}.${c.index}: ${c.error}`)),
  };
  if (checks.length === 0)
    return fail('postgres.amcheck', 'postgres', `no B-tree index found on ${tables.join(', ')}`, figures);
  if (broken.length > 0)
    return fail(
      'postgres.amcheck',
      'postgres',
      `bt_index_check failed on ${broken.length} index(es): ${broken
        .slice(0, 3)
        .map((c) => `${c.index} (${c.error})`)
        .join('; ')}`,
      figures,
    );
  return pass(
    'postgres.amcheck',
    'postgres',
    `${checks.length} B-tree indexes passed bt_index_check`,
    figures,
  );
}

/** Every table figure, balance and position of the restored server against the manifest's, exactly. */
export function compareAggregates(expected: LedgerAggregates, found: LedgerAggregates): string[] {
  const differences: string[] = [];
  for (const table of [...new Set([...Object.keys(expected.tables), ...Object.keys(found.tables)])].sort()) {
    const want = expected.tables[table];
    const have = found.tables[table];
    if ((want?.rows ?? 0) !== (have?.rows ?? 0))
      differences.push(`${table}: ${have?.rows ?? 0} rows, the manifest says ${want?.rows ?? 0}`);
    for (const measure of ['quantitySum', 'notionalSum'] as const)
      if (!sameDecimal(want?.[measure], have?.[measure]))
        differences.push(
          `${table}.${measure}: ${have?.[measure] ?? '0'}, the manifest says ${want?.[measure] ?? '0'}`,
        );
  }
  const maps = [
    ['balance', expected.balancesByAccount, found.balancesByAccount],
    ['position', expected.positionsByAccountInstrument, found.positionsByAccountInstrument],
  ] as const;
  for (const [label, want, have] of maps)
    for (const key of [...new Set([...Object.keys(want), ...Object.keys(have)])].sort())
      if (!sameDecimal(want[key], have[key]))
        differences.push(`${label} ${key}: ${have[key] ?? '0'}, the manifest says ${want[key] ?? '0'}`);
  return differences;
}

export function checkAggregates(expected: LedgerAggregates, found: LedgerAggregates): ValidationCheck {
  const differences = compareAggregates(expected, found);
  const figures = {
    tables: Object.fromEntries(
      Object.entries(found.tables).map(([t, f]) => [
        t,
        { restored: f, manifest: expected.tables[t] ?? null },
      ]),
    ),
    balances: Object.keys(found.balancesByAccount).length,
    positions: Object.keys(found.positionsByAccountInstrument).length,
    differences: firstOf(differences),
  };
  if (Object.keys(expected.tables).length === 0)
    return fail('postgres.aggregates', 'postgres', 'the manifest carries no aggregates to compare', figures);
  return differences.length === 0
    ? pass(
        'postgres.aggregates',
        'postgres',
        `row counts, sums, ${figures.balances} balances and ${figures.positions} positions equal the manifest's`,
        figures,
      )
    : fail(
        'postgres.aggregates',
        'postgres',
        `${differences.length} aggregate(s) differ from the manifest: ${differences.slice(0, 3).join('; ')}`,
        figures,
      );
}

// ---------------------------------------------------------------- Redis

export function checkRedisKeyCount(expected: number, found: number): ValidationCheck {
  const figures = { manifestKeys: expected, restoredKeys: found };
  return expected === found
    ? pass('redis.key-count', 'redis', `${found} keys, as in the manifest`, figures)
    : fail('redis.key-count', 'redis', `${found} keys restored, the manifest lists ${expected}`, figures);
}

export function checkRedisDigests(
  expected: readonly RedisKeyDigest[],
  found: ReadonlyMap<string, { type: string; digest: string }>,
): ValidationCheck {
  const missing: string[] = [];
  const changed: string[] = [];
  const seen = new Set<string>();
  for (const key of expected) {
    seen.add(key.key);
    const have = found.get(key.key);
    if (!have) missing.push(key.key);
    else if (have.digest !== key.digest || have.type !== key.type) changed.push(key.key);
  }
  const extra = [...found.keys()].filter((k) => !seen.has(k)).sort();
  const figures = {
    manifestKeys: expected.length,
    restoredKeys: found.size,
    missing: firstOf(missing),
    changed: firstOf(changed),
    extra: firstOf(extra),
  };
  if (expected.length === 0)
    return fail('redis.key-digests', 'redis', 'the manifest lists no keys: nothing to prove', figures);
  const problems = [
    changed.length > 0 ? `${changed.length} key(s) differ (${changed.slice(0, 3).join(', ')})` : '',
    missing.length > 0 ? `${missing.length} key(s) missing (${missing.slice(0, 3).join(', ')})` : '',
    extra.length > 0 ? `${extra.length} key(s) not in the manifest (${extra.slice(0, 3).join(', ')})` : '',
  ].filter(Boolean);
  return problems.length === 0
    ? pass('redis.key-digests', 'redis', `all ${expected.length} key digests equal the manifest's`, figures)
    : fail('redis.key-digests', 'redis', `per-key digests: ${problems.join('; ')}`, figures);
}

// ---------------------------------------------------------------- Kafka

/**
 * For every critical group, on every partition it committed on the primary: a MirrorMaker 2
 * checkpoint on the secondary must exist, and the upstream offset it translated must be
 * within `tolerance` messages of the primary's committed offset (MM2 translates at most
 * offset.lag.max behind). The translated (downstream) offset must not be past the mirrored
 * partition's end.
 */
export function checkOffsetParity(kafka: KafkaOffsetsBackup, tolerance: number): ValidationCheck {
  const primary = kafka.clusters[kafka.primaryRegion];
  const secondary = kafka.clusters[kafka.secondaryRegion];
  const problems: string[] = [];
  const rows: Record<string, unknown>[] = [];
  if (!primary || !secondary)
    return fail(
      'kafka.offset-parity',
      'kafka',
      `the record lacks the offsets of ${!primary ? kafka.primaryRegion : kafka.secondaryRegion}`,
      { regions: Object.keys(kafka.clusters) },
    );
  for (const group of kafka.criticalGroups) {
    const committed: Record<string, Record<string, string>> | undefined = primary.groups[group];
    if (!committed) {
      problems.push(`group ${group} has no committed offsets on the primary`);
      continue;
    }
    for (const [topic, partitions] of Object.entries(committed)) {
      const mirrored = `${kafka.sourceAlias}.${topic}`;
      for (const [partition, offset] of Object.entries(partitions)) {
        const translated: { offset: string; upstreamOffset: string } | undefined =
          kafka.translated[group]?.[mirrored]?.[partition];
        if (!translated) {
          problems.push(`group ${group} ${topic}[${partition}]: no translated offset on the secondary`);
          rows.push({ group, topic, partition, primary: offset, translated: null });
          continue;
        }
        const behind = BigInt(offset) - BigInt(translated.upstreamOffset);
        const end: string | undefined = secondary.endOffsets[mirrored]?.[partition];
        const row = {
          group,
          topic,
          partition: Number(partition),
          primary: offset,
          upstream: translated.upstreamOffset,
          translated: translated.offset,
          behind: Number(behind),
          mirroredEnd: end ?? null,
        };
        rows.push(row);
        if (behind > BigInt(tolerance) || behind < -BigInt(tolerance))
          problems.push(
            `group ${group} ${topic}[${partition}]: translated from upstream offset ${translated.upstreamOffset}, the primary committed ${offset} (${behind} apart, tolerance ${tolerance})`,
          );
        if (end !== undefined && BigInt(translated.offset) > BigInt(end))
          problems.push(
            `group ${group} ${mirrored}[${partition}]: translated offset ${translated.offset} is past the mirrored end ${end}`,
          );
      }
    }
  }
  const figures = {
    groups: kafka.criticalGroups,
    tolerance,
    partitions: firstOf(rows, 50),
    problems: firstOf(problems),
  };
  if (kafka.criticalGroups.length === 0)
    return fail(
      'kafka.offset-parity',
      'kafka',
      'no critical consumer group is recorded: nothing to prove',
      figures,
    );
  return problems.length === 0
    ? pass(
        'kafka.offset-parity',
        'kafka',
        `${rows.length} partition offset(s) of ${kafka.criticalGroups.length} group(s) translated within ${tolerance} messages`,
        figures,
      )
    : fail('kafka.offset-parity', 'kafka', `${problems.length} offset problem(s): ${problems[0]}`, figures);
}

/** The missing sequence numbers of each writer between the lowest and highest seen in the window. */
export function sequenceGaps(writers: Record<string, number[]>): {
  writer: string;
  from: number;
  to: number;
  seen: number;
  missing: number[];
}[] {
  return Object.entries(writers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([writer, seqs]) => {
      const unique = [...new Set(seqs)].sort((a, b) => a - b);
      const from = unique[0] ?? 0;
      const to = unique[unique.length - 1] ?? 0;
      const missing: number[] = [];
      for (let i = 1; i < unique.length; i += 1)
        for (let s = unique[i - 1]! + 1; s < unique[i]! && missing.length < 10_000; s += 1) missing.push(s);
      return { writer, from, to, seen: unique.length, missing };
    });
}

export function checkSequenceGaps(window: ReplayedWindow, topics: readonly string[]): ValidationCheck {
  const gaps = sequenceGaps(window.writers);
  const withGaps = gaps.filter((g) => g.missing.length > 0);
  const figures = {
    topics,
    window: {
      from: new Date(window.fromMs).toISOString(),
      to: new Date(window.toMs).toISOString(),
      ranges: window.ranges,
    },
    records: window.records,
    unsequenced: window.unsequenced,
    truncated: window.truncated,
    writers: gaps.map((g) => ({
      writer: g.writer,
      from: g.from,
      to: g.to,
      seen: g.seen,
      missing: g.missing.length,
      missingSeqs: g.missing.length > 0 ? seqRanges(g.missing) : '',
    })),
  };
  if (gaps.length === 0)
    return fail(
      'kafka.sequence-gaps',
      'kafka',
      `no load-generator message in the replayed window of ${topics.join(', ')}: nothing to prove`,
      figures,
    );
  return withGaps.length === 0
    ? pass(
        'kafka.sequence-gaps',
        'kafka',
        `${window.records} records of ${gaps.length} writer(s) replayed from ${topics.join(', ')} without a gap`,
        figures,
      )
    : fail(
        'kafka.sequence-gaps',
        'kafka',
        withGaps
          .slice(0, 3)
          .map(
            (g) =>
              `writer ${g.writer} is missing seq ${seqRanges(g.missing, 5)} (between ${g.from} and ${g.to})`,
          )
          .join('; '),
        figures,
      );
}
