// Integration tests run against the real stack: bring it up (a no-op when it is running) and
// export its addresses to the test workers. NEXTACT_STACK=external uses the env as given, and
// first checks that Kafka, the registry and ClickHouse answer: one message per component that does
// not, then the run stops (instead of every suite failing on ECONNREFUSED).
const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { connect } = require('node:net');
const { join } = require('node:path');

const TIMEOUT_MS = 3_000;

function tcpReachable(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port), timeout: TIMEOUT_MS });
    const done = (error) => {
      socket.destroy();
      resolve(error);
    };
    socket.once('connect', () => done(null));
    socket.once('timeout', () => done(`no answer within ${TIMEOUT_MS / 1000} s`));
    socket.once('error', (err) => done(err.code || err.message));
  });
}

async function httpReachable(url, headers = {}) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), headers });
    return res.ok ? null : `HTTP ${res.status}`;
  } catch (err) {
    return err.cause?.code || err.message;
  }
}

/** One line per component that does not answer; empty when all do. */
async function unreachable(env) {
  const problems = [];
  const brokers = (env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((b) => b.trim());
  const kafka = await Promise.all(
    brokers.map(async (b) => {
      const i = b.lastIndexOf(':');
      const error = await tcpReachable(b.slice(0, i), b.slice(i + 1));
      return error && `${b} (${error})`;
    }),
  );
  // Any one bootstrap server is enough for a client.
  if (kafka.every(Boolean)) problems.push(`Kafka: no bootstrap server answers: ${kafka.join(', ')} (KAFKA_BROKERS)`);
  const registry = (env.SCHEMA_REGISTRY_URL || 'http://127.0.0.1:8081/apis/ccompat/v7').replace(/\/$/, '');
  const auth = env.SCHEMA_REGISTRY_USERNAME
    ? { authorization: `Basic ${Buffer.from(`${env.SCHEMA_REGISTRY_USERNAME}:${env.SCHEMA_REGISTRY_PASSWORD || ''}`).toString('base64')}` }
    : {};
  const registryError = await httpReachable(`${registry}/subjects`, auth);
  if (registryError) problems.push(`Schema registry: ${registry}/subjects does not answer (${registryError}) (SCHEMA_REGISTRY_URL)`);
  if (env.CLICKHOUSE_URL) {
    const chError = await httpReachable(`${env.CLICKHOUSE_URL.replace(/\/$/, '')}/ping`);
    if (chError) problems.push(`ClickHouse: ${env.CLICKHOUSE_URL}/ping does not answer (${chError}) (CLICKHOUSE_URL; unset it to use embedded chdb)`);
  } else {
    try {
      require.resolve('chdb');
    } catch {
      problems.push('ClickHouse: CLICKHOUSE_URL is unset and the embedded engine (npm package chdb) is not installed: run npm install');
    }
  }
  return problems;
}

module.exports = async () => {
  const root = join(__dirname, '..');
  const external = process.env.NEXTACT_STACK === 'external';
  if (!external) {
    execFileSync('bash', [join(root, 'scripts/stack.sh'), 'up'], { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });
  }
  const envFile = join(process.env.NEXTACT_STACK_DIR || join(root, '.stack'), 'env');
  if (!external && existsSync(envFile)) {
    for (const line of readFileSync(envFile, 'utf8').split('\n')) {
      const m = /^(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
      if (m && process.env[m[1]] === undefined) process.env[m[1]] = m[2].replace(/^["']|["']$/g, '');
    }
  }
  if (external) {
    const problems = await unreachable(process.env);
    if (problems.length > 0) {
      const message = [
        `NEXTACT_STACK=external: ${problems.length} component(s) unreachable, so no integration test can run:`,
        ...problems.map((p) => `  - ${p}`),
        'Start them, point the variables above at them, or unset NEXTACT_STACK to let scripts/stack.sh start a local stack.',
      ].join('\n');
      // Printed as is (jest would add a stack trace to a thrown Error), then the run stops.
      process.stderr.write(`\n${message}\n\n`);
      process.exit(1);
    }
  }
};

module.exports.unreachable = unreachable;
