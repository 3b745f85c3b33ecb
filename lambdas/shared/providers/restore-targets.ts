import { RDSClient } from '@aws-sdk/client-rds';
import type { RestoreTargets } from '../adapters/contracts';
import { RdsRestoreTargets } from '../adapters/restore/rds-restore-targets';
import type { BackupValidationDependencies } from '../backup-validation/dependencies';
import { requireEnv } from '../aws-dependencies';
import { backupReaderFor } from './backup-reader';
import { defineProvider, regionOf } from './provider';
/**
 * `restoreTargets`: what the caller passes (the local runner: the sandbox's), else temporary
 * RDS instances / Aurora clusters placed by the function's environment
 * (BACKUP_RESTORE_SUBNET_GROUP, BACKUP_RESTORE_SECURITY_GROUP_IDS, optional
 * BACKUP_RESTORE_INSTANCE_CLASS), created on first use.
 */
export const restoreTargetsProvider = defineProvider<Pick<BackupValidationDependencies, 'restoreTargets'>>(
  'restoreTargets',
  (ctx) => {
    let targets: RestoreTargets | undefined = ctx.restoreTargets;
    const lazy: RestoreTargets = {
      restorePostgres: (r) => resolve().restorePostgres(r),
      restoreRedis: (r) => resolve().restoreRedis(r),
      teardown: (runId) => resolve().teardown(runId),
    };
    const resolve = (): RestoreTargets => {
      if (!targets) {
        const postgres = regionOf(ctx.topology, ctx.region).postgres;
        targets = new RdsRestoreTargets({
          rds: ctx.aws(ctx.region, 'rds', (c) => new RDSClient(c)),
          backups: backupReaderFor(ctx),
          dbSubnetGroupName: requireEnv('BACKUP_RESTORE_SUBNET_GROUP'),
          vpcSecurityGroupIds: requireEnv('BACKUP_RESTORE_SECURITY_GROUP_IDS')
            .split(',')
            .map((s) => s.trim()),
          ...(process.env.BACKUP_RESTORE_INSTANCE_CLASS
            ? { dbInstanceClass: process.env.BACKUP_RESTORE_INSTANCE_CLASS }
            : {}),
          database: postgres.database,
          operatorUser: postgres.operatorUser,
          applicationUser: postgres.applicationUser,
        });
      }
      return targets;
    };
    return { forRun: () => ({ restoreTargets: lazy }) };
  },
);
