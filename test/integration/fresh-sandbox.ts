import path from 'node:path';
import type { SandboxConfig, SandboxConfigInput } from '../../sandbox/config';
import type { SandboxEndpoints } from '../../sandbox/endpoints';
import { REPO_ROOT, startSandbox, stopSandbox } from '../../sandbox/sandbox';
import { testSandboxConfig } from './sandbox-fixture';

/**
 * A sandbox of its own for a test file that changes the world (fences, promotes, cuts
 * over), so the shared jest sandbox stays pristine. Each file passes a port base no other
 * file uses (ranges of 10; see the table in the README's testing section).
 */
export function useFreshSandbox(
  name: string,
  portBase: number,
  overrides: Partial<SandboxConfigInput> = {},
): (() => SandboxEndpoints) & { config: SandboxConfig } {
  const config = testSandboxConfig({
    ...overrides,
    portBase,
    rootDir: path.join(REPO_ROOT, '.sandbox', `fresh-${name}`),
  });
  let endpoints: SandboxEndpoints | undefined;
  beforeAll(async () => {
    endpoints = await startSandbox(config);
  });
  afterAll(async () => {
    await stopSandbox(config);
  });
  const get = () => {
    if (!endpoints) throw new Error(`fresh sandbox ${name} did not start`);
    return endpoints;
  };
  return Object.assign(get, { config });
}
