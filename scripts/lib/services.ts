/**
 * NextAct's services as child processes, the way the demo, the end-to-end test and the ops test run
 * them: one process group each (so SIGSTOP/SIGCONT/SIGTERM reach the whole service), output to a log
 * file, readiness from /readyz, figures from /metrics. A service with a known port is registered
 * with the stack's Prometheus (a file_sd targets file) while it runs and unregistered when it is
 * stopped, so a finished run leaves no target behind to raise NextActServiceDown.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');

/**
 * Where the stack's Prometheus reads file_sd targets: PROMETHEUS_TARGETS_DIR, else the one
 * `stack.sh up` wrote into its env file; null when no Prometheus is known.
 */
export function prometheusTargetsDir(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.PROMETHEUS_TARGETS_DIR) return env.PROMETHEUS_TARGETS_DIR;
  const envFile = join(env.NEXTACT_STACK_DIR ? resolve(env.NEXTACT_STACK_DIR) : join(repoRoot, '.stack'), 'env');
  if (!existsSync(envFile)) return null;
  const m = /^PROMETHEUS_TARGETS_DIR='?([^'\n]+)'?$/m.exec(readFileSync(envFile, 'utf8'));
  return m ? m[1]! : null;
}

/** Writes a file_sd targets file for one service; returns its path (null without a targets dir). */
export function registerTarget(name: string, port: number, labels: Record<string, string>, env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = prometheusTargetsDir(env);
  if (!dir || port <= 0) return null;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  // Write then rename: Prometheus may read the folder at any moment.
  writeFileSync(`${file}.tmp`, JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels }], null, 2));
  renameSync(`${file}.tmp`, file);
  return file;
}

export type ServiceName = 'gateway' | 'engine' | 'analytics' | 'simulator';

export interface ServiceProcess {
  name: ServiceName;
  /** Ops HTTP port (0 when the service picks its own). */
  port: number;
  proc: ChildProcess;
  logFile: string;
  /** Set once the process has exited. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  /** Its Prometheus targets file while registered. */
  targetsFile: string | null;
}

export function startService(
  name: ServiceName,
  /** `run`: registers the service with Prometheus under this run label while it runs. */
  options: { env: NodeJS.ProcessEnv; logFile: string; port?: number; args?: string[]; run?: string },
): ServiceProcess {
  const fd = openSync(options.logFile, 'a');
  const proc = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'services', name, 'src', 'main.ts'), ...(options.args ?? [])], {
    cwd: repoRoot,
    env: options.env,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let svc!: ServiceProcess;
  const exited = new Promise<number | null>((done) => {
    proc.once('exit', (code, signal) => {
      svc.exit = { code, signal };
      done(code);
    });
  });
  const port = options.port ?? 0;
  const targetsFile = options.run ? registerTarget(`${options.run}-${name}`, port, { service: name, run: options.run }, options.env) : null;
  svc = { name, port, proc, logFile: options.logFile, exited, targetsFile };
  return svc;
}

/** Signals the service's whole process group; a no-op once it is gone. */
export function signalService(svc: ServiceProcess, signal: NodeJS.Signals): void {
  if (svc.proc.pid === undefined) return;
  try {
    process.kill(-svc.proc.pid, signal);
  } catch {
    // already gone
  }
}

function groupAlive(svc: ServiceProcess): boolean {
  if (svc.proc.pid === undefined) return false;
  try {
    process.kill(-svc.proc.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Removes the service's Prometheus target: it was stopped on purpose, not lost. */
function unregister(svc: ServiceProcess): void {
  if (svc.targetsFile) rmSync(svc.targetsFile, { force: true });
  svc.targetsFile = null;
}

/** Graceful stop (SIGTERM, resuming a stopped process first), SIGKILL after `timeoutMs`; unregisters it from Prometheus. */
export async function stopService(svc: ServiceProcess, timeoutMs = 20_000): Promise<void> {
  unregister(svc);
  if (!groupAlive(svc)) return;
  if (!svc.exit) {
    signalService(svc, 'SIGCONT');
    signalService(svc, 'SIGTERM');
  }
  // The whole group: chdb may still be flushing after the main process handled the signal.
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(svc) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(svc)) signalService(svc, 'SIGKILL');
}

export function logTail(svc: ServiceProcess, lines = 30): string {
  try {
    return readFileSync(svc.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Waits for /readyz 200; fails at once, with the log's tail, if the service exits first. */
export async function waitReady(svc: ServiceProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (svc.exit) throw new Error(`${svc.name} exited before it was ready (${JSON.stringify(svc.exit)}):\n${logTail(svc)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${svc.port}/readyz`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${svc.name} not ready on port ${svc.port} after ${timeoutMs / 1000}s:\n${logTail(svc)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export type Samples = { name: string; labels: Record<string, string>; value: number }[];

/** A service's /metrics as samples; empty when it does not answer. */
export async function scrape(port: number): Promise<Samples> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const out: Samples = [];
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) continue;
      const labels: Record<string, string> = {};
      for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
      out.push({ name: m[1]!, labels, value: Number(m[3]) });
    }
    return out;
  } catch {
    return [];
  }
}

/** Sum of a metric's samples whose labels match `where`. */
export const total = (samples: Samples, name: string, where: Record<string, string> = {}): number =>
  samples.filter((x) => x.name === name && Object.entries(where).every(([k, v]) => x.labels[k] === v)).reduce((n, x) => n + x.value, 0);

/** Sums of a metric's samples by one label. */
export function totalsBy(samples: Samples, name: string, label: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of samples) if (x.name === name) m.set(x.labels[label] ?? '', (m.get(x.labels[label] ?? '') ?? 0) + x.value);
  return m;
}

/** A port that was free a moment ago on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}
