import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { DEFAULT_EVIDENCE_RETENTION_DAYS } from '../../lambdas/shared/adapters/aws/s3-evidence-store';
import { buildManifest, type Manifest, type ManifestFile } from '../../lambdas/shared/manifest';
import {
  DEFAULT_KEY_PREFIX,
  DEFAULT_PART_SIZE,
  ExportArchiver,
  MIN_PART_SIZE,
  type LeftBehind,
} from './archive';
import { CrlfRecordEnds } from './csv';
import type { DataKeyProvider } from './data-keys';
import { AuditExportArchiveError, AuditExportIntegrityError, InvalidInputError } from './errors';
import {
  EVIDENCE_FILE,
  EvidenceSchema,
  MANIFEST_FILE,
  MANIFEST_KIND,
  RUN_ID_PATTERN,
  encryptionContextFor,
  fileNameFor,
  type ArchivedObject,
  type Evidence,
  type ManifestMetadata,
  type TableEvidence,
} from './evidence';
import { DEFAULT_FRAME_SIZE, FrameEncryptor, newEnvelopeHeader } from './framing';
import { HashTap } from '../../lambdas/shared/envelope/hash-tap';
import { AUDIT_TABLE_SPECS, copySql, type AuditTable, type ExportWindow } from './tables';
import { localSource, verifyTableFile } from './verify';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8; header=present';
const ENCRYPTED_CONTENT_TYPE = 'application/octet-stream';
const DAY_MS = 86_400_000;

export interface AuditExportOptions {
  /** Where to read from; a role that may SELECT orders, fills and risk_events is enough. */
  readonly postgres: pg.ClientConfig;
  readonly tables: readonly AuditTable[];
  readonly window: ExportWindow;
  /** Data keys (KMS GenerateDataKey / Decrypt). */
  readonly dataKeys: DataKeyProvider;
  /** The export is written to `<outDir>/<runId>/` (staged in `<outDir>/.<runId>.partial/`). */
  readonly outDir: string;
  /** Archive to the Object-Lock evidence bucket. @default not archived */
  readonly archive?: {
    readonly s3: S3Client;
    readonly bucket: string;
    /** @default 'disaster-recovery/audit-exports/' */
    readonly keyPrefix?: string;
    /** COMPLIANCE retention in days from now. @default 2555 (about seven years) */
    readonly retentionDays?: number;
  };
  /** @default audit-<UTC timestamp>-<random> */
  readonly runId?: string;
  /** Plaintext bytes per GCM frame. @default 65536 */
  readonly frameSize?: number;
  /** Files larger than this are archived with a multipart upload in parts of this size. @default 16 MiB */
  readonly partSize?: number;
  readonly now?: () => Date;
  readonly log?: (message: string) => void;
}

export interface AuditExportResult {
  runId: string;
  /** The published local directory. */
  dir: string;
  manifestPath: string;
  evidencePath: string;
  manifest: Manifest;
  evidence: Evidence;
  /** Where it was archived: the manifest's key and version, and every object's lock. */
  archive?: {
    bucket: string;
    manifestKey: string;
    manifest: ArchivedObject;
    objects: Record<string, ArchivedObject>;
  };
}

