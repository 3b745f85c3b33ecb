import type { BackupWriter } from './contracts';

/** What the TakeBackups step uses: the writer of the region's backups. */
export interface BackupTakingDependencies {
  backupWriter: BackupWriter;
}
