/** Resilient cross-region data sync: see engine.ts. */
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_MANIFEST_NAME,
  SHA256_METADATA,
  syncManifest,
  verifyManifestInBucket,
  verifyObjects,
  type FileSyncReport,
  type SyncOptions,
  type SyncResult,
  type SyncTarget,
  type VerifyReport,
} from './engine';
export {
  ensureSnapshotInRegion,
  listSnapshotIds,
  type EnsureSnapshotOptions,
  type EnsureSnapshotResult,
} from './feature-snapshot-sync';
export {
  BucketNotFoundError,
  ManifestConflictError,
  ManifestNotFoundError,
  PartCorruptedError,
} from './errors';
export { FaultInjectingS3, SimulatedInterruptionError, type FaultPlan } from './fault-injection';
export { FileSyncJournal, MemorySyncJournal, type SyncJournal } from './journal';
export { LocalDirSyncSource, S3SyncSource, type S3Like, type SyncSource } from './object-store';
export { DEFAULT_PART_SIZE, MiB, planFile } from './part-plan';
export { silentSyncProgress, terminalSyncProgress, type ProgressSink } from './progress';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';
