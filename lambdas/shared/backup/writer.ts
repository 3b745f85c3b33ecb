import { randomBytes } from 'node:crypto';
import {
  BACKUP_SCHEMA_VERSION,
  BackupIdSchema,
  newBackupId,
  type BackupKind,
  type BackupManifest,
  type BackupWriter,
  type TakenBackup,
} from './contracts';
import { InvalidInputError } from '../errors';
import { BackupFailedError } from './errors';
import { recordKafkaOffsets, type KafkaOffsetsSource } from './record-kafka';
import type { BackupService } from './service';
import { takeRdsSnapshot, type RdsSnapshotSource } from './rds-snapshot';
import { takePostgresArchive, type PostgresBackupSource } from './take-postgres';
import { takeRedisSnapshot, type RedisBackupSource } from './take-redis';

/** Where each kind of backup is taken from; a kind without a source cannot be taken here. */
export interface BackupSources {
  /** The region whose stores are backed up (the primary). */
  sourceRegion: string;
  /** pg_basebackup of a paused streaming standby (self-managed), or an RDS/Aurora snapshot. */
  postgres?: PostgresBackupSource | RdsSnapshotSource;
  redis?: RedisBackupSource;
  kafka?: KafkaOffsetsSource;
}

const elapsedSince = (t: number) => Math.round(performance.now() - t);

/**
 * Takes the three kinds of backup into a BackupService. Each is idempotent per backupId:
 * when a complete (manifest present, signature valid) backup with that id exists it is
 * returned unchanged (`created: false`); an interrupted one (objects, no manifest) is
 * taken again under the same id.
 */
export class BackupTaker implements BackupWriter {
  constructor(
    private readonly service: BackupService,
    private readonly sources: BackupSources,
  ) {}

  private idFor(kind: BackupKind, backupId: string | undefined): string {
    if (backupId === undefined) return newBackupId(kind, this.service.now(), randomBytes(4).toString('hex'));
    const parsed = BackupIdSchema.safeParse(backupId);
    if (!parsed.success || !backupId.startsWith(`${kind}-`))
      throw new InvalidInputError(
        `backupId ${JSON.stringify(backupId)} is not a ${kind} backup id (like ${kind}-20261127T043000123Z-1a2b3c4d)`,
        { field: 'backupId' },
      );
    return backupId;
  }

  private source<K extends 'postgres' | 'redis' | 'kafka'>(key: K): NonNullable<BackupSources[K]> {
    const s = this.sources[key];
    if (!s) throw new InvalidInputError(`no ${key} source is configured for backups here`, { field: key });
    return s as NonNullable<BackupSources[K]>;
  }

  private async already(kind: BackupKind, backupId: string): Promise<TakenBackup | null> {
    const found = await this.service.existing(kind, backupId);
    if (!found) return null;
    return {
      kind,
      backupId,
      manifestKey: found.manifestKey,
      created: false,
      manifest: found.manifest,
      timingsMs: {},
    };
  }

  private async finish(
    manifest: Omit<BackupManifest, 'schemaVersion' | 'application' | 'sourceRegion' | 'completedAt'>,
    started: number,
  ): Promise<TakenBackup> {
    const t = performance.now();
    const full: BackupManifest = {
      schemaVersion: BACKUP_SCHEMA_VERSION,
      application: this.service.env.application,
      sourceRegion: this.sources.sourceRegion,
      completedAt: this.service.now().toISOString(),
      ...manifest,
      timingsMs: { ...manifest.timingsMs },
    };
    full.timingsMs.totalMs = elapsedSince(started);
    const { manifestKey } = await this.service.publish(full);
    const timingsMs = { ...full.timingsMs, publishMs: elapsedSince(t) };
    return {
      kind: full.kind,
      backupId: full.backupId,
      manifestKey,
      created: true,
      manifest: full,
      timingsMs,
    };
  }

  async takePostgresBackup(input: { backupId?: string } = {}): Promise<TakenBackup> {
    const backupId = this.idFor('postgres', input.backupId);
    const source = this.source('postgres');
    const done = await this.already('postgres', backupId);
    if (done) return done;
    const started = performance.now();
    if ('kind' in source) {
      const snap = await takeRdsSnapshot(source, backupId);
      return this.finish(
        {
          backupId,
          kind: 'postgres',
          takenAt: snap.takenAt.toISOString(),
          timingsMs: snap.timingsMs,
          objects: [],
          postgres: snap.postgres,
        },
        started,
      );
    }
    const taken = await takePostgresArchive(source, backupId, (archive) =>
      this.service.storeObject({
        kind: 'postgres',
        backupId,
        name: 'base.tar',
        contentType: 'application/x-tar',
        body: archive,
      }),
    );
    return this.finish(
      {
        backupId,
        kind: 'postgres',
        takenAt: taken.takenAt.toISOString(),
        timingsMs: taken.timingsMs,
        objects: [taken.object],
        postgres: taken.postgres,
      },
      started,
    );
  }

  async takeRedisBackup(input: { backupId?: string } = {}): Promise<TakenBackup> {
    const backupId = this.idFor('redis', input.backupId);
    const source = this.source('redis');
    const done = await this.already('redis', backupId);
    if (done) return done;
    const started = performance.now();
    const snap = await takeRedisSnapshot(source);
    let object;
    const t = performance.now();
    try {
      object = await this.service.storeObject({
        kind: 'redis',
        backupId,
        name: 'dump.rdb',
        contentType: 'application/x-redis-rdb',
        body: snap.rdb.createReadStream({ autoClose: false }),
      });
    } finally {
      await snap.rdb.close().catch(() => {});
    }
    if (object.bytes !== snap.rdbBytes)
      throw new BackupFailedError(
        `the RDB changed size while it was read (${snap.rdbBytes} → ${object.bytes})`,
      );
    return this.finish(
      {
        backupId,
        kind: 'redis',
        takenAt: snap.takenAt.toISOString(),
        timingsMs: { ...snap.timingsMs, uploadMs: elapsedSince(t) },
        objects: [object],
        redis: {
          source: snap.source,
          redisVersion: snap.redisVersion,
          keyCount: snap.keys.length,
          keys: snap.keys,
          rdbSaveTime: snap.rdbSaveTime,
          consistency: 'client-pause-write',
        },
      },
      started,
    );
  }

  async recordKafkaOffsets(input: { backupId?: string } = {}): Promise<TakenBackup> {
    const backupId = this.idFor('kafka-offsets', input.backupId);
    const source = this.source('kafka');
    const done = await this.already('kafka-offsets', backupId);
    if (done) return done;
    const started = performance.now();
    const record = await recordKafkaOffsets(source);
    return this.finish(
      {
        backupId,
        kind: 'kafka-offsets',
        takenAt: record.takenAt.toISOString(),
        timingsMs: record.timingsMs,
        objects: [],
        kafka: record.kafka,
      },
      started,
    );
  }
}
