// Stops the fault suite's own stack instance (FAULTS_KEEP_STACK=1 leaves it up to inspect).
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  if (process.env.FAULTS_KEEP_STACK || !process.env.FAULTS_STACK_ENV) return;
  execFileSync('bash', [join(__dirname, '..', '..', 'scripts/stack.sh'), 'down', 'kafka', 'registry', '--clean'], {
    env: { ...process.env, ...JSON.parse(process.env.FAULTS_STACK_ENV) },
    stdio: 'ignore',
  });
};
