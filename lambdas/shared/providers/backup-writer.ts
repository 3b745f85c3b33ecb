import { RDSClient } from '@aws-sdk/client-rds';
import type { BackupWriter } from '../backup/contracts';
import type { BackupTakingDependencies } from '../backup/dependencies';
import { backupServiceFromTopology } from '../backup/environment';
import { backupSourcesFromTopology } from '../backup/sources';
import { BackupTaker } from '../backup/writer';
import { InvalidInputError } from '../errors';
import { defineProvider, type ProviderContext } from './provider';

/**
 * The writer of the orchestrator region's backups: what the caller passes (the sandbox CLI's,
 * which can run pg_basebackup), else one built from the topology — Redis and Kafka of the
 * other region (the primary), PostgreSQL by RDS/Aurora snapshot (a Lambda has no pg_basebackup).
 */
export function backupWriterFor(ctx: ProviderContext): BackupWriter {
  if (ctx.backupWriter) return ctx.backupWriter;
  const others = Object.keys(ctx.topology.regions).filter((r) => r !== ctx.region);
  if (others.length !== 1)
    throw new InvalidInputError(
      `backups from ${ctx.region} need exactly one other region as the source, found ${others.length}`,
    );
  const sourceRegion = others[0]!;
  const sources = backupSourcesFromTopology(ctx.topology, {
    sourceRegion,
    standbyRegion: ctx.region,
    rds: ctx.aws(sourceRegion, 'rds', (c) => new RDSClient(c)),
    ...(ctx.postgres ? { postgresOptions: ctx.postgres } : {}),
  });
  return new BackupTaker(backupServiceFromTopology(ctx.topology, ctx.region, ctx.aws), sources);
}

/** `backupWriter`: takes backups into the orchestrator region's evidence bucket. */
export const backupWriterProvider = defineProvider<BackupTakingDependencies>('backupWriter', (ctx) => {
  let writer: BackupWriter | undefined;
  // Built on first use: a topology without backup keys fails the step that takes backups, not every step.
  const get = () => (writer ??= backupWriterFor(ctx));
  const backupWriter: BackupWriter = {
    takePostgresBackup: (input) => get().takePostgresBackup(input),
    takeRedisBackup: (input) => get().takeRedisBackup(input),
    recordKafkaOffsets: (input) => get().recordKafkaOffsets(input),
  };
  return { forRun: () => ({ backupWriter }) };
});
