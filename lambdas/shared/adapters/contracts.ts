/**
 * What step logic needs from each backend. Steps are pure functions of these
 * interfaces; each has one implementation per real backend (self-managed PostgreSQL via
 * pg, RDS, Aurora global; kafkajs; ioredis; Route 53 / ARC; SSM; DynamoDB; SNS;
 * EventBridge; S3) and fakes in unit tests. Every mutating call observes first and is
 * idempotent: calling it when the goal already holds returns `alreadyDone: true`.
 */

// ---------- PostgreSQL ----------

export interface PostgresNodeStatus {
  reachable: boolean;
  /** `primary` when pg_is_in_recovery() is false. */
  role: 'primary' | 'standby' | 'unknown';
  /** Refuses writes: default_transaction_read_only on, or a standby. */
  readOnly: boolean;
  /** pg_current_wal_lsn() on a primary, pg_last_wal_receive_lsn() on a standby. */
  lsn: string | null;
  replayLsn: string | null;
  /** Bytes received but not yet replayed (standby). */
  replayPendingBytes: number | null;
  /** now() - pg_last_xact_replay_timestamp() on a standby, when known. */
  replayDelaySeconds: number | null;
  walReceiverStatus: string | null;
  timeline: number | null;
  /** Open transactions of the application role (primary). */
  activeApplicationTransactions: number;
  error?: string;
}

/** Row count and exact decimal sums (strings, PostgreSQL's shortest form) of a set of rows. */
export interface LedgerFigures {
  rows: number;
  quantitySum?: string;
  notionalSum?: string;
}

/** Figures per key of one dimension: table → key (account id, symbol) → figures. */
export type LedgerFiguresByKey = Record<string, Record<string, LedgerFigures>>;

/**
 * What a snapshot could hold: rows beyond it were written after it was taken. Load-generator
 * rows (writer_id + seq) are placed by sequence number, rows of other sources by their
 * timestamp against `capturedAt`.
 */
export interface LedgerHorizon {
  capturedAt: string;
  /**
   * Per writer (orders, fills and risk events together): its highest seq in the snapshot,
   * the seqs below it the snapshot did not hold, and how many rows it held.
   */
  writers: Record<string, { maxSeq: number; gaps: number[]; rows?: number }>;
  /** Per table, the seq up to which rows of writers not in `writers` count as in the snapshot (baselines without per-writer figures). @default 0 */
  maxSeq?: Record<string, number>;
}

/** The promoted cluster's figures split at a baseline's horizon (see LedgerHorizon). */
export interface LedgerHorizonSplit {
  /** The horizon the figures were split at (gaps left out). */
  capturedAt: string;
  writerMaxSeq: Record<string, number>;
  /** Figures of the rows the snapshot could hold: these must equal the baseline's exactly. */
  within: {
    tables: Record<string, LedgerFigures>;
    byAccount: LedgerFiguresByKey;
    byInstrument: LedgerFiguresByKey;
    /** table → writer → rows. */
    byWriter: Record<string, Record<string, number>>;
    balancesByAccount: Record<string, string>;
    positionsByAccountInstrument: Record<string, string>;
    /** Writers with fewer rows than the snapshot: the seqs it held (within the gap window below the writer's highest) that are gone. */
    missingSeqs?: Record<string, number[]>;
  };
  /** Rows written after the snapshot (expected; reported, not SEV-1). */
  after: {
    /** table → rows. */
    tables: Record<string, number>;
    /** table → account → rows. */
    byAccount: Record<string, Record<string, number>>;
    /** table → instrument → rows. */
    byInstrument: Record<string, Record<string, number>>;
    /** table → writer → rows. */
    byWriter: Record<string, Record<string, number>>;
    /** Sequence ranges per writer over orders, fills and risk events together; `truncated` when capped. */
    writerRanges: Record<string, { ranges: [number, number][]; truncated: boolean }>;
    /** table → rows without a writer id, timestamped after `capturedAt`. */
    untracked: Record<string, number>;
  };
}

