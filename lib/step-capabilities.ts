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
  | 'smokeSink';

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
};

/** Capabilities that open connections to PostgreSQL, Kafka or Redis: the step runs in the VPC when one is configured. */
export const NETWORK_CAPABILITIES: readonly StepCapability[] = ['postgres', 'kafka', 'redis', 'smokeSink'];

export function reachesDataStores(capabilities: readonly StepCapability[]): boolean {
  return capabilities.some((c) => NETWORK_CAPABILITIES.includes(c));
}

/** Key prefix of the evidence bundle (lambdas/write-evidence-bundle writes `disaster-recovery/<runId>/…`). */
export const EVIDENCE_KEY_PREFIX = 'disaster-recovery/';
/** Key prefix of the Redis feature snapshots (lambdas/shared/feature-snapshot.ts FEATURE_SNAPSHOT_PREFIX). */
export const FEATURE_SNAPSHOT_KEY_PREFIX = 'feature-snapshots/';
