/**
 * The fault suite (`npm run test:faults`, issue 14): its own jest run, outside `npm test`, because
 * it stops, kills and restarts Kafka and the registry. It does that to a stack instance of its own
 * (global-setup.js starts one on free loopback ports), never to the shared one.
 * FAULTS_PROFILE=ci (`npm run test:faults:ci`) is the shorter variant CI runs; full is the default.
 */
const path = require('node:path');
const root = require('../../jest.config.js');

const base = root.projects[0];

/** @type {import('jest').Config} */
module.exports = {
  rootDir: path.join(__dirname, '..', '..'),
  testEnvironment: 'node',
  transform: base.transform,
  transformIgnorePatterns: base.transformIgnorePatterns,
  testMatch: ['<rootDir>/test/faults/**/*.fault.ts'],
  globalSetup: '<rootDir>/test/faults/global-setup.js',
  globalTeardown: '<rootDir>/test/faults/global-teardown.js',
  reporters: ['default', '<rootDir>/test/faults/summary-reporter.js'],
  // One fault at a time: they share the instance, and each takes it down in its own way.
  maxWorkers: 1,
  testTimeout: 600_000,
};