/** Counts, sums and balances over the canonical tables, comparable across clusters. */
export interface LedgerAggregates {
  capturedAt: string;
  lsn: string | null;
  tables: Record<string, LedgerFigures>;
  /** `ACC-0001:USD` → balance. */
  balancesByAccount: Record<string, string>;
  /** `ACC-0001:AAPL` → net quantity. */
  positionsByAccountInstrument: Record<string, string>;
  maxSeq: Record<string, number>;
  /** orders, fills and risk_events per account. Absent in aggregates captured before it existed. */
  byAccount?: LedgerFiguresByKey;
  /** orders, fills and risk_events per instrument (rows without one are counted per table and account only). */
  byInstrument?: LedgerFiguresByKey;
  /** table → writer id → its rows and highest seq (load-generator rows only). */
  byWriter?: Record<string, Record<string, { rows: number; maxSeq: number }>>;
  /** writer id → seqs below its highest (within a bounded window) that no canonical table holds: in flight or failed when captured. */
  writerGaps?: Record<string, number[]>;
  /** Present when read against a baseline's horizon. */
  horizon?: LedgerHorizonSplit;
}

export interface LedgerAggregatesOptions {
  /** Also split every figure at this horizon (taken from the baseline being reconciled against). */
  horizon?: LedgerHorizon;
}

export interface PostgresAdapter {
  /** The region's writer (before failover) or standby (the target). */
  status(): Promise<PostgresNodeStatus>;
  /** Make it refuse writes (read-only + terminate application sessions) and verify a write is refused. */
  fence(): Promise<{ alreadyDone: boolean; terminatedSessions: number; verifiedWriteRefused: boolean }>;
  /** Lift a fence (failback, or undoing a drill's fence). */
  unfence(): Promise<{ alreadyDone: boolean }>;
  /** Standby: wait until everything received is replayed; throws NotReadyYetError when not within the timeout. */
  waitForReplay(
    timeoutMs: number,
  ): Promise<{ receiveLsn: string | null; replayLsn: string | null; waitedMs: number }>;
  /** Standby → primary (pg_promote / PromoteReadReplica / global cluster failover); confirms it is writable. */
  promote(): Promise<{ alreadyDone: boolean; timeline: number | null; mechanism: string }>;
  /** Aggregates in one consistent snapshot; with a horizon, also split into what a baseline could hold and what came after. */
  ledgerAggregates(options?: LedgerAggregatesOptions): Promise<LedgerAggregates>;
  /** Of the given (writer, seq) acknowledged writes of a canonical table, those absent here. */
  missingSequences(
    table: 'orders' | 'fills' | 'risk_events',
    writerId: string,
    seqs: number[],
  ): Promise<number[]>;
  close(): Promise<void>;
}

// ---------- Kafka / MirrorMaker 2 ----------

export interface TopicReplicationLag {
  topic: string;
  /** Messages on the source not yet on the mirror, summed over partitions. */
  messagesBehind: number;
  /** Age of the oldest unmirrored message; 0 when caught up. */
  lagSeconds: number;
}

export interface TranslatedGroupOffsets {
  group: string;
  /** Mirrored topic on the target → partition → offset to commit. */
  offsets: { topic: string; partition: number; offset: string; upstreamOffset: string }[];
  committed: boolean;
  skippedReason?: 'group-active-on-target' | 'no-checkpoint' | 'already-at-or-beyond';
}

