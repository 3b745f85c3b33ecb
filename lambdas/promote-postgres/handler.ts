import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { postgresProvider } from '../shared/providers/postgres';
import { promotePostgresStep } from './logic';

/** Deployed with only the adapters its logic declares: postgres. */
export const handler = lambdaHandler(promotePostgresStep, fromEnvironment(postgresProvider));
