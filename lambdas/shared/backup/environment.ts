import { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsClientSource } from '../adapters/aws/client-config';
import { InvalidInputError } from '../errors';
import { s3Client } from '../providers/s3-client';
import type { Topology } from '../topology';
import type { BackupEnvironment } from './contracts';
import { backupDataKeys } from './envelope';
import { BackupObjectStore } from './object-store';
import { BackupService } from './service';
import { KmsManifestSigner } from './signing';

/**
 * Where a region's backups live: its evidence bucket, its KMS data-key key and its
 * signing key (topology `regions.<region>.aws`). Backups of the primary's stores are kept
 * in the DR (secondary) region by default — where a restore is needed once the primary
 * region is lost — and validated there.
 */
export function backupEnvironmentFromTopology(topology: Topology, region: string): BackupEnvironment {
  const aws = topology.regions[region]?.aws;
  if (!aws) throw new InvalidInputError(`region '${region}' is not in the topology`, { field: 'region' });
  if (!aws.backup)
    throw new InvalidInputError(
      `region '${region}' has no backup keys (topology regions.${region}.aws.backup.dataKeyArn / signingKeyArn)`,
      { field: `regions.${region}.aws.backup` },
    );
  return {
    application: topology.application,
    region,
    bucket: aws.evidenceBucket,
    dataKeyId: aws.backup.dataKeyArn,
    signingKeyId: aws.backup.signingKeyArn,
  };
}

export function backupService(
  env: BackupEnvironment,
  clients: { s3: S3Client; kms: KMSClient },
  opts: { frameSize?: number; partBytes?: number; now?: () => Date } = {},
): BackupService {
  return new BackupService({
    env,
    store: new BackupObjectStore(clients.s3, env.bucket, opts.partBytes),
    dataKeys: backupDataKeys(clients.kms, env.dataKeyId),
    signer: new KmsManifestSigner(clients.kms, env.signingKeyId),
    ...(opts.frameSize !== undefined ? { frameSize: opts.frameSize } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
}

/** The backup service of `region` over a process's shared SDK clients. */
export function backupServiceFromTopology(
  topology: Topology,
  region: string,
  aws: AwsClientSource,
): BackupService {
  return backupService(backupEnvironmentFromTopology(topology, region), {
    s3: aws(region, 's3', s3Client),
    kms: aws(region, 'kms', (c) => new KMSClient(c)),
  });
}
