import fs from 'node:fs/promises';
import { InvalidInputError } from '../errors';
import { postgresSmokeSink, type SmokeSink } from '../../run-smoke-harness/postgres-smoke-sink';
import type { SmokeDependencies } from '../../run-smoke-harness/logic';
import { defineProvider, regionOf } from './provider';

/** `smokeSink` and `dataset`: the smoke harness's order path on a region's primary, and the DR validation dataset. */
export const smokeSinkProvider = defineProvider<SmokeDependencies>('smokeSink', (ctx) => {
  const smokeSink = (region: string): SmokeSink => {
    const pg = regionOf(ctx.topology, region).postgres;
    return postgresSmokeSink(
      { host: pg.host, port: pg.port, database: pg.database, user: pg.operatorUser },
      pg.applicationUser,
    );
  };
  const dataset = async () => {
    if (!ctx.datasetFile) throw new InvalidInputError('no DR validation dataset file is configured');
    return { name: ctx.datasetFile, csv: await fs.readFile(ctx.datasetFile, 'utf8') };
  };
  return { forRun: () => ({ smokeSink, dataset }) };
});
