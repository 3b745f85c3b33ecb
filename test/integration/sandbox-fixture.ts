import fs from 'node:fs';
import path from 'node:path';
import { defaultSandboxConfig, type SandboxConfigInput } from '../../sandbox/config';
import { REPO_ROOT, readEndpoints } from '../../sandbox/sandbox';

/** Set by jest's global set-up for the workers: the port base of the sandbox it started. */
const ENV_PORT_BASE = 'TRADEPULSE_TEST_SANDBOX_PORT_BASE';
const FIRST_PORT_BASE = 25500;
const CLAIMS_DIR = path.join(REPO_ROOT, '.sandbox', 'claims');

/** The sandbox jest's global set-up starts for the integration tests (its own name and ports). */
export const testSandboxConfig = (overrides: Partial<SandboxConfigInput> = {}) => {
  const portBase = Number(process.env[ENV_PORT_BASE] ?? FIRST_PORT_BASE);
  return defaultSandboxConfig(REPO_ROOT, `jest-${portBase}`, { portBase, ...overrides });
};

export const testEndpoints = () => readEndpoints(testSandboxConfig());

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Claims a port base no other jest run on this machine is using (several engineers' test
 * runs may overlap), and exports it to the workers through the environment.
 */
export function claimTestPortBase(): number {
  fs.mkdirSync(CLAIMS_DIR, { recursive: true });
  for (let base = FIRST_PORT_BASE; base < FIRST_PORT_BASE + 400; base += 20) {
    const claim = path.join(CLAIMS_DIR, String(base));
    try {
      fs.mkdirSync(claim);
    } catch {
      const owner = Number(fs.readFileSync(path.join(claim, 'pid'), 'utf8').trim() || 0);
      if (owner && alive(owner)) continue;
      fs.rmSync(claim, { recursive: true, force: true });
      try {
        fs.mkdirSync(claim);
      } catch {
        continue;
      }
    }
    fs.writeFileSync(path.join(claim, 'pid'), String(process.pid));
    process.env[ENV_PORT_BASE] = String(base);
    return base;
  }
  throw new Error('no free port base for the test sandbox between 25500 and 25900');
}

export function releaseTestPortBase(): void {
  const base = process.env[ENV_PORT_BASE];
  if (base) fs.rmSync(path.join(CLAIMS_DIR, base), { recursive: true, force: true });
}
