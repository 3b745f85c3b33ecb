import * as z from 'zod';
import { LedgerAggregatesSchema } from '../ledger/baseline';
import { formatIssues } from '../topology';
import { BackupManifestInvalidError } from './errors';

/**
 * Backups worth validating (issue 5): the contract between the side that TAKES backups
 * (`take-backups` step, `npm run backup -- take`) and the side that VALIDATES them (the
 * backup-validation workflow). Everything the validator needs is in the signed manifest;
 * nothing in a backup is used before the manifest's signature and the object's checksums
 * have verified.
 *
 * ## Object layout in the region's evidence bucket (topology `regions.<r>.aws.evidenceBucket`)
 *
 *   backups/<application>/<kind>/<backupId>/objects/<name>.enc   encrypted payload(s), written first
 *   backups/<application>/<kind>/<backupId>/manifest.sig.json    BackupSignature, written second
 *   backups/<application>/<kind>/<backupId>/manifest.json        BackupManifest, written LAST
 *
 * A backup exists once its manifest exists: a prefix without `manifest.json` is an
 * interrupted backup and is never listed. `backupId` sorts by time (see `newBackupId`).
 *
 * ## Encryption (per object, "envelope"): one fresh KMS data key per object
 * (`GenerateDataKey` AES_256 under the evidence key with `encryptionContext` =
 * {purpose, application, backupId, kind, object}), the plaintext streamed through the
 * project's framed AES-256-GCM (64 KiB frames; IV = noncePrefix ‖ frame index; AAD binds
 * the envelope header's SHA-256, the index and the final flag). Each encrypted object
 * carries its own envelope header (it is self-describing); the manifest repeats the key
 * id, encrypted data key and context so a validator can refuse a swapped header.
 *
 * ## Signature: KMS asymmetric key (sandbox alias/tradepulse-dr-backup-signing, RSA_2048,
 * SIGN_VERIFY), `RSASSA_PSS_SHA_256` with `MessageType: DIGEST` over the SHA-256 of the
 * EXACT manifest bytes as stored (KMS RAW messages are limited to 4096 bytes; manifests
 * are larger). Verification re-hashes the stored bytes; one changed byte fails it.
 */

export const BACKUP_SCHEMA_VERSION = 1;
export const BACKUP_KINDS = ['postgres', 'redis', 'kafka-offsets'] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];
export const BackupKindSchema = z.enum(BACKUP_KINDS);

export const BACKUP_KEY_ROOT = 'backups';
export const BACKUP_SIGNING_ALGORITHM = 'RSASSA_PSS_SHA_256';
export const BACKUP_ENCRYPTION_ALGORITHM = 'AES-256-GCM';
/** The encryption-context `purpose` of every backup data key. */
export const BACKUP_KEY_PURPOSE = 'tradepulse-dr-backup';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256');
const bytes = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp' });
const lsn = z.string().regex(/^[0-9A-F]+\/[0-9A-F]+$/, 'must be a WAL position like 0/3000000');
const application = z.string().regex(/^[a-z][a-z0-9-]{1,40}$/, 'lower-case letters, digits and dashes');
/** `<kind>-<YYYYMMDDTHHMMSSmmmZ>-<8 hex>`: sorts by time within a kind. */
export const BACKUP_ID_PATTERN = /^(postgres|redis|kafka-offsets)-\d{8}T\d{9}Z-[0-9a-f]{8}$/;
export const BackupIdSchema = z
  .string()
  .regex(BACKUP_ID_PATTERN, 'must look like postgres-20261127T043000123Z-1a2b3c4d');
const objectName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,100}$/, 'lower-case file name without slashes');

/** How one object was encrypted (repeats its envelope header's key facts). */
export const ObjectEncryptionSchema = z
  .object({
    algorithm: z.literal(BACKUP_ENCRYPTION_ALGORITHM),
    /** Plaintext bytes per frame (65536). */
    frameBytes: z.number().int().positive(),
    /** ARN of the KMS key the data key was generated under. */
    kmsKeyId: z.string().min(1),
    /** Base64 of the KMS-encrypted data key. */
    encryptedDataKey: z.string().min(1),
    encryptionContext: z.record(z.string(), z.string()),
  })
  .strict();
