import { inspectRestoredPostgres, inspectRestoredRedis } from '../adapters/restore/restored-stores';
import type { BackupValidationDependencies } from '../backup-validation/dependencies';
import { defineProvider } from './provider';
/** `restoredPostgres` / `restoredRedis`: inspectors of what a restore step returned. */
export const restoredStoresProvider = defineProvider<
  Pick<BackupValidationDependencies, 'restoredPostgres' | 'restoredRedis'>
>('restoredStores', (ctx) => ({
  forRun: () => ({
    restoredPostgres: (target) =>
      inspectRestoredPostgres(target, {
        ...(ctx.postgres?.operatorPassword !== undefined
          ? { operatorPassword: ctx.postgres.operatorPassword }
          : {}),
        ...(ctx.postgres?.ssl !== undefined ? { ssl: ctx.postgres.ssl } : {}),
      }),
    restoredRedis: (target) => inspectRestoredRedis(target),
  }),
}));
