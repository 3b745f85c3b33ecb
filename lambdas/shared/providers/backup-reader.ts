import { S3BackupObjectHasher } from '../adapters/restore/s3-backup-objects';
import type { BackupReader } from '../backup/contracts';
import { backupServiceFromTopology } from '../backup/environment';
import type { BackupValidationDependencies } from '../backup-validation/dependencies';
import { defineProvider, regionOf, type ProviderContext } from './provider';
import { s3Client } from './s3-client';

/**
 * The backups of the orchestrator's region (lambdas/shared/backup): what the caller passes
 * (the local runner's), else the region's evidence bucket and the topology's backup keys.
 */
export function backupReaderFor(ctx: ProviderContext): BackupReader {
  return ctx.backupReader ?? backupServiceFromTopology(ctx.topology, ctx.region, ctx.aws);
}

/** `backupReader` + `backupObjects`: the orchestrator region's backups (evidence bucket, KMS keys of the topology). */
export const backupReaderProvider = defineProvider<
  Pick<BackupValidationDependencies, 'backupReader' | 'backupObjects'>
>('backupReader', (ctx) => {
  const bucket = regionOf(ctx.topology, ctx.region).aws.evidenceBucket;
  let reader: BackupReader | undefined;
  // Built on first use: a topology without backup keys fails the step that reads backups, not every step.
  const get = () => (reader ??= backupReaderFor(ctx));
  const backupReader: BackupReader = {
    listBackups: (kind) => get().listBackups(kind),
    latestBackup: (kind) => get().latestBackup(kind),
    loadVerifiedManifest: (ref) => get().loadVerifiedManifest(ref),
    openVerifiedArchiveStream: (manifest, name) => get().openVerifiedArchiveStream(manifest, name),
  };
  let backupObjects: S3BackupObjectHasher | undefined;
  const objects = () =>
    (backupObjects ??= new S3BackupObjectHasher({ s3: ctx.aws(ctx.region, 's3', s3Client), bucket }));
  return {
    forRun: () => ({
      backupReader,
      backupObjects: { ciphertextSha256: (key: string) => objects().ciphertextSha256(key) },
    }),
  };
});
