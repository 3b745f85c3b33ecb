import fs from 'node:fs';
import path from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { backupService, backupEnvironmentFromTopology } from '../lambdas/shared/backup/environment';
import { backupSourcesFromTopology } from '../lambdas/shared/backup/sources';
import type { BackupService } from '../lambdas/shared/backup/service';
import { BackupTaker } from '../lambdas/shared/backup/writer';
import { topologyFromSandbox } from '../local-runner/sandbox-topology';
import type { SandboxEndpoints } from '../sandbox/endpoints';
import { awsClientConfig } from '../sandbox/moto';
import { REPO_ROOT } from '../sandbox/sandbox';

/** The running local sandbox whose port base (its primary PostgreSQL port) is `portBase`, or null. */
export function sandboxByPortBase(portBase: number): SandboxEndpoints | null {
  const root = path.join(REPO_ROOT, '.sandbox');
  if (!fs.existsSync(root)) return null;
  for (const name of fs.readdirSync(root)) {
    try {
      const e = JSON.parse(
        fs.readFileSync(path.join(root, name, 'endpoints.json'), 'utf8'),
      ) as SandboxEndpoints;
      if (e.primary?.postgres?.port === portBase) return e;
    } catch {
      // not a sandbox, or not running
    }
  }
  return null;
}

export interface SandboxBackups {
  service: BackupService;
  taker: BackupTaker;
  close(): void;
}

/**
 * Backups on a sandbox, through the same topology path as the TakeBackups step: the primary
 * region's stores, PostgreSQL through the secondary region's streaming standby, stored in the
 * secondary (DR) region's evidence bucket under its KMS keys (unless `region` says otherwise).
 */
export function sandboxBackups(
  endpoints: SandboxEndpoints,
  opts: { pgBinDir?: string; region?: string; frameSize?: number; partBytes?: number } = {},
): SandboxBackups {
  const topology = topologyFromSandbox(endpoints);
  const region = opts.region ?? endpoints.secondary.region;
  const s3 = new S3Client(awsClientConfig(endpoints.aws.endpoint, region));
  const kms = new KMSClient(awsClientConfig(endpoints.aws.endpoint, region));
  const service = backupService(
    backupEnvironmentFromTopology(topology, region),
    { s3, kms },
    {
      ...(opts.frameSize !== undefined ? { frameSize: opts.frameSize } : {}),
      ...(opts.partBytes !== undefined ? { partBytes: opts.partBytes } : {}),
    },
  );
  const sources = backupSourcesFromTopology(topology, {
    sourceRegion: endpoints.primary.region,
    standbyRegion: endpoints.secondary.region,
    ...(opts.pgBinDir ? { pgBinDir: opts.pgBinDir } : {}),
  });
  return {
    service,
    taker: new BackupTaker(service, sources),
    close() {
      s3.destroy();
      kms.destroy();
    },
  };
}
