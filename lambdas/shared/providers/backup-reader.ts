import { KMSClient } from '@aws-sdk/client-kms';
import { awsClientConfig } from '../adapters/aws/client-config';
import { S3BackupObjectHasher } from '../adapters/restore/s3-backup-objects';
import type { BackupReader } from '../backup/contracts';
import { backupDataKeys } from '../backup/envelope';
import { BackupObjectStore } from '../backup/object-store';
import { BackupService } from '../backup/service';
import { KmsManifestSigner } from '../backup/signing';
import type { BackupValidationDependencies } from '../backup-validation/dependencies';
import { InvalidInputError } from '../errors';
import { defineProvider, regionOf, type ProviderContext } from './provider';
import { s3Client } from './s3-client';

/**
 * The backups of the orchestrator's region (lambdas/shared/backup): what the caller passes
 * (the local runner, with the sandbox's KMS), else the region's evidence bucket and the
 * topology's backup keys with the function's own KMS client.
 */
export function backupReaderFor(ctx: ProviderContext): BackupReader {
  if (ctx.backupReader) return ctx.backupReader;
  const { aws } = regionOf(ctx.topology, ctx.region);
  if (!aws.backup)
    throw new InvalidInputError(
      `the topology has no backup keys for ${ctx.region} (regions.${ctx.region}.aws.backup): backups cannot be verified`,
    );
  const kms = new KMSClient(awsClientConfig({ region: ctx.region }));
  return new BackupService({
    env: {
      application: ctx.topology.application,
      region: ctx.region,
      bucket: aws.evidenceBucket,
      dataKeyId: aws.backup.dataKeyArn,
      signingKeyId: aws.backup.signingKeyArn,
    },
    store: new BackupObjectStore(ctx.aws(ctx.region, 's3', s3Client), aws.evidenceBucket),
    dataKeys: backupDataKeys(kms, aws.backup.dataKeyArn),
    signer: new KmsManifestSigner(kms, aws.backup.signingKeyArn),
  });
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
