/**
 * Audit export for regulators (runbook: Data Loss Mitigation → Compliance audit): orders,
 * fills and risk_events of a time window as envelope-encrypted CSV with an evidence record,
 * archived under Object Lock, and the decrypt-and-verify that proves the round trip.
 * See README.md beside this file.
 */
export { exportAuditTables, newRunId, writePlainCsv, CSV_CONTENT_TYPE } from './export';
export type { AuditExportOptions, AuditExportResult } from './export';
export {
  verifyAuditExport,
  verifyTableFile,
  loadExport,
  localSource,
  s3Source,
  parseManifestLocation,
} from './verify';
export type {
  VerifyExportOptions,
  VerifyExportResult,
  VerifiedTable,
  ManifestLocation,
  ExportFileSource,
} from './verify';
export { KmsDataKeyProvider, type DataKeyProvider } from './data-keys';
export {
  AUDIT_TABLES,
  AUDIT_TABLE_SPECS,
  parseTables,
  parseWindow,
  parseInstant,
  copySql,
  type AuditTable,
  type ExportWindow,
  type Instant,
} from './tables';
export {
  FrameEncryptor,
  FrameDecryptor,
  newEnvelopeHeader,
  FILE_MAGIC,
  DEFAULT_FRAME_SIZE,
  type EnvelopeHeader,
  type EncryptionContext,
} from './framing';
export { CrlfRecordEnds, CsvRecordScanner, csvField, parseCsv } from './csv';
export { ExportArchiver, DEFAULT_KEY_PREFIX, DEFAULT_PART_SIZE, compositeSha256 } from './archive';
export {
  EVIDENCE_FILE,
  MANIFEST_FILE,
  MANIFEST_KIND,
  encryptionContextFor,
  parseEvidence,
  type Evidence,
  type TableEvidence,
  type ArchivedObject,
} from './evidence';
export { AuditExportIntegrityError, AuditExportKeyError, AuditExportArchiveError } from './errors';
