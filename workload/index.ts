/** The TradePulse workload: load generator, journal of acknowledged writes, reconciliation. */
export {
  startLoadGenerator,
  journalEntryFor,
  defaultWriterId,
  LoadGeneratorOptionsError,
  type LoadGenerator,
  type LoadGeneratorOptions,
  type LoadGeneratorStats,
  type LoadGeneratorSummary,
  type LoadGeneratorEvent,
  type KafkaTarget,
  type ConnectorHooks,
  type StopReason,
  type GeneratorState,
} from './generator';
export {
  JournalWriter,
  JournalSummarizer,
  readJournal,
  summarizeJournal,
  journalSummaryToJson,
  toRanges,
  JournalEntrySchema,
  JOURNAL_FORMAT_VERSION,
  type JournalEntry,
  type PostgresAckEntry,
  type KafkaAckEntry,
  type JournalRecord,
  type JournalSummary,
  type JournalSyncMode,
  type JournalWriterOptions,
  type SinkJournalSummary,
  type KindTotals,
  type KafkaPartitionSummary,
  type TornTail,
  type WriterSeqs,
} from './journal';
export {
  WRITE_KINDS,
  SINKS,
  DEFAULT_RETRY_POLICY,
  type WriteKind,
  type Sink,
  type WriteCounters,
  type RetryPolicy,
  type PerKind,
  type PerSink,
} from './accounting';
export {
  type PostgresEndpoint,
  type EndpointSource,
  type SinkConnection,
  type PostgresAck,
} from './postgres-sink';
export { DEFAULT_TOPICS, kafkaMessageFor, type KafkaAck } from './kafka-sink';
export {
  fetchWriterSeqs,
  reconcileWithDatabase,
  reconcilePostgres,
  reconciliationToJson,
  TABLE_OF_KIND,
  type PostgresReconciliation,
  type Queryable,
} from './reconcile';
export { idempotencyKeyOf, DEFAULT_MIX, type PlannedWrite, type WriteMix } from './write-plan';
export { ACCOUNTS, INSTRUMENTS, TRADABLE_ACCOUNTS, type Account, type Instrument } from './reference-data';