export type ObjectEncryption = z.infer<typeof ObjectEncryptionSchema>;

export const BackupObjectSchema = z
  .object({
    /** File name within the backup, e.g. `base.tar`, `dump.rdb`. */
    name: objectName,
    /** Full S3 key of the encrypted object. */
    key: z.string().min(1),
    /** What the plaintext is, e.g. `application/x-tar`, `application/x-redis-rdb`. */
    contentType: z.string().min(1),
    /** Plaintext size and SHA-256 (checked at the end of `openVerifiedArchiveStream`). */
    bytes,
    sha256: sha256Hex,
    /** The stored (encrypted) object's size and SHA-256 (check before decrypting, if wanted). */
    ciphertextBytes: bytes,
    ciphertextSha256: sha256Hex,
    encryption: ObjectEncryptionSchema,
  })
  .strict();
export type BackupObject = z.infer<typeof BackupObjectSchema>;

/** One file inside the PostgreSQL tar archive (regular files only; directories and links omitted). */
export const ArchiveFileSchema = z.object({ path: z.string().min(1), bytes, sha256: sha256Hex }).strict();
export type ArchiveFile = z.infer<typeof ArchiveFileSchema>;

export const PostgresBackupSchema = z
  .object({
    /** How it was taken: `pg_basebackup` of the paused standby (local), or an RDS/Aurora snapshot (AWS). */
    method: z.enum(['pg_basebackup-paused-standby', 'rds-snapshot', 'aurora-cluster-snapshot']),
    /** host:port the backup was taken from. */
    source: z.string().min(1),
    /** WAL position where the backup starts (its checkpoint's redo point). */
    startLsn: lsn.nullable(),
    /**
     * The backup's end as pg_basebackup reports it (on a standby: its minRecoveryPoint, which
     * may be before the paused replay position). The state the aggregates describe is
     * `restore.recoveryTargetLsn` (= aggregates.lsn), at or after this.
     */
    endLsn: lsn.nullable(),
    timeline: z.number().int().positive().nullable(),
    /** pg_control system identifier (decimal string), null for snapshots. */
    systemIdentifier: z.string().regex(/^\d+$/).nullable(),
    /** server_version_num, e.g. 150010. */
    serverVersion: z.number().int().positive(),
    /**
     * How to restore EXACTLY the state the aggregates describe. The archive's WAL segments
     * (pg_basebackup -X fetch, plus any later segment up to the target, appended) hold
     * records after the paused replay position (the standby kept receiving WAL while
     * replay was paused, and the backup appends a marker record after it so recovery always
     * finds a record past the target): restore with `recovery.signal`,
     * `recovery_target_lsn = '<recoveryTargetLsn>'`, `recovery_target_inclusive = off`,
     * `recovery_target_action = 'promote'` — recovery stops before the first record at or
     * after the paused position. Null for snapshots (restored as taken).
     */
    restore: z
      .object({
        recoveryTargetLsn: lsn,
        recoveryTargetInclusive: z.literal(false),
        recoveryTargetAction: z.literal('promote'),
      })
      .strict()
      .nullable(),
    /** Every regular file in the tar archive (object `base.tar`); empty for snapshots. */
    files: z.array(ArchiveFileSchema),
    /** The ledger aggregates (row counts, sums, balances per account) read in the same snapshot. */
    aggregates: LedgerAggregatesSchema,
    /**
     * 'same-snapshot': the aggregates describe exactly the restored state (paused standby);
     * 'read-before-snapshot': read just before an RDS/Aurora snapshot was requested, so the
     * restored database may hold later rows (compare against them as a ledger horizon).
     * Absent means 'same-snapshot'.
     */
    aggregatesConsistency: z.enum(['same-snapshot', 'read-before-snapshot']).optional(),
    /** AWS snapshot identity (method rds-snapshot / aurora-cluster-snapshot). */
    snapshot: z
      .object({
        identifier: z.string().min(1),
        arn: z.string().startsWith('arn:'),
        engineVersion: z.string(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type PostgresBackup = z.infer<typeof PostgresBackupSchema>;

export const RedisKeyDigestSchema = z
  .object({
    key: z.string(),
    /** Redis TYPE: string, hash, list, set, zset, stream. */
    type: z.string().min(1),
    /** SHA-256 (hex) of the key's DUMP serialization (value + RDB version + CRC; no TTL). */
    digest: sha256Hex,
  })
  .strict();
export type RedisKeyDigest = z.infer<typeof RedisKeyDigestSchema>;

export const RedisBackupSchema = z
  .object({
    /** host:port the RDB came from. */
    source: z.string().min(1),
    /** redis_version of the source (a restore target should run the same major). */
    redisVersion: z.string().min(1),
    /** DBSIZE of db 0 when the snapshot was forked (equals keys.length). */
    keyCount: z.number().int().nonnegative(),
    /** Every key of db 0, sorted by key (byte order of the UTF-8 key), with its digest. */
    keys: z.array(RedisKeyDigestSchema),
    /** rdb_last_save_time of the snapshot this RDB is (unix seconds). */
    rdbSaveTime: z.number().int().nonnegative(),
    /** How writes were held still while the digests were listed and the fork started. */
    consistency: z.literal('client-pause-write'),
  })
  .strict();
export type RedisBackup = z.infer<typeof RedisBackupSchema>;

const partitionOffsets = z.record(z.string().regex(/^\d+$/), z.string().regex(/^-?\d+$/));
/** group → topic → partition → committed offset (decimal string; Kafka offsets are int64). */
const groupOffsets = z.record(z.string().min(1), z.record(z.string().min(1), partitionOffsets));

export const KafkaClusterOffsetsSchema = z
  .object({
    brokers: z.array(z.string().min(1)).min(1),
    /** Committed offsets of each critical group on this cluster (groups without commits are absent). */
    groups: groupOffsets,
    /** Log-end offset of each critical (or mirrored) topic's partitions when read. */
    endOffsets: z.record(z.string().min(1), partitionOffsets),
  })
  .strict();
export type KafkaClusterOffsets = z.infer<typeof KafkaClusterOffsetsSchema>;

export const KafkaOffsetsBackupSchema = z
  .object({
    primaryRegion: z.string().min(1),
    secondaryRegion: z.string().min(1),
    /** MirrorMaker 2 source alias (mirrored topics on the secondary are `<alias>.<topic>`). */
    sourceAlias: z.string().min(1),
    criticalTopics: z.array(z.string().min(1)).min(1),
    criticalGroups: z.array(z.string().min(1)),
    /** region → its cluster's offsets. */
    clusters: z.record(z.string().min(1), KafkaClusterOffsetsSchema),
    /**
     * MirrorMaker 2 checkpoints (`<alias>.checkpoints.internal` on the secondary):
     * group → mirrored topic → partition → {offset on the secondary, upstream offset on the primary}.
     */
    translated: z.record(
      z.string().min(1),
      z.record(
        z.string().min(1),
        z.record(
          z.string().regex(/^\d+$/),
          z
            .object({ offset: z.string().regex(/^-?\d+$/), upstreamOffset: z.string().regex(/^-?\d+$/) })
            .strict(),
        ),
      ),
    ),
    /** MirrorMaker 2 offset.lag.max: the tolerance of a translated offset (topology kafka.offsetLagMax). */
    offsetLagMax: z.number().int().nonnegative(),
  })
  .strict();
export type KafkaOffsetsBackup = z.infer<typeof KafkaOffsetsBackupSchema>;

export const BackupManifestSchema = z
  .object({
    schemaVersion: z.literal(BACKUP_SCHEMA_VERSION),
    backupId: BackupIdSchema,
    kind: BackupKindSchema,
    application,
    /** The region whose stores were backed up (the primary). */
    sourceRegion: z.string().min(1),
    /** When the snapshot the backup describes was taken (replay paused / pause / offsets read). */
    takenAt: isoTime,
    /** When the manifest was written (after every object). */
    completedAt: isoTime,
    /** Phase timings of the backup, ms (evidence). */
    timingsMs: z.record(z.string(), z.number().nonnegative()),
    /** The encrypted payloads: postgres `base.tar`, redis `dump.rdb`; none for kafka-offsets. */
    objects: z.array(BackupObjectSchema),
    postgres: PostgresBackupSchema.optional(),
    redis: RedisBackupSchema.optional(),
    kafka: KafkaOffsetsBackupSchema.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    const section = { postgres: 'postgres', redis: 'redis', 'kafka-offsets': 'kafka' } as const;
    for (const [kind, field] of Object.entries(section)) {
      const present = m[field] !== undefined;
      if (m.kind === kind && !present)
        ctx.addIssue({ code: 'custom', path: [field], message: `required for a ${kind} backup` });
      if (m.kind !== kind && present)
        ctx.addIssue({ code: 'custom', path: [field], message: `not allowed in a ${m.kind} backup` });
    }
    if (!m.backupId.startsWith(`${m.kind}-`))
      ctx.addIssue({ code: 'custom', path: ['backupId'], message: `must start with "${m.kind}-"` });
    const names = new Set<string>();
    m.objects.forEach((o, i) => {
      if (names.has(o.name))
        ctx.addIssue({ code: 'custom', path: ['objects', i, 'name'], message: `duplicate object ${o.name}` });
      names.add(o.name);
      const expected = backupKeys(m.application, m.kind, m.backupId).object(o.name);
      if (o.key !== expected)
        ctx.addIssue({ code: 'custom', path: ['objects', i, 'key'], message: `must be ${expected}` });
    });
    if (m.kind === 'redis' && m.redis && m.redis.keyCount !== m.redis.keys.length)
      ctx.addIssue({
        code: 'custom',
        path: ['redis', 'keyCount'],
        message: `is ${m.redis.keyCount} but ${m.redis.keys.length} key digests are listed`,
      });
  });
export type BackupManifest = z.infer<typeof BackupManifestSchema>;

/** Stored beside the manifest (`manifest.sig.json`). */
export const BackupSignatureSchema = z
  .object({
    schemaVersion: z.literal(BACKUP_SCHEMA_VERSION),
    algorithm: z.literal(BACKUP_SIGNING_ALGORITHM),
    messageType: z.literal('DIGEST'),
    /** ARN of the KMS asymmetric key that signed. */
    keyId: z.string().min(1),
    /** SHA-256 (hex) of the exact manifest bytes that were signed. */
    manifestSha256: sha256Hex,
    /** Base64 signature as KMS Sign returned it. */
    signature: z.string().min(1),
    signedAt: isoTime,
  })
  .strict();
export type BackupSignature = z.infer<typeof BackupSignatureSchema>;

/** The S3 keys of one backup. */
export function backupKeys(app: string, kind: BackupKind, backupId: string) {
  const prefix = `${BACKUP_KEY_ROOT}/${app}/${kind}/${backupId}/`;
  return {
    prefix,
    manifest: `${prefix}manifest.json`,
    signature: `${prefix}manifest.sig.json`,
    object: (name: string) => `${prefix}objects/${name}.enc`,
  };
}

/** The prefix under which every backup of one kind lives (for listing). */
export function backupKindPrefix(app: string, kind: BackupKind): string {
  return `${BACKUP_KEY_ROOT}/${app}/${kind}/`;
}

/** Parses a manifest key back into its parts, or null when it is not one. */
export function parseManifestKey(
  key: string,
): { application: string; kind: BackupKind; backupId: string } | null {
  const m = /^backups\/([a-z][a-z0-9-]{1,40})\/(postgres|redis|kafka-offsets)\/([^/]+)\/manifest\.json$/.exec(
    key,
  );
  if (!m || !BACKUP_ID_PATTERN.test(m[3]!)) return null;
  return { application: m[1]!, kind: m[2] as BackupKind, backupId: m[3]! };
}

/** A new, time-sortable backup id. */
export function newBackupId(kind: BackupKind, at: Date, random: string): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${kind}-${stamp}-${random}`;
}

/** Validates a manifest; the error names every malformed field. */
export function parseBackupManifest(input: unknown, source = 'backup manifest'): BackupManifest {
  const result = BackupManifestSchema.safeParse(input);
  if (!result.success)
    throw new BackupManifestInvalidError(`${source} is malformed:\n${formatIssues(result.error.issues)}`, {
      source,
      reason: 'malformed',
      fields: result.error.issues.map((i) => i.path.map(String).join('.') || '(root)'),
    });
  return result.data;
}

// ---------- What the validator calls (implemented in ./store.ts, ./verify.ts) ----------

/**
 * Where backups live and which keys protect them. Build one with `backupEnvironment(...)`
 * (./environment.ts) from the sandbox endpoints or the deployed region's topology.
 */
export interface BackupEnvironment {
  application: string;
  region: string;
  bucket: string;
  /** Symmetric KMS key (ARN or alias) data keys are generated under. */
  dataKeyId: string;
  /** Asymmetric KMS key (ARN or alias) that signs manifests. */
  signingKeyId: string;
}

/** A manifest listed in the bucket (not yet verified). */
export interface BackupListing {
  kind: BackupKind;
  backupId: string;
  manifestKey: string;
  lastModified: string;
}

/** A manifest whose signature verified, with the facts of the verification. */
export interface VerifiedManifest {
  manifest: BackupManifest;
  manifestKey: string;
  /** SHA-256 of the manifest bytes (what the signature covers). */
  manifestSha256: string;
  signature: BackupSignature;
}

/**
 * Signatures of the functions the validation side uses (bound to clients in ./store.ts):
 *
 * - `listBackups(kind)`: every complete backup of a kind (manifest present), newest first.
 * - `latestBackup(kind)`: the newest, or null when there is none.
 * - `loadVerifiedManifest(key | {kind, backupId})`: reads manifest + signature, verifies the
 *   signature with KMS Verify over the SHA-256 of the exact stored bytes, then parses.
 *   Throws BackupNotFoundError (reason 'missing': manifest or signature absent),
 *   BackupManifestInvalidError (reason 'malformed', details.fields names the fields),
 *   BackupSignatureError (reason 'signature': it does not verify, or was made by another key).
 *   Age against the RPO objective is the validator's check (manifest.takenAt).
 * - `openVerifiedArchiveStream(manifest, objectName)`: a Readable of the object's plaintext;
 *   each 64 KiB frame is released only after its GCM tag verified; a changed byte, a
 *   truncated object or a wrong/altered data key make the stream error with
 *   BackupIntegrityError (reason 'ciphertext' | 'truncated' | 'key' | 'checksum'), and at the end
 *   the plaintext size and SHA-256 are checked against the manifest (reason 'checksum')
 *   before the stream ends — a consumer must treat the data as bad unless the stream ended
 *   without error.
 */
export interface BackupReader {
  listBackups(kind: BackupKind): Promise<BackupListing[]>;
  latestBackup(kind: BackupKind): Promise<BackupListing | null>;
  loadVerifiedManifest(ref: string | { kind: BackupKind; backupId: string }): Promise<VerifiedManifest>;
  openVerifiedArchiveStream(manifest: BackupManifest, objectName: string): Promise<NodeJS.ReadableStream>;
}

/** Result of one `take*` call (evidence). */
export interface TakenBackup {
  kind: BackupKind;
  backupId: string;
  manifestKey: string;
  /** False when a complete backup with this id already existed (idempotent re-run). */
  created: boolean;
  manifest: BackupManifest;
  timingsMs: Record<string, number>;
}

/**
 * The taking side (./take-postgres.ts, ./take-redis.ts, ./record-kafka.ts), each idempotent
 * per backupId (a complete backup with that id is returned as is, `created: false`):
 *
 *   takePostgresBackup(ctx, {backupId?})   pg_basebackup of the paused standby → base.tar.enc
 *   takeRedisBackup(ctx, {backupId?})      CLIENT PAUSE WRITE + digests + BGSAVE → dump.rdb.enc
 *   recordKafkaOffsets(ctx, {backupId?})   committed + translated offsets, no objects
 */
export interface BackupWriter {
  takePostgresBackup(input?: { backupId?: string }): Promise<TakenBackup>;
  takeRedisBackup(input?: { backupId?: string }): Promise<TakenBackup>;
  recordKafkaOffsets(input?: { backupId?: string }): Promise<TakenBackup>;
}
