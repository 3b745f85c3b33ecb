import { defaultSandboxConfig, type SandboxConfigInput } from '../../sandbox/config';
import { REPO_ROOT, readEndpoints } from '../../sandbox/sandbox';

/** The sandbox jest's global set-up starts for the integration tests (its own name and ports). */
export const testSandboxConfig = (overrides: Partial<SandboxConfigInput> = {}) =>
  defaultSandboxConfig(REPO_ROOT, 'jest', { portBase: 25500, ...overrides });

export const testEndpoints = () => readEndpoints(testSandboxConfig());