export interface KafkaAdapter {
  health(): Promise<{ reachable: boolean; brokers: number; error?: string }>;
  /** MirrorMaker 2 lag from the source cluster to the target, per critical topic. */
  replicationLag(): Promise<TopicReplicationLag[]>;
  /** Source consumer groups' committed offsets (snapshot into the run record when lag is too high). */
  snapshotSourceOffsets(): Promise<Record<string, Record<string, Record<number, string>>>>;
  /** Translate every group's offsets from MM2 checkpoints and commit them on the target for groups not active there. */
  translateAndCommitOffsets(opts: { dryRun: boolean }): Promise<TranslatedGroupOffsets[]>;
  /** In-sync replicas of each mirrored topic partition against min.insync.replicas on the target. */
  checkIsr(): Promise<
    { topic: string; partition: number; isr: number; minInsyncReplicas: number; ok: boolean }[]
  >;
  /** Consumer groups' lag on the target's mirrored critical topics (end offset − committed offset). */
  consumerLagOnTarget(): Promise<
    { group: string; topic: string; lag: number; partitionsWithoutOffset: number }[]
  >;
  close(): Promise<void>;
}

// ---------- Redis ----------

export interface RedisAdapter {
  status(): Promise<{
    reachable: boolean;
    role: 'master' | 'replica' | 'unknown';
    replicationOffset: number;
    linkUp: boolean | null;
    keys: number;
  }>;
  /** REPLICAOF NO ONE, confirmed by ROLE. */
  promote(): Promise<{ alreadyDone: boolean }>;
  /** Old primary: stop accepting writes (where reachable). */
  fence(): Promise<{ alreadyDone: boolean }>;
  /** Replay the latest feature snapshot after verifying it against its checksum manifest. */
  hydrateFromSnapshot(opts: {
    dryRun: boolean;
  }): Promise<{ snapshot: string; keysWritten: number; verified: boolean; alreadyDone: boolean }>;
  close(): Promise<void>;
}

// ---------- Control plane ----------

export interface DnsCutoverResult {
  method: 'route53-weighted' | 'arc-routing-control';
  alreadyDone: boolean;
  changeId?: string;
  records: { name: string; before: string | null; after: string }[];
}

export interface TrafficRouter {
  /** Which region each trading endpoint sends traffic to now. */
  activeRegions(): Promise<Record<string, string | null>>;
  /**
   * Point every trading endpoint (or only `endpoints`, for a staggered switchover) at the
   * region; returns the change to wait for. ARC routing controls are per region: they move
   * every endpoint whatever `endpoints` says.
   */
  routeTo(
    region: string,
    opts: { dryRun: boolean; endpoints?: readonly ('api' | 'postgresWriter' | 'kafkaBootstrap' | 'redis')[] },
  ): Promise<DnsCutoverResult>;
  /** INSYNC (Route 53 GetChange) or, for routing controls, the control state read back. */
  isChangeComplete(changeId: string): Promise<boolean>;
}

export interface TradingFlags {
  read(): Promise<{
    acceptNewOrders: boolean;
    strategyActivation: 'enabled' | 'disabled';
    activeRegion: string;
    deploymentFreeze: boolean;
  }>;
  set(
    changes: Partial<{
      acceptNewOrders: boolean;
      strategyActivation: 'enabled' | 'disabled';
      activeRegion: string;
      deploymentFreeze: boolean;
    }>,
  ): Promise<{ changed: string[] }>;
}

export interface LockLease {
  application: string;
  owner: string;
  runId: string;
  acquiredAt: string;
  expiresAt: string;
}

export interface LockStore {
  /** Conditional write: succeeds when free, expired, or already ours (re-drive); otherwise throws LockHeldError. */
  acquire(lease: LockLease): Promise<{ alreadyDone: boolean; holder: LockLease }>;
  release(application: string, owner: string): Promise<{ alreadyDone: boolean }>;
  current(application: string): Promise<LockLease | null>;
}

export interface RunRecordStore {
  open(record: {
    runId: string;
    application: string;
    mode: string;
    run: unknown;
  }): Promise<{ alreadyDone: boolean }>;
  /** Appends facts (step outcomes, decisions, offset snapshots) to the run record. */
  append(runId: string, entry: { kind: string; at: string; data: unknown }): Promise<void>;
  close(runId: string, outcome: string): Promise<void>;
  read(runId: string): Promise<{
    runId: string;
    entries: { kind: string; at: string; data: unknown }[];
    outcome?: string;
  } | null>;
}

