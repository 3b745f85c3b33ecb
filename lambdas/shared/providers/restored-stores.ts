import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientConfig } from '../adapters/aws/client-config';
import type { PasswordSource } from '../adapters/postgres/session';
import { inspectRestoredPostgres, inspectRestoredRedis } from '../adapters/restore/restored-stores';
import type { BackupValidationDependencies } from '../backup-validation/dependencies';
import { sameRegionSecretArn, secretPassword } from './database-secret';
import { defineProvider, regionOf } from './provider';

/**
 * `restoredPostgres` / `restoredRedis`: inspectors of what a restore step returned. A
 * snapshot restored on RDS/Aurora keeps the source's master password: it is read from the
 * secret the topology names for this region's database (its replica in this region), unless
 * the caller passes one; the sandbox's restored copies use trust authentication.
 */
export const restoredStoresProvider = defineProvider<
  Pick<BackupValidationDependencies, 'restoredPostgres' | 'restoredRedis'>
>('restoredStores', (ctx) => {
  let password: PasswordSource | undefined = ctx.postgres?.operatorPassword;
  const secretArn = regionOf(ctx.topology, ctx.region).postgres.passwordSecretArn;
  const operatorPassword = (): PasswordSource | undefined => {
    if (password === undefined && secretArn) {
      const client = ctx.secretsManager ?? new SecretsManagerClient(awsClientConfig({ region: ctx.region }));
      password = secretPassword(client, sameRegionSecretArn(secretArn, ctx.region));
    }
    return password;
  };
  return {
    forRun: () => ({
      restoredPostgres: (target) => {
        const pw = target.kind === 'sandbox-postgres' ? ctx.postgres?.operatorPassword : operatorPassword();
        return inspectRestoredPostgres(target, {
          ...(pw !== undefined ? { operatorPassword: pw } : {}),
          ...(ctx.postgres?.ssl !== undefined ? { ssl: ctx.postgres.ssl } : {}),
        });
      },
      restoredRedis: (target) => inspectRestoredRedis(target),
    }),
  };
});
