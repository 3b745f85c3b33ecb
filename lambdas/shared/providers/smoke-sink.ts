import fs from 'node:fs/promises';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientConfig } from '../adapters/aws/client-config';
import { InvalidInputError } from '../errors';
import { postgresSmokeSink, type SmokeSink } from '../../run-smoke-harness/postgres-smoke-sink';
import type { SmokeDependencies } from '../../run-smoke-harness/logic';
import { operatorPasswordOf } from './database-secret';
import { defineProvider, regionOf } from './provider';

/**
 * `smokeSink` and `dataset`: the smoke harness's order path on a region's primary (as the
 * operator, password from the topology's secret in this region), and the DR validation dataset.
 */
export const smokeSinkProvider = defineProvider<SmokeDependencies>('smokeSink', (ctx) => {
  let secrets: SecretsManagerClient | undefined;
  const secretsManager = () =>
    (secrets ??= ctx.secretsManager ?? new SecretsManagerClient(awsClientConfig({ region: ctx.region })));
  const smokeSink = (region: string): SmokeSink => {
    const pg = regionOf(ctx.topology, region).postgres;
    const password = ctx.postgres?.operatorPassword ?? operatorPasswordOf(ctx, region, secretsManager);
    return postgresSmokeSink(
      {
        host: pg.host,
        port: pg.port,
        database: pg.database,
        user: pg.operatorUser,
        ...(password !== undefined ? { password } : {}),
      },
      pg.applicationUser,
    );
  };
  const dataset = async () => {
    if (!ctx.datasetFile) throw new InvalidInputError('no DR validation dataset file is configured');
    return { name: ctx.datasetFile, csv: await fs.readFile(ctx.datasetFile, 'utf8') };
  };
  return { forRun: () => ({ smokeSink, dataset }) };
});
