import type { StepFunctionName } from '../lambdas/registry';

/**
 * What each step may touch, from the dependencies its logic declares
 * (`deps: Pick<DrDependencies, …>` in `lambdas/<step>/logic.ts`), refined by what the
 * step does with them. IAM statements and VPC placement are derived from this table and
 * nothing else; test/infrastructure/step-capabilities.test.ts keeps it in step with the
 * logic's declarations.
 *
 * - `lock`: the single-flight lock item (`pk = lock#<application>`), DynamoDB Get/Put/Delete.
 * - `lockRead`: read the lock item only (GetItem).
 * - `runRecords`: the run's partition (`pk = run#<runId>`), DynamoDB Put/Update/Query.
 * - `notifier`: SNS Publish to the region's topic (+ the sent-notification ledger in the run's partition).
 * - `events`: EventBridge PutEvents on the region's bus.
 * - `flags`: the region's trading-flag parameters (SSM GetParameters/PutParameter).
 * - `flagsRead`: read the region's trading flags only (GetParameters).
 * - `peerFlags`: the other regions' trading flags, best effort (quiesce the failed region's gateway if it still answers).
 * - `router`: read traffic routing (Route 53 ListResourceRecordSets/GetChange, ARC GetRoutingControlState).
 * - `routerWrite`: move traffic (Route 53 ChangeResourceRecordSets UPSERT of the trading CNAMEs, ARC UpdateRoutingControlStates).
 * - `evidence`: write the evidence bundle under `disaster-recovery/` with Object Lock retention.
 * - `postgres` / `kafka` / `redis` / `smokeSink`: network access to the data stores (VPC), plus the
 *   region's database secret and RDS describe calls for managed PostgreSQL.
 * - `postgresPromote`: RDS PromoteReadReplica / Aurora global Failover/Switchover of this region's database.
 * - `redisSnapshots`: read the feature snapshots (`feature-snapshots/`) in the region's bucket.
 * - `backups`: read the region's backups (`backups/<application>/` in its bucket; KMS Decrypt of the
 *   data key, KMS Verify with the signing key the topology names).
 * - `backupEvidence`: write the backup-validation report under `backup-validation/` (Object Lock).
 * - `restoreTargets`: restore the RDS / Aurora snapshot a backup names into a temporary instance or
 *   cluster (`tpdr-bv-*`) placed by the deployment's restore settings, and delete it again.
 * - `restoredStores`: network access to the restored targets (VPC).
 * - `restoreValidation`: report a validation to AWS Backup restore testing (PutRestoreValidationResult).
 * - `postgresRebuild`: failback: rebuild this region's RDS instance / Aurora cluster as a replica of
 *   the current primary (a planned operation: both regions are up).
 */
export type StepCapability =
  | 'lock'
  | 'lockRead'
  | 'runRecords'
  | 'notifier'
  | 'events'
  | 'flags'
  | 'flagsRead'
  | 'peerFlags'
  | 'router'
  | 'routerWrite'
  | 'evidence'
  | 'postgres'
  | 'postgresPromote'
  | 'kafka'
  | 'redis'
  | 'redisSnapshots'
  | 'smokeSink'
  | 'backups'
  | 'backupEvidence'
  | 'restoreTargets'
  | 'restoredStores'
  | 'restoreValidation'
  | 'postgresRebuild';

/**
 * Partial on purpose: a step registered by a workflow still being written has no entry yet;
 * the orchestrator stack refuses to deploy a workflow that invokes a step without one.
 */
