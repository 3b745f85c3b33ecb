import fs from 'node:fs';
import { defaultSandboxConfig, parseSandboxConfig, type SandboxConfig } from './config';
import { REPO_ROOT } from './sandbox';

/** The sandbox config from the CLI's flags and optional JSON file; every problem names its source. */
export function configFromArgs(values: {
  name?: string;
  'port-base'?: string;
  sync?: boolean;
  config?: string;
}): SandboxConfig {
  let fromFile: Record<string, unknown> = {};
  if (values.config) {
    let text: string;
    try {
      text = fs.readFileSync(values.config, 'utf8');
    } catch (err) {
      throw new Error(`cannot read --config ${values.config}: ${(err as Error).message}`);
    }
    try {
      fromFile = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`--config ${values.config} is not valid JSON: ${(err as Error).message}`);
    }
  }
  const overrides: Record<string, unknown> = { ...fromFile };
  if (values['port-base'] !== undefined) {
    const portBase = Number(values['port-base']);
    if (!Number.isInteger(portBase))
      throw new Error(`--port-base must be an integer, got '${values['port-base']}'`);
    overrides.portBase = portBase;
  }
  if (values.sync) overrides.postgres = { ...(overrides.postgres as object), synchronous: true };
  const base = defaultSandboxConfig(REPO_ROOT, values.name ?? 'default');
  return parseSandboxConfig(
    { rootDir: base.rootDir, cacheDir: base.cacheDir, ...overrides },
    values.config ? `sandbox config ${values.config}` : 'sandbox config',
  );
}
