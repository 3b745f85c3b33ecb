import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAwsClients, type AwsClients } from './adapters/aws/clients';
import { DependencyPool, runIdOf, type AllDependencies } from './build-dependencies';
import { InvalidInputError } from './errors';
import { parseTopology } from './topology';

/** Throws, naming the variable, when the deployment forgot to set it. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new InvalidInputError(`environment variable ${name} is not set on this function`);
  return value;
}

let pool: DependencyPool | undefined;

/**
 * A deployed step's dependencies: the topology CDK put in DR_TOPOLOGY (validated), the
 * function's own region, clients and connections created once per execution environment.
 */
export function dependenciesFromEnvironment(): (event: unknown) => AllDependencies {
  if (!pool) {
    let raw: unknown;
    try {
      raw = JSON.parse(requireEnv('DR_TOPOLOGY'));
    } catch (err) {
      throw err instanceof InvalidInputError
        ? err
        : new InvalidInputError(`DR_TOPOLOGY is not valid JSON: ${(err as Error).message}`);
    }
    const clients = new Map<string, AwsClients>();
    pool = new DependencyPool({
      topology: parseTopology(raw, 'DR_TOPOLOGY'),
      region: requireEnv('AWS_REGION'),
      aws: (region) => {
        if (!clients.has(region)) clients.set(region, createAwsClients({ region }));
        return clients.get(region)!;
      },
      datasetFile:
        process.env.DR_VALIDATION_DATASET ??
        path.join(path.dirname(fileURLToPath(import.meta.url)), 'sample.csv'),
    });
  }
  const current = pool;
  return (event) => current.forRun(runIdOf(event));
}