export const STEP_CAPABILITIES: Readonly<Partial<Record<StepFunctionName, readonly StepCapability[]>>> = {
  ValidateInput: [],
  AcquireLock: ['lock'],
  OpenRunRecord: ['runRecords'],
  Notify: ['notifier'],
  FreezeDeployments: ['flags', 'events'],
  CheckTargetHealth: ['postgres', 'kafka', 'redis'],
  CaptureDataAtRisk: ['postgres', 'kafka', 'redis', 'runRecords'],
  QuiesceTrading: ['flags', 'peerFlags'],
  WaitForDrain: ['postgres', 'kafka', 'redis', 'runRecords'],
  EvaluateRpoGate: ['runRecords'],
  FenceOldPrimary: ['postgres', 'redis'],
  PromotePostgres: ['postgres', 'postgresPromote'],
  PromoteKafka: ['kafka'],
  PromoteRedis: ['redis', 'redisSnapshots'],
  CutoverTraffic: ['router', 'routerWrite'],
  WaitForDnsSync: ['router'],
  AnnounceRegion: ['flags', 'events'],
  RunSmokeHarness: ['smokeSink'],
  ReconcileLedger: ['postgres', 'runRecords'],
  CheckConsumerLag: ['kafka'],
  EvaluateVerification: ['runRecords'],
  RequestApproval: ['notifier', 'runRecords'],
  RecheckBeforeResume: ['postgres', 'router', 'flagsRead', 'lockRead'],
  ResumeTrading: ['flags', 'events', 'runRecords'],
  RecordFailure: ['flags', 'runRecords'],
  WriteEvidenceBundle: ['evidence', 'runRecords'],
  ReleaseLock: ['lock'],
  // Failback (state-machines/failback.asl.json)
  ValidateFailbackRequest: ['lockRead', 'flagsRead', 'router', 'postgres', 'kafka', 'redis'],
  CheckReplicationCaughtUp: ['postgres', 'kafka', 'redis'],
  WarmUpTarget: ['postgres', 'kafka', 'redis'],
  ConfirmFinalLsn: ['postgres', 'runRecords'],
  VerifySwitchoverStage: ['postgres', 'kafka', 'router', 'flagsRead'],
  // Lifts the throttles the failover left in both regions (a planned operation: both are up).
  PostFailbackReview: ['postgres', 'kafka', 'redis', 'flags', 'peerFlags', 'runRecords'],
  RebuildPostgresStandby: ['postgresRebuild'],
  ReattachRedisReplica: ['redis'],
  ReverseKafkaMirroring: ['kafka'],
  // Backup validation (state-machines/backup-validation.asl.json)
  StartBackupValidation: [],
  SelectBackups: ['backups'],
  RestorePostgresBackup: ['restoreTargets', 'backups'],
  RestoreRedisBackup: ['restoreTargets', 'backups'],
  ValidatePostgresRestore: ['backups', 'restoredStores'],
  ValidateRedisRestore: ['backups', 'restoredStores'],
  ValidateKafkaOffsets: ['backups', 'kafka'],
  TeardownRestoreTargets: ['restoreTargets'],
  RecordBackupValidation: ['backupEvidence'],
  NotifyBackupValidation: ['notifier'],
  ReportRestoreValidation: ['restoreValidation'],
};

/** Capabilities that open connections to PostgreSQL, Kafka or Redis: the step runs in the VPC when one is configured. */
export const NETWORK_CAPABILITIES: readonly StepCapability[] = [
  'postgres',
  'kafka',
  'redis',
  'smokeSink',
  'restoredStores',
];

export function reachesDataStores(capabilities: readonly StepCapability[]): boolean {
  return capabilities.some((c) => NETWORK_CAPABILITIES.includes(c));
}

/** Key prefix of the evidence bundle (lambdas/write-evidence-bundle writes `disaster-recovery/<runId>/…`). */
export const EVIDENCE_KEY_PREFIX = 'disaster-recovery/';
/** Key prefix of the backup-validation reports (lambdas/record-backup-validation `reportKey`). */
export const BACKUP_VALIDATION_KEY_PREFIX = 'backup-validation/';
/** Key prefix of the backups (lambdas/shared/backup/contracts.ts BACKUP_KEY_ROOT); followed by the application. */
export const BACKUP_KEY_PREFIX = 'backups/';
/** RDS identifiers of the temporary restore targets (lambdas/shared/adapters/restore/target-names.ts). */
export const RESTORE_TARGET_ID_PREFIX = 'tpdr-bv-';

/** Key prefix of the Redis feature snapshots (lambdas/shared/feature-snapshot.ts FEATURE_SNAPSHOT_PREFIX). */
export const FEATURE_SNAPSHOT_KEY_PREFIX = 'feature-snapshots/';
