// ESM throughout (middy 5+ ships ESM only): ts-jest transpiles each file as an
// ES module and `npm run build` does the type-checking.
/** @type {import('jest').Config['transform']} */
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true }],
};
const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  transform,
  testEnvironment: 'node',
};

/** @type {import('jest').Config} */
const config = {
  // One test file at a time: integration files start sandboxes of ~1 GiB each on a 2-core machine.
  maxWorkers: 1,
  // Integration tests drive real servers; unit tests finish far below this.
  testTimeout: 180_000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/test/unit/**/*.test.ts',
        '<rootDir>/test/workflow/**/*.test.ts',
        '<rootDir>/test/infrastructure/**/*.test.ts',
      ],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.js',
      globalTeardown: '<rootDir>/test/integration/global-teardown.js',
    },
  ],
};

export default config;
