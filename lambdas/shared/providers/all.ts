import { backupReaderProvider } from './backup-reader';
import { backupWriterProvider } from './backup-writer';
import { eventsProvider } from './events';
import { evidenceProvider } from './evidence';
import { flagsProvider } from './flags';
import { kafkaProvider } from './kafka';
import { lockProvider } from './lock';
import { mirrorReplayProvider } from './mirror-replay';
import { notifierProvider } from './notifier';
import { postgresProvider } from './postgres';
import { mirrorControlProvider, postgresRebuildProvider, redisReplicaProvider } from './rebuild';
import { redisProvider } from './redis';
import { restoreTargetsProvider } from './restore-targets';
import { restoreValidationProvider } from './restore-validation';
import { restoredStoresProvider } from './restored-stores';
import { routerProvider } from './router';
import { runRecordsProvider } from './run-records';
import { smokeSinkProvider } from './smoke-sink';

/** Every provider: what the local runner's DependencyPool opens (a deployed step lists only its own). */
export const ALL_PROVIDERS = [
  lockProvider,
  runRecordsProvider,
  notifierProvider,
  eventsProvider,
  flagsProvider,
  routerProvider,
  evidenceProvider,
  postgresProvider,
  kafkaProvider,
  redisProvider,
  smokeSinkProvider,
  postgresRebuildProvider,
  redisReplicaProvider,
  mirrorControlProvider,
  backupReaderProvider,
  backupWriterProvider,
  restoreTargetsProvider,
  restoredStoresProvider,
  mirrorReplayProvider,
  restoreValidationProvider,
] as const;

export {
  eventsProvider,
  evidenceProvider,
  flagsProvider,
  kafkaProvider,
  lockProvider,
  notifierProvider,
  postgresProvider,
  redisProvider,
  routerProvider,
  runRecordsProvider,
  smokeSinkProvider,
  postgresRebuildProvider,
  redisReplicaProvider,
  mirrorControlProvider,
  backupReaderProvider,
  backupWriterProvider,
  restoreTargetsProvider,
  restoredStoresProvider,
  mirrorReplayProvider,
  restoreValidationProvider,
};