export interface Notifier {
  /** Publishes one of the runbook's notification templates; dedupe key makes a re-drive not notify twice. */
  notify(message: {
    template: string;
    subject: string;
    body: string;
    severity: 'info' | 'warning' | 'sev1';
    dedupeKey: string;
    attributes?: Record<string, string>;
  }): Promise<{ messageId: string; alreadyDone: boolean }>;
}

export interface EventPublisher {
  publish(event: { detailType: string; detail: Record<string, unknown> }): Promise<{ eventId: string }>;
}

export interface EvidenceStore {
  /** Writes an immutable object (Object Lock retention where supported); returns its key, version and SHA-256. */
  /** `alreadyDone`: the same bytes were already stored under the key (a re-drive writes no second version). */
  put(
    key: string,
    body: Buffer | string,
    contentType: string,
  ): Promise<{
    key: string;
    versionId?: string;
    sha256: string;
    retainUntil?: string;
    alreadyDone?: boolean;
  }>;
}

// ---------- Disposable restore targets (backup validation) ----------

/** A PostgreSQL server restored from a backup, only for validating it; torn down afterwards. */
export interface RestoredPostgres {
  /** `sandbox-postgres` (a data directory + port owned by the sandbox), `rds-instance`, `aurora-cluster`. */
  kind: 'sandbox-postgres' | 'rds-instance' | 'aurora-cluster';
  /** Name of the disposable target (process name, DB instance or cluster identifier). */
  targetId: string;
  backupId: string;
  host: string;
  port: number;
  database: string;
  operatorUser: string;
  applicationUser: string;
  /** From the start of the restore until the server accepted connections, consistent and promoted. */
  restoreMs: number;
  /** Bytes restored, WAL position reached, data directory, AWS status: evidence. */
  details: Record<string, unknown>;
}

/** A canary Redis loaded from a backup's RDB. */
export interface RestoredRedis {
  kind: 'sandbox-redis';
  targetId: string;
  backupId: string;
  host: string;
  port: number;
  restoreMs: number;
  details: Record<string, unknown>;
}

/** What a teardown removed and the proof that nothing of the run is left. */
export interface RestoreTeardown {
  /** One sentence per thing removed. */
  removed: string[];
  /** Nothing was left to remove (a second teardown). */
  alreadyDone: boolean;
  /** Looked for again after removing: must all be empty. */
  leftBehind: { processes: string[]; dataDirectories: string[]; objects: string[] };
}

/**
 * Disposable restore targets of one validation run. Every target is named after the run,
 * so a teardown needs only the run id (it finds what a failed or parallel restore left),
 * is idempotent, and proves by looking again that no process, data directory or object
 * of the run remains.
 */
export interface RestoreTargets {
  restorePostgres(request: { runId: string; backupId: string }): Promise<RestoredPostgres>;
  restoreRedis(request: { runId: string; backupId: string }): Promise<RestoredRedis>;
  teardown(runId: string): Promise<RestoreTeardown>;
}

/** AWS Backup restore testing: the validation result of a restore job (PutRestoreValidationResult). */
export interface RestoreValidationReporter {
  report(result: {
    restoreJobId: string;
    status: 'SUCCESSFUL' | 'FAILED';
    message: string;
  }): Promise<{ reported: boolean }>;
}

// ---------- Rebuilding the old primary as a replica (failback) ----------

/** How a self-managed PostgreSQL node is turned back into a standby. */
export type PostgresRebuildMethod = 'pg_rewind' | 'pg_basebackup';

