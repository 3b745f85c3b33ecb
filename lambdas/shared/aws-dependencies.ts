import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
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

/** The topology a deployed step receives, as JSON … */
export const TOPOLOGY_VARIABLE = 'DR_TOPOLOGY';
/** … or, when the JSON does not fit Lambda's 4 KB environment, gzip-compressed and base64-encoded. */
export const TOPOLOGY_GZIP_VARIABLE = 'DR_TOPOLOGY_GZIP';

/** What CDK puts in DR_TOPOLOGY_GZIP. */
export function encodeTopologyForEnvironment(topology: unknown): string {
  return gzipSync(Buffer.from(JSON.stringify(topology), 'utf8'), { level: 9 }).toString('base64');
}

/** The topology JSON text from DR_TOPOLOGY or DR_TOPOLOGY_GZIP, naming the variable when neither is usable. */
export function topologyTextFromEnvironment(env: NodeJS.ProcessEnv = process.env): string {
  const plain = env[TOPOLOGY_VARIABLE];
  if (plain) return plain;
  const packed = env[TOPOLOGY_GZIP_VARIABLE];
  if (!packed)
    throw new InvalidInputError(
      `environment variable ${TOPOLOGY_VARIABLE} (or ${TOPOLOGY_GZIP_VARIABLE}) is not set on this function`,
    );
  try {
    return gunzipSync(Buffer.from(packed, 'base64')).toString('utf8');
  } catch (err) {
    throw new InvalidInputError(`${TOPOLOGY_GZIP_VARIABLE} is not gzip+base64: ${(err as Error).message}`);
  }
}

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
        raw = JSON.parse(topologyTextFromEnvironment());
      } catch (err) {
        throw err instanceof InvalidInputError
          ? err
          : new InvalidInputError(`the topology (DR_TOPOLOGY) is not valid JSON: ${(err as Error).message}`);
      }
      opened = new OpenedProviders<Provided<C>>(
        {
          topology: parseTopology(raw, TOPOLOGY_VARIABLE),
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
