// Integration tests run against the real stack: bring it up (a no-op when it is running) and
// export its addresses to the test workers. NEXTACT_STACK=external uses the env as given.
const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

module.exports = async () => {
  const root = join(__dirname, '..');
  if (process.env.NEXTACT_STACK !== 'external') {
    execFileSync('bash', [join(root, 'scripts/stack.sh'), 'up'], { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });
  }
  const envFile = join(process.env.NEXTACT_STACK_DIR || join(root, '.stack'), 'env');
  if (process.env.NEXTACT_STACK !== 'external' && existsSync(envFile)) {
    for (const line of readFileSync(envFile, 'utf8').split('\n')) {
      const m = /^(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
      if (m && process.env[m[1]] === undefined) process.env[m[1]] = m[2].replace(/^["']|["']$/g, '');
    }
  }
};
