import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { awsClientCache } from './adapters/aws/client-config';
import type { DependencyProvider } from './lambda-handler';
import { InvalidInputError } from './errors';
import {
  OpenedProviders,
  runIdOf,
  type BaseDependencies,
  type Provided,
  type Provider,
} from './providers/provider';
import { parseTopology } from './topology';

/** Throws, naming the variable, when the deployment forgot to set it. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new InvalidInputError(`environment variable ${name} is not set on this function`);
  return value;
}

/**
 * A deployed step's dependencies, from exactly the providers its handler lists: the
 * topology CDK put in DR_TOPOLOGY (validated), the function's own region, SDK clients and
 * connections created once per execution environment (on the first invocation, so a bad
 * environment is reported as the step's InvalidInputError rather than an init crash).
 */
export function fromEnvironment<const C extends readonly Provider<object>[]>(
  ...providers: C
): DependencyProvider<BaseDependencies & Provided<C>> {
  let opened: OpenedProviders<Provided<C>> | undefined;
  return (event) => {
    if (!opened) {
      let raw: unknown;
      try {
        raw = JSON.parse(requireEnv('DR_TOPOLOGY'));
      } catch (err) {
        throw err instanceof InvalidInputError
          ? err
          : new InvalidInputError(`DR_TOPOLOGY is not valid JSON: ${(err as Error).message}`);
      }
      opened = new OpenedProviders<Provided<C>>(
        {
          topology: parseTopology(raw, 'DR_TOPOLOGY'),
          region: requireEnv('AWS_REGION'),
          aws: awsClientCache((region) => ({ region })).client,
          datasetFile:
            process.env.DR_VALIDATION_DATASET ??
            path.join(path.dirname(fileURLToPath(import.meta.url)), 'sample.csv'),
        },
        providers,
      );
    }
    return opened.forRun(runIdOf(event), event);
  };
}
