// Starts the fault suite's own stack instance (Kafka + registry) on free loopback ports in a
// folder of its own, and exports its addresses to the tests (they run in this process: maxWorkers 1
// and --runInBand). The shared stack at 9092/8081 is never touched.
const { execFileSync } = require('node:child_process');
const { mkdirSync, rmSync } = require('node:fs');
const { createServer } = require('node:net');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');

function freePort() {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

module.exports = async () => {
  const dir = process.env.FAULTS_STACK_DIR || join(root, '.stack', 'faults');
  const results = join(dir, 'results');
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  const [kafka, controller, registry, mgmt] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const stackEnv = {
    NEXTACT_STACK_DIR: dir,
    NEXTACT_CACHE_DIR: process.env.NEXTACT_CACHE_DIR || join(root, '.cache'),
    KAFKA_PORT: String(kafka),
    KAFKA_CONTROLLER_PORT: String(controller),
    KAFKA_METRICS_PORT: '0',
    SCHEMA_REGISTRY_PORT: String(registry),
    SCHEMA_REGISTRY_MGMT_PORT: String(mgmt),
    KAFKA_SASL_PORT: '0',
    KAFKA_HEAP_OPTS: process.env.FAULTS_KAFKA_HEAP_OPTS || '-Xms128m -Xmx512m',
    REGISTRY_HEAP_OPTS: process.env.FAULTS_REGISTRY_HEAP_OPTS || '-Xms96m -Xmx384m',
  };
  const t0 = Date.now();
  // A fresh instance each run: a broker left from an interrupted run may hold stale data and ports.
  execFileSync('bash', [join(root, 'scripts/stack.sh'), 'down', 'kafka', 'registry', '--clean'], {
    env: { ...process.env, ...stackEnv },
    stdio: 'ignore',
  });
  execFileSync('bash', [join(root, 'scripts/stack.sh'), 'up', 'kafka', 'registry'], {
    env: { ...process.env, ...stackEnv },
    stdio: ['ignore', 'inherit', 'inherit'],
    cwd: root,
  });
  Object.assign(process.env, stackEnv, {
    FAULTS_STACK_ENV: JSON.stringify(stackEnv),
    FAULTS_RESULTS_DIR: results,
    FAULTS_STACK_START_MS: String(Date.now() - t0),
    KAFKA_BROKERS: `127.0.0.1:${kafka}`,
    SCHEMA_REGISTRY_URL: `http://127.0.0.1:${registry}/apis/ccompat/v7`,
    // The fault tests read metrics from the services they start; no Prometheus target files.
    PROMETHEUS_TARGETS_DIR: '',
  });
};
