// Jest loads global set-up outside its ESM transform, so the TypeScript sandbox is
// imported through tsx, the same loader `npm run sandbox` uses.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const { startSandbox } = await tsImport('../../sandbox/sandbox.ts', import.meta.url);
  const { terminalProgress } = await tsImport('../../sandbox/progress.ts', import.meta.url);
  const fixture = await tsImport('./sandbox-fixture.ts', import.meta.url);
  fixture.claimTestPortBase();
  process.stderr.write('\n');
  try {
    await startSandbox(fixture.testSandboxConfig(), terminalProgress('jest sandbox'));
  } catch (err) {
    fixture.releaseTestPortBase();
    throw err;
  }
}
