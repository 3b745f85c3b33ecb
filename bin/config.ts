import fs from 'node:fs';
import path from 'node:path';
import {
  DeploymentConfigError,
  parseDeploymentConfig,
  type DeploymentConfig,
} from '../lib/deployment-config';

/** The deployment config used when `-c config=<file>` is not given. */
export const DEFAULT_CONFIG_FILE = 'config/sandbox-like.json';

/**
 * Reads and validates the deployment config file (a path from the CDK context, relative to
 * the working directory). The only place the CDK app touches the file system for config.
 */
export function loadDeploymentConfig(file: string = DEFAULT_CONFIG_FILE): DeploymentConfig {
  const resolved = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(resolved, 'utf8');
  } catch (err) {
    throw new DeploymentConfigError(
      `Cannot read the deployment config ${resolved}: ${(err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DeploymentConfigError(
      `The deployment config ${resolved} is not valid JSON: ${(err as Error).message}`,
    );
  }
  return parseDeploymentConfig(json, `deployment config ${file}`);
}
