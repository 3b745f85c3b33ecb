import type { BackupReader } from '../backup/contracts';
import type {
  EvidenceStore,
  Notifier,
  RestoredPostgres,
  RestoredRedis,
  RestoreTargets,
  RestoreValidationReporter,
} from '../adapters/contracts';
import type { MirrorReplay } from '../adapters/kafka/mirror-replay';
import type { RestoredPostgresInspector, RestoredRedisInspector } from '../adapters/restore/restored-stores';
import type { Topology } from '../topology';

/** Reads a stored (encrypted) backup object without decrypting it. */
export interface BackupObjectHasher {
  /** SHA-256 and size of the object's bytes as stored, streamed. */
  ciphertextSha256(key: string): Promise<{ sha256: string; bytes: number }>;
}

/**
 * What the backup-validation steps use, beside the topology and region every step gets:
 * the backup reader (lambdas/shared/backup), disposable restore targets, inspectors of what
 * was restored, a replay of the mirrored topics, and the evidence, notification and AWS
 * Backup reporting adapters.
 */
export interface BackupValidationDependencies {
  topology: Topology;
  region: string;
  backupReader: BackupReader;
  backupObjects: BackupObjectHasher;
  restoreTargets: RestoreTargets;
  restoredPostgres(target: RestoredPostgres): RestoredPostgresInspector;
  restoredRedis(target: RestoredRedis): RestoredRedisInspector;
  /** A replay of the mirrored topics on `region`'s cluster (the one MirrorMaker 2 replicates into). */
  mirrorReplay(region: string): MirrorReplay;
  restoreValidation: RestoreValidationReporter;
  evidence: EvidenceStore;
  notifier: Notifier;
}
