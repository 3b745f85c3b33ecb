import type {
  EventPublisher,
  EvidenceStore,
  KafkaAdapter,
  LockStore,
  MirrorControl,
  Notifier,
  PostgresAdapter,
  PostgresRebuilder,
  RedisAdapter,
  RedisReplicaAttacher,
  RunRecordStore,
  TradingFlags,
  TrafficRouter,
} from './adapters/contracts';
import type { Topology } from './topology';

/**
 * Everything a step may touch, bound to the orchestrator's own region (static stability:
 * the control-plane resources are the target region's). Built once per process: from the
 * environment in a Lambda, from the sandbox in the local runner, from fakes in unit tests.
 */
export interface DrDependencies {
  topology: Topology;
  /** The region this orchestrator runs in. */
  region: string;
  lock: LockStore;
  runRecords: RunRecordStore;
  notifier: Notifier;
  events: EventPublisher;
  /** Trading flags of a region: the orchestrator's own are authoritative, others are best effort. */
  flags(region: string): TradingFlags;
  router: TrafficRouter;
  evidence: EvidenceStore;
  postgres(region: string): PostgresAdapter;
  /** MirrorMaker 2 replication from `source` into `target`. */
  kafka(source: string, target: string): KafkaAdapter;
  redis(region: string): RedisAdapter;
  /** Acknowledged-writes journal of the load generator (drills on the sandbox only). */
  journal?: AcknowledgedJournal;
  sleep(ms: number): Promise<void>;
}

export interface AcknowledgedJournal {
  /** The load generator's acknowledged PostgreSQL writes, per canonical table and writer. */
  acknowledgedPostgresWrites(): Promise<
    { table: 'orders' | 'fills' | 'risk_events'; writerId: string; seqs: number[] }[]
  >;
}

/**
 * What the failback's rebuild steps need: the old primary region's stores turned into
 * replicas of the new primary's. Arguments name the replication source (the current
 * primary) first, then the region being rebuilt.
 */
export interface RebuildDependencies {
  /** Rebuilds `replicaRegion`'s PostgreSQL as a replica of `primaryRegion`'s. */
  postgresRebuilder(primaryRegion: string, replicaRegion: string): PostgresRebuilder;
  /** Re-attaches `replicaRegion`'s Redis as a replica of `primaryRegion`'s. */
  redisReplica(primaryRegion: string, replicaRegion: string): RedisReplicaAttacher;
  /** Starts and stops the cross-region Kafka replication flows. */
  mirrorControl(): MirrorControl;
}
