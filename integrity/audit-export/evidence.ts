import { z } from 'zod';
import { ManifestInvalidError, type Manifest } from '../../lambdas/shared/manifest';
import { formatIssues } from '../../lambdas/shared/topology';
import { ALGORITHM, EncryptionContextSchema } from './framing';
import { AUDIT_TABLES, type AuditTable, type ExportWindow } from './tables';

/** `kind` of the manifest (lambdas/shared/manifest.ts) that lists an audit export's files. */
export const MANIFEST_KIND = 'audit-export';
export const MANIFEST_FILE = 'manifest.json';
export const EVIDENCE_FILE = 'evidence.json';
export const ENCRYPTION_PURPOSE = 'tradepulse-dr-audit-export';

export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/;

export const fileNameFor = (table: AuditTable) => `${table}.csv.enc`;

/**
 * The KMS encryption context of one file: it names the export, so KMS decrypts the data key
 * only for the file it was made for, and CloudTrail shows which export each use was for.
 */
export function encryptionContextFor(runId: string, table: AuditTable, window: ExportWindow) {
  return {
    purpose: ENCRYPTION_PURPOSE,
    runId,
    table,
    windowFrom: window.from.iso,
    windowTo: window.to.iso,
  };
}

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const digest = z.object({ size: z.number().int().nonnegative(), sha256: sha256Hex }).strict();
const iso = z.string().datetime({ offset: true });

export const TableEvidenceSchema = z
  .object({
    table: z.enum(AUDIT_TABLES),
    file: z.string().min(1),
    /** Data rows (the CSV header line is not counted). */
    rows: z.number().int().nonnegative(),
    columns: z.array(z.string()).min(1),
    timeColumn: z.string(),
    orderBy: z.array(z.string()).min(1),
    /** The CSV as exported, before encryption. */
    plaintext: digest,
    /** The encrypted file as stored and archived (preamble, header and frames). */
    ciphertext: digest,
    encryption: z
      .object({
        algorithm: z.literal(ALGORITHM),
        kmsKeyId: z.string().min(1),
        encryptionContext: EncryptionContextSchema,
        frameSize: z.number().int().positive(),
        frames: z.number().int().positive(),
        /** SHA-256 of the envelope header as stored in the file. */
        headerSha256: sha256Hex,
      })
      .strict(),
  })
  .strict();
export type TableEvidence = z.infer<typeof TableEvidenceSchema>;

export const EvidenceSchema = z
  .object({
    kind: z.literal('audit-export-evidence'),
    version: z.literal(1),
    runId: z.string().regex(RUN_ID_PATTERN),
    createdAt: iso,
    window: z.object({ from: iso, to: iso, bounds: z.literal('[from, to)') }).strict(),
    source: z
      .object({
        host: z.string(),
        port: z.number().int(),
        database: z.string(),
        user: z.string(),
        serverVersion: z.string(),
        /** All tables were read in one REPEATABLE READ, READ ONLY transaction: one consistent snapshot. */
        snapshot: z
          .object({
            isolation: z.literal('repeatable read, read only'),
            takenAt: iso,
            txidSnapshot: z.string(),
          })
          .strict(),
        /** False when the window's end was still in the future at snapshot time (later rows may still arrive). */
        windowClosed: z.boolean(),
      })
      .strict(),
    tables: z.array(TableEvidenceSchema).min(1),
    /** Where the export is archived, when it is (the object versions and their locks are in the manifest). */
    archive: z
      .object({
        bucket: z.string(),
        keyPrefix: z.string(),
        objectLockMode: z.literal('COMPLIANCE'),
        retainUntil: iso,
        retentionDays: z.number().int().positive(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Evidence = z.infer<typeof EvidenceSchema>;

export function parseEvidence(input: unknown, source = EVIDENCE_FILE): Evidence {
  const result = EvidenceSchema.safeParse(input);
  if (!result.success)
    throw new ManifestInvalidError(`Invalid ${source}:\n${formatIssues(result.error.issues)}`, { source });
  return result.data;
}

/** One archived object version and its lock, as read back with HeadObject. */
export const ArchivedObjectSchema = z
  .object({
    key: z.string(),
    versionId: z.string().optional(),
    upload: z.enum(['single-part', 'multipart']),
    objectLockMode: z.literal('COMPLIANCE'),
    retainUntil: iso,
    /** How the lock was set: PutObject lock headers, or PutObjectRetention after the upload. */
    lockAppliedWith: z.enum(['PutObject', 'PutObjectRetention']),
    /** Whether S3 reported a SHA-256 checksum for the object that matched ours. */
    s3ChecksumVerified: z.boolean(),
  })
  .strict();
export type ArchivedObject = z.infer<typeof ArchivedObjectSchema>;

/** What the `metadata` of an audit-export manifest holds. */
export const ManifestMetadataSchema = z
  .object({
    runId: z.string().regex(RUN_ID_PATTERN),
    window: z.object({ from: iso, to: iso }).strict(),
    tables: z.array(z.enum(AUDIT_TABLES)).min(1),
    evidence: z.literal(EVIDENCE_FILE),
    archive: z
      .object({
        bucket: z.string(),
        keyPrefix: z.string(),
        objects: z.record(z.string(), ArchivedObjectSchema),
      })
      .strict()
      .optional(),
  })
  .strict();
export type ManifestMetadata = z.infer<typeof ManifestMetadataSchema>;

export function manifestMetadata(manifest: Manifest, source: string): ManifestMetadata {
  if (manifest.kind !== MANIFEST_KIND)
    throw new ManifestInvalidError(
      `${source} is a '${manifest.kind}' manifest, not an '${MANIFEST_KIND}' manifest`,
      { source },
    );
  const result = ManifestMetadataSchema.safeParse(manifest.metadata);
  if (!result.success)
    throw new ManifestInvalidError(`Invalid metadata in ${source}:\n${formatIssues(result.error.issues)}`, {
      source,
    });
  return result.data;
}
