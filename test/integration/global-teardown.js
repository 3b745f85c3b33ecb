import { tsImport } from 'tsx/esm/api';

export default async function globalTeardown() {
  const { stopSandbox } = await tsImport('../../sandbox/sandbox.ts', import.meta.url);
  const fixture = await tsImport('./sandbox-fixture.ts', import.meta.url);
  await stopSandbox(fixture.testSandboxConfig());
  fixture.releaseTestPortBase();
}
