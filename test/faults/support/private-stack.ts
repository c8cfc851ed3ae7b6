/**
 * A stack instance of a test's own: scripts/stack.sh on free loopback ports and a private folder,
 * so a test may stop, kill and restart its broker and registry while everyone else's tests keep
 * the shared stack (127.0.0.1:9092/8081). The downloaded jars are shared (NEXTACT_CACHE_DIR).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, repoRoot } from '../../../scripts/lib/services';

export type Component = 'kafka' | 'registry';

export interface PrivateStackOptions {
  /** Start the registry too (default true). */
  registry?: boolean;
  /** A SASL_PLAINTEXT listener requiring SCRAM-SHA-512 for these users (created at format). */
  saslUsers?: Record<string, string>;
  /** Reuse this folder (and its ports file) instead of a fresh temporary one. */
  dir?: string;
}

export interface PrivateStack {
  dir: string;
  /** What services and clients need: KAFKA_BROKERS, SCHEMA_REGISTRY_URL (and KAFKA_SASL_BROKERS). */
  env: Record<string, string>;
  /** What scripts/stack.sh needs to address this instance. */
  stackEnv: NodeJS.ProcessEnv;
  up(...components: Component[]): Promise<string>;
  down(...components: Component[]): Promise<string>;
  /** SIGKILL: no controlled shutdown, as a crashed machine. */
  kill(component: Component): void;
  /** Stops everything and deletes the folder. */
  remove(): Promise<void>;
}

function stackSh(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [join(repoRoot, 'scripts', 'stack.sh'), ...args], { env, cwd: repoRoot, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`stack.sh ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/** Up, down and kill for the instance `stackEnv` names (its NEXTACT_STACK_DIR and ports). */
export function stackControl(stackEnv: NodeJS.ProcessEnv, env: Record<string, string>, components: Component[] = ['kafka', 'registry']): PrivateStack {
  const dir = stackEnv.NEXTACT_STACK_DIR as string;
  return {
    dir,
    env,
    stackEnv,
    up: (...which) => stackSh(stackEnv, ['up', ...(which.length > 0 ? which : components)]),
    down: (...which) => stackSh(stackEnv, ['down', ...(which.length > 0 ? which : components)]),
    kill(component) {
      try {
        const pid = Number(readFileSync(join(dir, 'run', `${component}.pid`), 'utf8').trim());
        if (pid > 0) process.kill(pid, 'SIGKILL');
      } catch {
        // not running
      }
    },
    async remove() {
      await stackSh(stackEnv, ['down', ...components, '--clean']).catch(() => '');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The fault suite's instance, started by test/faults/global-setup.js. */
export function suiteStack(): PrivateStack {
  const raw = process.env.FAULTS_STACK_ENV;
  if (!raw) throw new Error('FAULTS_STACK_ENV is unset: run the fault suite with `npm run test:faults` (its globalSetup starts the instance)');
  const stackEnv = { ...process.env, ...(JSON.parse(raw) as Record<string, string>) };
  return stackControl(stackEnv, { KAFKA_BROKERS: process.env.KAFKA_BROKERS!, SCHEMA_REGISTRY_URL: process.env.SCHEMA_REGISTRY_URL! });
}

export async function privateStack(name: string, options: PrivateStackOptions = {}): Promise<PrivateStack> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `nextact-${name}-`));
  const [kafka, controller, registry, registryMgmt, sasl] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const saslUsers = Object.entries(options.saslUsers ?? {});
  const stackEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NEXTACT_STACK_DIR: dir,
    NEXTACT_CACHE_DIR: process.env.NEXTACT_CACHE_DIR ?? join(repoRoot, '.cache'),
    KAFKA_PORT: String(kafka),
    KAFKA_CONTROLLER_PORT: String(controller),
    KAFKA_METRICS_PORT: '0',
    SCHEMA_REGISTRY_PORT: String(registry),
    SCHEMA_REGISTRY_MGMT_PORT: String(registryMgmt),
    KAFKA_SASL_PORT: saslUsers.length > 0 ? String(sasl) : '0',
    KAFKA_SASL_USERS: saslUsers.map(([u, p]) => `${u}:${p}`).join(','),
    // Small heaps: the machine is shared, and a test broker holds little.
    KAFKA_HEAP_OPTS: process.env.FAULTS_KAFKA_HEAP_OPTS ?? '-Xms128m -Xmx512m',
    REGISTRY_HEAP_OPTS: process.env.FAULTS_REGISTRY_HEAP_OPTS ?? '-Xms96m -Xmx384m',
  };
  const env: Record<string, string> = {
    KAFKA_BROKERS: `127.0.0.1:${kafka}`,
    SCHEMA_REGISTRY_URL: `http://127.0.0.1:${registry}/apis/ccompat/v7`,
  };
  if (saslUsers.length > 0) env.KAFKA_SASL_BROKERS = `127.0.0.1:${sasl}`;
  const stack = stackControl(stackEnv, env, options.registry === false ? ['kafka'] : ['kafka', 'registry']);
  try {
    await stack.up();
  } catch (err) {
    await stack.remove();
    throw err;
  }
  return stack;
}
