/**
 * Two projects: `unit` (pure logic, fakes allowed, no stack) and `integration` (the real broker,
 * registry and ClickHouse; globalSetup brings the local stack up when it is not running).
 */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] };

/** @type {import('jest').Config} */
module.exports = {
  // Per-project testTimeout is ignored by jest; integration tests against the real stack need time.
  testTimeout: 120000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/services/*/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/services/*/test/**/*.int.test.ts', '<rootDir>/test/**/*.int.test.ts'],
      globalSetup: '<rootDir>/test/global-setup.js',
    },
  ],
};