/** What a rebuilder sees before it acts: is the old primary already a replica of the new one, and how would it be rebuilt. */
export interface PostgresRebuildPlan {
  /** Already replicating from the new primary (streaming standby, read replica, global secondary): nothing to do. */
  alreadyReplica: boolean;
  /** The mechanism a rebuild would use now (`pg_rewind`, `pg_basebackup`, `rds:CreateDBInstanceReadReplica`, …); null when already a replica. */
  method: string | null;
  /** Why that method (timeline history, divergence point, control-file state, what AWS reports). */
  reason: string;
  /** The new primary as seen now (role, timeline, LSN, identifiers). */
  primary: Record<string, unknown>;
  /** The node to rebuild as seen now. */
  replica: Record<string, unknown>;
}

export interface PostgresRebuildResult {
  alreadyDone: boolean;
  /** The mechanism used (see PostgresRebuildPlan.method); `none` when already done. */
  method: string;
  reason: string;
  /** A method tried first that failed, and why (e.g. pg_rewind refused, then pg_basebackup). */
  fallbackFrom?: { method: string; error: string };
  /** LSNs that place the rebuild: divergence point, the new primary's LSN when streaming began, the replica's replay LSN. */
  lsns: Record<string, string | null>;
  /** Phase durations in milliseconds (stop, rewind/copy, start, catch-up, total). */
  timingsMs: Record<string, number>;
  /** Proof it replicates: what the new primary and the replica report afterwards. */
  verification: Record<string, unknown>;
}

/** Turns the old primary of one region into a replica of the new primary in another (the first half of failback). */
export interface PostgresRebuilder {
  inspect(): Promise<PostgresRebuildPlan>;
  /** Observes first (already a replica → `alreadyDone`); `method` forces a self-managed method, `auto` picks pg_rewind when the timelines allow. */
  rebuild(opts: { method: 'auto' | PostgresRebuildMethod }): Promise<PostgresRebuildResult>;
}

export interface RedisReplicaState {
  reachable: boolean;
  role: 'master' | 'replica' | 'unknown';
  /** `host:port` of the master it replicates from, when a replica. */
  master: string | null;
  linkUp: boolean | null;
  replicaOffset: number;
  /** The new primary's master_repl_offset, read at the same time. */
  primaryOffset: number;
  /** A replica of the new primary with the link up and its offset caught up. */
  attached: boolean;
  /** The old primary's write fence (min-replicas-to-write) is still set. */
  fenceSet: boolean;
  keys: number;
  error?: string;
}

/** Re-attaches the old primary's Redis as a replica of the new primary's (REPLICAOF). */
export interface RedisReplicaAttacher {
  inspect(): Promise<RedisReplicaState>;
  attach(opts: { timeoutMs: number }): Promise<{
    alreadyDone: boolean;
    before: RedisReplicaState;
    after: RedisReplicaState;
    /** The old primary's write fence, cleared once it is a replica (it becomes writable only when promoted again). */
    fenceCleared: boolean;
    waitedMs: number;
  }>;
}

/** One replication flow between two regions' Kafka clusters (MirrorMaker 2, MSK Replicator). */
export interface MirrorFlow {
  sourceRegion: string;
  targetRegion: string;
  state: 'running' | 'starting' | 'stopped' | 'failed';
  mechanism: string;
  /** Mirrored topic names on the target (`<sourceAlias>.<topic>`). */
  mirroredTopics: string[];
  detail?: Record<string, unknown>;
}

/** Starts and stops cross-region Kafka replication flows (the sandbox's MirrorMaker 2 process, MSK Replicator on AWS). */
export interface MirrorControl {
  flows(): Promise<MirrorFlow[]>;
  /**
   * Makes `source → target` the running flow, with checkpoints and consumer-group offset sync,
   * after stopping flows the other way; ready once the mirrored topics exist on the target.
   */
  replicate(
    sourceRegion: string,
    targetRegion: string,
  ): Promise<{ alreadyDone: boolean; stopped: MirrorFlow[]; started: MirrorFlow | null; flow: MirrorFlow }>;
}
