/**
 * Two projects: `unit` (pure logic, fakes allowed, no stack) and `integration` (the real broker,
 * registry and ClickHouse; globalSetup brings the local stack up when it is not running).
 */
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  // ESM-only packages (@platformatic/kafka and its own ESM dependencies): Node 22+ require()s them
  // natively, but jest's module loader does not, so jest alone gets them as CommonJS.
  '/node_modules/@platformatic/.+\\.js$': [
    '@swc/jest',
    { jsc: { target: 'es2022', parser: { syntax: 'ecmascript', importAttributes: true } }, module: { type: 'commonjs' } },
  ],
};
const transformIgnorePatterns = ['/node_modules/(?!@platformatic/)'];

/** @type {import('jest').Config} */
module.exports = {
  // Per-project testTimeout is ignored by jest; integration tests against the real stack need time.
  testTimeout: 120000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/services/*/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/services/*/test/**/*.int.test.ts', '<rootDir>/test/**/*.int.test.ts'],
      globalSetup: '<rootDir>/test/global-setup.js',
    },
  ],
};
