import { acquireLockStep } from './acquire-lock/logic';
import { announceRegionStep } from './announce-region/logic';
import { captureDataAtRiskStep } from './capture-data-at-risk/logic';
import { checkConsumerLagStep } from './check-consumer-lag/logic';
import { checkTargetHealthStep } from './check-target-health/logic';
import { cutoverTrafficStep } from './cutover-traffic/logic';
import { evaluateRpoGateStep } from './evaluate-rpo-gate/logic';
import { evaluateVerificationStep } from './evaluate-verification/logic';
import { fenceOldPrimaryStep } from './fence-old-primary/logic';
import { freezeDeploymentsStep } from './freeze-deployments/logic';
import { notifyStep } from './notify/logic';
import { openRunRecordStep } from './open-run-record/logic';
import { promoteKafkaStep } from './promote-kafka/logic';
import { promotePostgresStep } from './promote-postgres/logic';
import { promoteRedisStep } from './promote-redis/logic';
import { quiesceTradingStep } from './quiesce-trading/logic';
import { reattachRedisReplicaStep } from './reattach-redis-replica/logic';
import { rebuildPostgresStandbyStep } from './rebuild-postgres-standby/logic';
import { recheckBeforeResumeStep } from './recheck-before-resume/logic';
import { reconcileLedgerStep } from './reconcile-ledger/logic';
import { recordFailureStep } from './record-failure/logic';
import { releaseLockStep } from './release-lock/logic';
import { requestApprovalStep } from './request-approval/logic';
import { resumeTradingStep } from './resume-trading/logic';
import { reverseKafkaMirroringStep } from './reverse-kafka-mirroring/logic';
import { runSmokeHarnessStep } from './run-smoke-harness/logic';
import { validateInputStep } from './validate-input/logic';
import { waitForDnsSyncStep } from './wait-for-dns-sync/logic';
import { waitForDrainStep } from './wait-for-drain/logic';
import { writeEvidenceBundleStep } from './write-evidence-bundle/logic';
import { validateFailbackRequestStep } from './validate-failback-request/logic';
import { checkReplicationCaughtUpStep } from './check-replication-caught-up/logic';
import { warmUpTargetStep } from './warm-up-target/logic';
import { confirmFinalLsnStep } from './confirm-final-lsn/logic';
import { verifySwitchoverStageStep } from './verify-switchover-stage/logic';
import { postFailbackReviewStep } from './post-failback-review/logic';
import { startBackupValidationStep } from './start-backup-validation/logic';
import { selectBackupsStep } from './select-backups/logic';
import { restorePostgresBackupStep } from './restore-postgres-backup/logic';
import { restoreRedisBackupStep } from './restore-redis-backup/logic';
import { validatePostgresRestoreStep } from './validate-postgres-restore/logic';
import { validateRedisRestoreStep } from './validate-redis-restore/logic';
import { validateKafkaOffsetsStep } from './validate-kafka-offsets/logic';
import { teardownRestoreTargetsStep } from './teardown-restore-targets/logic';
import { recordBackupValidationStep } from './record-backup-validation/logic';
import { notifyBackupValidationStep } from './notify-backup-validation/logic';
import { reportRestoreValidationStep } from './report-restore-validation/logic';
import { takeBackupsStep } from './take-backups/logic';
import type { StepDefinition } from './shared/step';

/**
 * Every Lambda step by the name the state machines use: `${<Name>FunctionArn}` in the ASL
 * is the function deployed from `lambdas/<step>/handler.ts`, and locally the same step.
 * CDK creates one function per entry; the local runner binds each Task state through it.
 */
export const STEP_FUNCTIONS = {
  ValidateInput: validateInputStep,
  AcquireLock: acquireLockStep,
  OpenRunRecord: openRunRecordStep,
  Notify: notifyStep,
  FreezeDeployments: freezeDeploymentsStep,
  CheckTargetHealth: checkTargetHealthStep,
  CaptureDataAtRisk: captureDataAtRiskStep,
  QuiesceTrading: quiesceTradingStep,
  WaitForDrain: waitForDrainStep,
  EvaluateRpoGate: evaluateRpoGateStep,
  FenceOldPrimary: fenceOldPrimaryStep,
  PromotePostgres: promotePostgresStep,
  PromoteKafka: promoteKafkaStep,
  PromoteRedis: promoteRedisStep,
  CutoverTraffic: cutoverTrafficStep,
  WaitForDnsSync: waitForDnsSyncStep,
  AnnounceRegion: announceRegionStep,
  RunSmokeHarness: runSmokeHarnessStep,
  ReconcileLedger: reconcileLedgerStep,
  CheckConsumerLag: checkConsumerLagStep,
  EvaluateVerification: evaluateVerificationStep,
  RequestApproval: requestApprovalStep,
  RecheckBeforeResume: recheckBeforeResumeStep,
  ResumeTrading: resumeTradingStep,
  RecordFailure: recordFailureStep,
  WriteEvidenceBundle: writeEvidenceBundleStep,
  ReleaseLock: releaseLockStep,
  // Failback (state-machines/failback.asl.json); it shares every step above whose action is the same.
  ValidateFailbackRequest: validateFailbackRequestStep,
  CheckReplicationCaughtUp: checkReplicationCaughtUpStep,
  WarmUpTarget: warmUpTargetStep,
  ConfirmFinalLsn: confirmFinalLsnStep,
  VerifySwitchoverStage: verifySwitchoverStageStep,
  PostFailbackReview: postFailbackReviewStep,
  // Failback, rebuild: the old primary's stores made replicas of the current primary's.
  RebuildPostgresStandby: rebuildPostgresStandbyStep,
  ReattachRedisReplica: reattachRedisReplicaStep,
  ReverseKafkaMirroring: reverseKafkaMirroringStep,
  // Backup validation (state-machines/backup-validation.asl.json)
  StartBackupValidation: startBackupValidationStep,
  SelectBackups: selectBackupsStep,
  RestorePostgresBackup: restorePostgresBackupStep,
  RestoreRedisBackup: restoreRedisBackupStep,
  ValidatePostgresRestore: validatePostgresRestoreStep,
  ValidateRedisRestore: validateRedisRestoreStep,
  ValidateKafkaOffsets: validateKafkaOffsetsStep,
  TeardownRestoreTargets: teardownRestoreTargetsStep,
  RecordBackupValidation: recordBackupValidationStep,
  NotifyBackupValidation: notifyBackupValidationStep,
  ReportRestoreValidation: reportRestoreValidationStep,
  // Taking the backups the validation checks (runnable on its own: npm run backup -- take)
  TakeBackups: takeBackupsStep,
} as const;

export type StepFunctionName = keyof typeof STEP_FUNCTIONS;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStep = StepDefinition<any, any, any>;

/** The folder of each step, from its step name (`acquire-lock` → `lambdas/acquire-lock/handler.ts`). */
export const handlerEntry = (name: StepFunctionName) => `lambdas/${STEP_FUNCTIONS[name].name}/handler.ts`;
