import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import {
  BACKUP_KINDS,
  BackupKindSchema,
  newBackupId,
  type BackupKind,
  type TakenBackup,
} from '../shared/backup/contracts';
import type { BackupTakingDependencies } from '../shared/backup/dependencies';
import { BackupFailedError } from '../shared/backup/errors';
import { DrError } from '../shared/errors';
import { actionFor, defineStep } from '../shared/step';

/** `<YYYYMMDDTHHMMSSmmmZ>-<8 hex>`: one id for the set; each backup is `<kind>-<set id>`. */
const BACKUP_SET_ID = /^\d{8}T\d{9}Z-[0-9a-f]{8}$/;

const InputSchema = z
  .object({
    /**
     * Names the set of backups (each is `<kind>-<backupSetId>`): re-running with the same id
     * returns the backups already complete and takes only the missing ones. Default: new.
     */
    backupSetId: z.string().regex(BACKUP_SET_ID, 'must look like 20261127T043000123Z-1a2b3c4d').optional(),
    kinds: z
      .array(BackupKindSchema)
      .min(1)
      .refine((k) => new Set(k).size === k.length, 'must not repeat a kind')
      .default([...BACKUP_KINDS]),
    dryRun: z.boolean().default(false),
  })
  .strict();

export interface TakenBackupSummary {
  backupId: string;
  manifestKey: string;
  created: boolean;
}

function evidenceOf(taken: TakenBackup): Record<string, unknown> {
  const m = taken.manifest;
  const base = {
    backupId: taken.backupId,
    manifestKey: taken.manifestKey,
    created: taken.created,
    takenAt: m.takenAt,
    objects: m.objects.map((o) => ({
      name: o.name,
      bytes: o.bytes,
      ciphertextBytes: o.ciphertextBytes,
      sha256: o.sha256,
    })),
    timingsMs: { ...m.timingsMs, ...taken.timingsMs },
  };
  if (m.postgres)
    return {
      ...base,
      method: m.postgres.method,
      files: m.postgres.files.length,
      startLsn: m.postgres.startLsn,
      endLsn: m.postgres.endLsn,
      recoveryTargetLsn: m.postgres.restore?.recoveryTargetLsn ?? null,
      timeline: m.postgres.timeline,
      rows: Object.fromEntries(Object.entries(m.postgres.aggregates.tables).map(([t, f]) => [t, f.rows])),
    };
  if (m.redis) return { ...base, keyCount: m.redis.keyCount, redisVersion: m.redis.redisVersion };
  if (m.kafka)
    return {
      ...base,
      groups: m.kafka.criticalGroups,
      translatedGroups: Object.keys(m.kafka.translated),
    };
  return base;
}

/**
 * Takes the backups the validation workflow checks: a PostgreSQL base backup (or RDS/Aurora
 * snapshot) with its ledger aggregates, a Redis RDB with per-key digests and the Kafka
 * consumer-group offsets of both clusters, each encrypted and under a KMS-signed manifest.
 * Runnable on its own; idempotent per backupSetId.
 */
export const takeBackupsStep = defineStep({
  name: 'take-backups',
  input: InputSchema,
  async run({ backupSetId, kinds, dryRun }, deps: Pick<BackupTakingDependencies, 'backupWriter'>, clock) {
    const setId =
      backupSetId ??
      newBackupId('postgres', clock.now(), randomBytes(4).toString('hex')).slice('postgres-'.length);
    const ids = Object.fromEntries(kinds.map((k) => [k, `${k}-${setId}`])) as Record<BackupKind, string>;
    if (dryRun)
      return {
        action: actionFor(true, false),
        observed: { backupSetId: setId, kinds },
        changes: kinds.map((k) => `would take the ${k} backup ${ids[k]} (unless it is already complete)`),
        result: { backupSetId: setId, backups: {} as Partial<Record<BackupKind, TakenBackupSummary>> },
      };
    const take = (kind: BackupKind) => {
      const input = { backupId: ids[kind] };
      if (kind === 'postgres') return deps.backupWriter.takePostgresBackup(input);
      if (kind === 'redis') return deps.backupWriter.takeRedisBackup(input);
      return deps.backupWriter.recordKafkaOffsets(input);
    };
    const observed: Record<string, unknown> = { backupSetId: setId };
    const changes: string[] = [];
    const backups: Partial<Record<BackupKind, TakenBackupSummary>> = {};
    const failures: { kind: BackupKind; error: string; message: string }[] = [];
    // One after the other: the PostgreSQL and Redis snapshots each pause something briefly; never both at once.
    for (const kind of kinds) {
      try {
        const taken = await take(kind);
        observed[kind] = evidenceOf(taken);
        backups[kind] = { backupId: taken.backupId, manifestKey: taken.manifestKey, created: taken.created };
        if (taken.created) {
          const bytes = taken.manifest.objects.reduce((n, o) => n + o.ciphertextBytes, 0);
          changes.push(
            `took the ${kind} backup ${taken.backupId} (${bytes} encrypted bytes) → ${taken.manifestKey}`,
          );
        }
      } catch (err) {
        const e = err as Error;
        failures.push({ kind, error: e.name, message: e.message });
        observed[kind] = { backupId: ids[kind], failed: { error: e.name, message: e.message } };
        // Bad input (no source for a kind, a malformed id) is not worth trying the others for.
        if (err instanceof DrError && err.name === 'InvalidInputError') throw err;
      }
    }
    if (failures.length > 0)
      throw new BackupFailedError(
        `${failures.length} of ${kinds.length} backups failed: ${failures.map((f) => `${f.kind}: ${f.message}`).join('; ')}`,
        { failures, taken: backups, observed },
      );
    return {
      action: actionFor(
        false,
        Object.values(backups).every((b) => !b.created),
      ),
      observed,
      changes,
      result: { backupSetId: setId, backups },
    };
  },
});
