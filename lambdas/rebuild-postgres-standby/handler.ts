import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { postgresRebuildProvider } from '../shared/providers/postgres-rebuild';
import { rebuildPostgresStandbyStep } from './logic';

/** Deployed with only the adapters its logic declares: the PostgreSQL rebuilder. */
export const handler = lambdaHandler(rebuildPostgresStandbyStep, fromEnvironment(postgresRebuildProvider));