export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15);
  return `audit-${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * The plain CSV of one table's window, exactly as an export encrypts it (same COPY, same
 * CRLF record ends), without encryption: what a decrypted export must equal byte for byte.
 * Run it inside a transaction of the caller's choosing.
 */
export async function writePlainCsv(
  client: pg.Client,
  table: AuditTable,
  window: ExportWindow,
  sink: Writable,
): Promise<{ rows: number }> {
  const copy = client.query(copyTo(copySql(AUDIT_TABLE_SPECS[table], window)));
  await pipeline(copy, new CrlfRecordEnds(), sink);
  return { rows: copy.rowCount };
}

interface StagedTable {
  evidence: TableEvidence;
  entry: ManifestFile;
  localPath: string;
}

/** Streams one table through COPY → CRLF → SHA-256 → framed AES-256-GCM → SHA-256 → file. */
async function exportTable(
  client: pg.Client,
  table: AuditTable,
  opts: {
    runId: string;
    window: ExportWindow;
    dataKeys: DataKeyProvider;
    frameSize: number;
    partSize: number;
    localPath: string;
  },
): Promise<StagedTable> {
  const spec = AUDIT_TABLE_SPECS[table];
  const context = encryptionContextFor(opts.runId, table, opts.window);
  const dataKey = await opts.dataKeys.generateDataKey(context);
  const header = newEnvelopeHeader({
    keyId: dataKey.keyId,
    encryptedDataKey: dataKey.encrypted,
    encryptionContext: context,
    contentType: CSV_CONTENT_TYPE,
    description: `TradePulse ${table}, ${opts.window.from.iso} ≤ ${spec.timeColumn} < ${opts.window.to.iso}, export ${opts.runId}`,
    frameSize: opts.frameSize,
  });
  const encryptor = new FrameEncryptor(header, dataKey.plaintext);
  dataKey.plaintext.fill(0);
  const copy = client.query(copyTo(copySql(spec, opts.window)));
  const crlf = new CrlfRecordEnds();
  const plainTap = new HashTap();
  const cipherTap = new HashTap({ partSize: opts.partSize });
  await pipeline(
    copy,
    crlf,
    plainTap,
    encryptor,
    cipherTap,
    fs.createWriteStream(opts.localPath, { flags: 'wx', mode: 0o640 }),
  );
  const rows = copy.rowCount;
  if (crlf.scanner.records !== rows + 1 || crlf.scanner.insideQuotedField)
    throw new AuditExportIntegrityError(
      `${table}: PostgreSQL reported ${rows} rows but the CSV holds ${crlf.scanner.records - 1} records`,
      { table },
    );
  const parts = cipherTap.parts;
  const file = fileNameFor(table);
  return {
    localPath: opts.localPath,
    entry: {
      path: file,
      size: cipherTap.size,
      sha256: cipherTap.sha256,
      ...(parts.length > 1 ? { parts } : {}),
    },
    evidence: {
      table,
      file,
      rows,
      columns: spec.columns.map((c) => c.name),
      timeColumn: spec.timeColumn,
      orderBy: [spec.timeColumn, spec.primaryKey],
      plaintext: { size: plainTap.size, sha256: plainTap.sha256 },
      ciphertext: { size: cipherTap.size, sha256: cipherTap.sha256 },
      encryption: {
        algorithm: header.algorithm,
        kmsKeyId: header.kms.keyId,
        encryptionContext: context,
        frameSize: header.framing.frameSize,
        frames: encryptor.frames,
        headerSha256: createHash('sha256').update(encryptor.header).digest('hex'),
      },
    },
  };
}

const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');

/**
 * Exports orders, fills and risk_events rows in [from, to) as envelope-encrypted CSV:
 *
 * 1. One READ ONLY, REPEATABLE READ transaction (one snapshot for every table); each table
 *    streams through `COPY … TO STDOUT` (the server-side cursor: memory stays constant,
 *    whatever the size), CRLF record ends, a SHA-256 of the plaintext, framed AES-256-GCM
 *    under a fresh KMS data key, a SHA-256 of the ciphertext, into a staging directory.
 * 2. Every staged file is verified as a regulator would: KMS Decrypt of its data key, every
 *    GCM tag, both SHA-256s and the row count.
 * 3. Optionally archived (see ExportArchiver): uploaded unlocked, read back, locked
 *    (COMPLIANCE, retain-until), read back; the manifest goes last, locked at birth.
 * 4. The staging directory is renamed to `<outDir>/<runId>/`.
 *
 * Any failure removes the staging directory and the archived versions it can (anything it
 * cannot, being locked, is named in the error); no manifest means no export.
 */
export async function exportAuditTables(opts: AuditExportOptions): Promise<AuditExportResult> {
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => {});
  const runId = opts.runId ?? newRunId(now());
  if (!RUN_ID_PATTERN.test(runId))
    throw new InvalidInputError(`run id '${runId}' must be letters, digits and dashes (at most 63)`, {
      field: 'runId',
    });
  if (opts.tables.length === 0) throw new InvalidInputError('no table to export', { field: 'table' });
  if (opts.window.from.epochMicros >= opts.window.to.epochMicros)
    throw new InvalidInputError(
      `the window is backwards or empty: ${opts.window.from.iso} ≥ ${opts.window.to.iso}`,
      {
        field: 'window',
      },
    );
  const frameSize = opts.frameSize ?? DEFAULT_FRAME_SIZE;
  const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE)
    throw new InvalidInputError(`partSize must be at least ${MIN_PART_SIZE} bytes (S3's smallest part)`, {
      field: 'partSize',
    });
  const retentionDays = opts.archive?.retentionDays ?? DEFAULT_EVIDENCE_RETENTION_DAYS;
  if (!Number.isInteger(retentionDays) || retentionDays < 1)
    throw new InvalidInputError(`retention must be a whole number of days ≥ 1, not ${retentionDays}`, {
      field: 'retentionDays',
    });

  const outDir = path.resolve(opts.outDir);
  const finalDir = path.join(outDir, runId);
  const staging = path.join(outDir, `.${runId}.partial`);
  if (fs.existsSync(finalDir))
    throw new InvalidInputError(`${finalDir} already exists: an export with run id ${runId} was published`, {
      field: 'runId',
    });
  // Everything that can be checked without side effects has been: from here on, clean up on failure.
  const createdOutDir = fs.mkdirSync(outDir, { recursive: true });
  try {
    fs.mkdirSync(staging);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new InvalidInputError(
      `${staging} exists: an export with run id ${runId} is running or was interrupted; remove it or use another run id`,
      { field: 'runId' },
    );
  }

  const keyPrefix = opts.archive ? (opts.archive.keyPrefix ?? DEFAULT_KEY_PREFIX) : '';
  const retainUntil = new Date(Math.floor((now().getTime() + retentionDays * DAY_MS) / 1000) * 1000);
  const archiver = opts.archive
    ? new ExportArchiver({ s3: opts.archive.s3, bucket: opts.archive.bucket, keyPrefix, retainUntil })
    : undefined;

  const client = new pg.Client(opts.postgres);
  client.on('error', () => {}); // surfaced by the failing query instead
  let archiving = false;
  let publishedAt: string | undefined;
  try {
    await client.connect();
    const staged: StagedTable[] = [];
    let source: Evidence['source'];
    try {
      await client.query('begin transaction isolation level repeatable read, read only');
      const snap = await client.query<{ taken_at: string; snapshot: string; version: string; usr: string }>(
        `select to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as taken_at,
                pg_current_snapshot()::text as snapshot,
                current_setting('server_version') as version,
                current_user as usr`,
      );
      const row = snap.rows[0]!;
      source = {
        host: String(opts.postgres.host ?? 'localhost'),
        port: Number(opts.postgres.port ?? 5432),
        database: String(opts.postgres.database ?? row.usr),
        user: row.usr,
        serverVersion: row.version,
        snapshot: {
          isolation: 'repeatable read, read only',
          takenAt: row.taken_at,
          txidSnapshot: row.snapshot,
        },
        windowClosed: opts.window.to.iso <= row.taken_at,
      };
      for (const table of opts.tables) {
        const started = Date.now();
        const one = await exportTable(client, table, {
          runId,
          window: opts.window,
          dataKeys: opts.dataKeys,
          frameSize,
          partSize,
          localPath: path.join(staging, fileNameFor(table)),
        });
        staged.push(one);
        log(
          `exported ${table}: ${one.evidence.rows} rows, ${one.evidence.plaintext.size} bytes of CSV → ${one.entry.size} bytes encrypted in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
      }
      await client.query('commit');
    } finally {
      await client.end().catch(() => undefined);
    }

    // Verify every staged file exactly as the verify command will.
    const local = localSource(staging);
    for (const one of staged) {
      await verifyTableFile({
        input: await local.open(one.entry.path),
        name: local.describe(one.entry.path),
        entry: one.entry,
        evidence: one.evidence,
        runId,
        window: opts.window,
        dataKeys: opts.dataKeys,
      });
      log(
        `verified ${one.entry.path}: KMS data key, ${one.evidence.encryption.frames} GCM frame(s), both SHA-256s`,
      );
    }

    const evidence = EvidenceSchema.parse({
      kind: 'audit-export-evidence',
      version: 1,
      runId,
      createdAt: now().toISOString(),
      window: { from: opts.window.from.iso, to: opts.window.to.iso, bounds: '[from, to)' },
      source,
      tables: staged.map((s) => s.evidence),
      ...(opts.archive
        ? {
            archive: {
              bucket: opts.archive.bucket,
              keyPrefix: `${keyPrefix}${runId}/`,
              objectLockMode: 'COMPLIANCE',
              retainUntil: retainUntil.toISOString(),
              retentionDays,
            },
          }
        : {}),
    } satisfies Evidence);
    const evidenceBytes = json(evidence);
    const evidencePath = path.join(staging, EVIDENCE_FILE);
    fs.writeFileSync(evidencePath, evidenceBytes, { flag: 'wx', mode: 0o640 });
    const evidenceEntry: ManifestFile = {
      path: EVIDENCE_FILE,
      size: evidenceBytes.length,
      sha256: createHash('sha256').update(evidenceBytes).digest('hex'),
    };

    let archived: AuditExportResult['archive'];
    let archivedObjects: Record<string, ArchivedObject> | undefined;
    const metadata: ManifestMetadata = {
      runId,
      window: { from: opts.window.from.iso, to: opts.window.to.iso },
      tables: [...opts.tables],
      evidence: EVIDENCE_FILE,
    };
    if (archiver && opts.archive) {
      archiving = true;
      const uploads = [];
      for (const one of staged) {
        uploads.push({
          path: one.entry.path,
          object: await archiver.uploadUnlocked(
            archiver.keyFor(runId, one.entry.path),
            one.localPath,
            one.entry,
            ENCRYPTED_CONTENT_TYPE,
          ),
        });
        log(
          `uploaded ${one.entry.path} to s3://${opts.archive.bucket}/${archiver.keyFor(runId, one.entry.path)}`,
        );
      }
      uploads.push({
        path: EVIDENCE_FILE,
        object: await archiver.uploadUnlocked(
          archiver.keyFor(runId, EVIDENCE_FILE),
          evidencePath,
          evidenceEntry,
          'application/json',
        ),
      });
      const objects: Record<string, ArchivedObject> = {};
      for (const { path: file, object } of uploads) objects[file] = await archiver.lock(object);
      log(
        `locked ${uploads.length} object(s): COMPLIANCE until ${retainUntil.toISOString()} (read back with HeadObject)`,
      );
      metadata.archive = { bucket: opts.archive.bucket, keyPrefix: `${keyPrefix}${runId}/`, objects };
      archivedObjects = objects;
    }

    const manifest = buildManifest({
      kind: MANIFEST_KIND,
      createdAt: now(),
      files: [...staged.map((s) => s.entry), evidenceEntry],
      metadata,
    });
    const manifestBytes = json(manifest);
    fs.writeFileSync(path.join(staging, MANIFEST_FILE), manifestBytes, { flag: 'wx', mode: 0o640 });
    if (archiver && opts.archive && archivedObjects) {
      const manifestKey = archiver.keyFor(runId, MANIFEST_FILE);
      const manifestObject = await archiver.putLocked(manifestKey, manifestBytes, 'application/json');
      archived = {
        bucket: opts.archive.bucket,
        manifestKey,
        manifest: manifestObject,
        objects: archivedObjects,
      };
      archiving = false; // published: from here on nothing in the bucket is to be rolled back
      publishedAt = `s3://${opts.archive.bucket}/${manifestKey}`;
      log(`published s3://${archived.bucket}/${manifestKey} (version ${manifestObject.versionId ?? '-'})`);
    }

    fs.renameSync(staging, finalDir);
    log(`published ${finalDir}`);
    return {
      runId,
      dir: finalDir,
      manifestPath: path.join(finalDir, MANIFEST_FILE),
      evidencePath: path.join(finalDir, EVIDENCE_FILE),
      manifest,
      evidence,
      ...(archived ? { archive: archived } : {}),
    };
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (createdOutDir) fs.rmSync(createdOutDir, { recursive: true, force: true });
    if (publishedAt)
      throw new AuditExportArchiveError(
        `export ${runId} was archived and published at ${publishedAt}, but the local copy could not be written: ${(err as Error).message}`,
        { publishedAt, cause: (err as Error).name },
      );
    if (!archiver || !archiving) throw err;
    const written = archiver.writtenCount;
    const leftBehind: LeftBehind[] = await archiver.rollback();
    const e = err as Error;
    const what = `archiving export ${runId} to s3://${opts.archive!.bucket} failed: ${e.name}: ${e.message}`;
    if (leftBehind.length > 0)
      throw new AuditExportArchiveError(
        `${what}\nThe export was not published (no manifest); these locked versions could not be removed: ${leftBehind
          .map((l) => `${l.key}${l.versionId ? `?versionId=${l.versionId}` : ''} (${l.reason})`)
          .join(', ')}`,
        { leftBehind, cause: e.name },
      );
    throw new AuditExportArchiveError(
      `${what}\nNothing was published: the ${written} object version(s) uploaded were deleted and the local staging removed.`,
      { leftBehind: [], cause: e.name },
    );
  }
}
