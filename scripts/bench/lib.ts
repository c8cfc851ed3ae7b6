/**
 * Shared pieces of `npm run bench`: the run context (mode, sizes, logs, profiles), black-box
 * service processes (child process groups from scripts/lib/services.ts, configured by env), and
 * what is read from outside them: /readyz, /metrics, group offsets, forced-GC memory through the
 * inspector, CPU profiles.
 */

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Config,
  codecFromConfig,
  createLogger,
  deletePrefixSubjects,
  type KafkaClient,
  kafkaFromConfig,
  type Logger,
  loadConfig,
  provision,
  type RecordCodec,
  sleep,
  topicNames,
} from '@nextact/core';
import {
  freePort,
  logTail,
  repoRoot,
  type Samples,
  type ServiceName,
  type ServiceProcess,
  scrape,
  startService,
  stopService,
  waitReady,
} from '../lib/services';

export interface Sizes {
  brokerRecords: number;
  gatewayEvents: number;
  engineEvents: number;
  engineCustomers: number;
  latencySeconds: number;
  sinkEvents: number;
  /** Journeys of the large-state scenarios; 0 skips them (quick mode). */
  bigJourneys: number;
  /** Events measured on top of the large state. */
  bigEvents: number;
}

export function sizesFor(quick: boolean, scale: number): Sizes {
  const s = (n: number, min = 500) => Math.max(min, Math.round(n * scale));
  return quick
    ? {
        brokerRecords: s(100_000, 2_000),
        gatewayEvents: s(15_000),
        engineEvents: s(30_000),
        engineCustomers: s(10_000, 100),
        latencySeconds: Math.max(3, Math.round(8 * scale)),
        sinkEvents: s(20_000),
        bigJourneys: 0,
        bigEvents: 0,
      }
    : {
        brokerRecords: s(1_000_000, 2_000),
        gatewayEvents: s(100_000),
        engineEvents: s(150_000),
        engineCustomers: s(10_000, 100),
        latencySeconds: Math.max(3, Math.round(20 * scale)),
        sinkEvents: s(200_000),
        bigJourneys: s(1_000_000),
        bigEvents: s(100_000),
      };
}

export interface BenchContext {
  quick: boolean;
  sizes: Sizes;
  partitions: number;
  /** Folder of this run: service logs, profiles, temporary state. */
  runDir: string;
  /** Set with --profile: each scenario's processes write CPU profiles under runDir/profiles. */
  profile: boolean;
  logger: Logger;
  say(msg: string): void;
  /** Extra figures and notes, recorded in the JSON beside `figures`. */
  details: Record<string, unknown>;
  /** Top functions by self time per scenario process (with --profile). */
  profiles: Record<string, ProfileEntry[]>;
}

export interface ProfileEntry {
  fn: string;
  selfMs: number;
  pct: number;
}

/** A topic prefix of its own for one scenario, with a client, a codec, and a cleanup that deletes it all. */
export interface Scope {
  prefix: string;
  env: NodeJS.ProcessEnv;
  config: Config;
  kafka: KafkaClient;
  codec: RecordCodec;
  topics: ReturnType<typeof topicNames>;
  drop(): Promise<void>;
}

export async function openScope(ctx: BenchContext, name: string, provisioned = true): Promise<Scope> {
  const prefix = `bench-${name}-${randomUUID().slice(0, 8)}.`;
  const env: NodeJS.ProcessEnv = { ...process.env, NEXTACT_TOPIC_PREFIX: prefix, NEXTACT_PARTITIONS: String(ctx.partitions), LOG_LEVEL: 'warn' };
  const config = loadConfig(env);
  const kafka = kafkaFromConfig(config, ctx.logger, `bench-${name}`);
  const codec = codecFromConfig(config, ctx.logger);
  if (provisioned) await provision(config, kafka, codec, ctx.logger);
  return {
    prefix,
    env,
    config,
    kafka,
    codec,
    topics: topicNames(prefix),
    async drop() {
      const admin = await kafka.admin();
      try {
        const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
        if (mine.length > 0) await admin.deleteTopics(mine);
      } finally {
        await admin.close();
      }
      // The scope's subjects too, so runs do not pile up in the registry.
      await deletePrefixSubjects(config.schemaRegistryUrl, prefix);
    },
  };
}

export interface Service extends ServiceProcess {
  /** Inspector port when started with one (engine memory readings). */
  inspectPort?: number;
}

/**
 * Starts a service's real main.ts as its own process group. Node flags go through NODE_OPTIONS
 * (--cpu-prof with --profile, the inspector for memory readings, a larger heap when asked).
 */
export async function startBenchService(
  ctx: BenchContext,
  name: ServiceName,
  label: string,
  env: NodeJS.ProcessEnv,
  options: { portEnv?: string; args?: string[]; inspect?: boolean; maxOldSpaceMb?: number } = {},
): Promise<Service> {
  const nodeOptions: string[] = [];
  if (ctx.profile) {
    const dir = join(ctx.runDir, 'profiles', label);
    mkdirSync(dir, { recursive: true });
    nodeOptions.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  let inspectPort: number | undefined;
  if (options.inspect) {
    inspectPort = await freePort();
    nodeOptions.push(`--inspect=127.0.0.1:${inspectPort}`);
  }
  if (options.maxOldSpaceMb) nodeOptions.push(`--max-old-space-size=${options.maxOldSpaceMb}`);
  const port = options.portEnv ? await freePort() : 0;
  const fullEnv: NodeJS.ProcessEnv = { ...env, NODE_OPTIONS: [env.NODE_OPTIONS ?? '', ...nodeOptions].join(' ').trim() };
  if (options.portEnv) fullEnv[options.portEnv] = String(port);
  const svc: Service = startService(name, { env: fullEnv, logFile: join(ctx.runDir, `${label}.log`), port, args: options.args });
  svc.inspectPort = inspectPort;
  return svc;
}

export { logTail, scrape, stopService, waitReady };

/** Freezes a service's process group (SIGSTOP) so a backlog can be produced before it runs. */
export function pause(svc: ServiceProcess): void {
  if (svc.proc.pid !== undefined) process.kill(-svc.proc.pid, 'SIGSTOP');
}

export function resume(svc: ServiceProcess): void {
  if (svc.proc.pid !== undefined) process.kill(-svc.proc.pid, 'SIGCONT');
}

/** Runs a process to completion (the simulator, Kafka's perf tools); its output, or an error with the log tail. */
export async function runToEnd(svc: ServiceProcess, timeoutMs: number): Promise<string> {
  const timer = setTimeout(() => stopService(svc, 5_000), timeoutMs);
  const code = await svc.exited;
  clearTimeout(timer);
  const out = readFileSync(svc.logFile, 'utf8');
  if (code !== 0) throw new Error(`${svc.name} exited with ${code}:\n${logTail(svc)}`);
  return out;
}

/** A bench script of its own (not a service) as a process; its stdout, or an error with its stderr. */
export function runScript(ctx: BenchContext, label: string, script: string, args: string[], timeoutMs = 600_000): Promise<string> {
  const nodeOptions = ctx.profile ? `--cpu-prof --cpu-prof-dir=${join(ctx.runDir, 'profiles', label)}` : '';
  return new Promise((done, fail) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: repoRoot,
      env: { ...process.env, NODE_OPTIONS: nodeOptions },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => proc.pid !== undefined && process.kill(-proc.pid, 'SIGKILL'), timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      writeFileSync(join(ctx.runDir, `${label}.log`), `${out}\n${err}`);
      if (ctx.profile) {
        const top = topSelfTime(join(ctx.runDir, 'profiles', label));
        if (top.length > 0) ctx.profiles[label] = top;
      }
      if (code === 0) done(out);
      else fail(new Error(`${label} exited with ${code}:\n${err.slice(-2_000)}`));
    });
  });
}

/** Sum over partitions of (high watermark − group's committed offset), for non-transactional input. */
export async function groupLag(kafka: KafkaClient, groupId: string, topic: string): Promise<number> {
  const admin = await kafka.admin();
  try {
    const [marks, committed] = await Promise.all([admin.watermarks(topic), admin.groupOffsets(groupId, topic)]);
    const at = new Map(committed.map((c) => [c.partition, BigInt(c.offset)]));
    let lag = 0n;
    for (const m of marks) {
      const c = at.get(m.partition) ?? -1n;
      lag += BigInt(m.high) - (c < 0n ? BigInt(m.low) : c);
    }
    return Number(lag);
  } finally {
    await admin.close();
  }
}

/** Records on a non-transactional topic (high − low over partitions). */
export async function topicRecords(kafka: KafkaClient, topic: string): Promise<number> {
  const admin = await kafka.admin();
  try {
    return (await admin.watermarks(topic)).reduce((n, m) => n + Number(BigInt(m.high) - BigInt(m.low)), 0);
  } finally {
    await admin.close();
  }
}

/** Polls until the group has committed every record of `topic`; returns when it did (performance.now()). */
export async function waitCaughtUp(kafka: KafkaClient, groupId: string, topic: string, timeoutMs: number, services: ServiceProcess[] = []): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lag = await groupLag(kafka, groupId, topic);
    if (lag <= 0) return performance.now();
    for (const s of services) if (s.exit) throw new Error(`${s.name} exited while catching up:\n${logTail(s)}`);
    if (Date.now() > deadline) throw new Error(`group ${groupId} still ${lag} behind on ${topic} after ${timeoutMs / 1000}s`);
    await sleep(200);
  }
}

/** Heap and RSS of a process after a full GC, read through its inspector (no code in the service). */
export async function measureMemory(svc: Service): Promise<{ heapUsed: number; rss: number }> {
  if (!svc.inspectPort) throw new Error(`${svc.name} runs without an inspector`);
  const list = (await (await fetch(`http://127.0.0.1:${svc.inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
  await new Promise<void>((done, fail) => {
    ws.onopen = () => done();
    ws.onerror = () => fail(new Error('inspector connection failed'));
  });
  let next = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.onmessage = (msg) => {
    const data = JSON.parse(String(msg.data)) as { id?: number; result?: unknown };
    if (data.id !== undefined) pending.get(data.id)?.(data.result);
  };
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((done) => {
      const id = next++;
      pending.set(id, done);
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    // Twice: the first pass finalises, the second frees what the finalisers released.
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const r = (await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as {
      result: { value: string };
    };
    const m = JSON.parse(r.result.value) as { heapUsed: number; rss: number };
    return { heapUsed: m.heapUsed, rss: m.rss };
  } finally {
    ws.close();
  }
}

/** Self time per function in the .cpuprofile files of a folder (V8's format: nodes, samples, timeDeltas). */
export function topSelfTime(dir: string, limit = 12): ProfileEntry[] {
  const self = new Map<string, number>();
  let totalUs = 0;
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return [];
  }
  for (const file of files) {
    const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
      samples: number[];
      timeDeltas: number[];
    };
    const names = new Map<number, string>();
    for (const n of p.nodes) {
      const { functionName, url, lineNumber } = n.callFrame;
      // TypeScript runs transpiled by tsx without source maps here, so its line numbers mean nothing.
      const file = url
        .replace(/^file:\/\//, '')
        .replace(/^.*\/node_modules\//, '~/')
        .replace(/^.*\/(services|scripts)\//, '$1/');
      const where = url ? ` ${file}${file.endsWith('.ts') ? '' : `:${lineNumber + 1}`}` : '';
      names.set(n.id, `${functionName || '(anonymous)'}${where}`);
    }
    // timeDeltas[i] is the time before sample i; it is charged to the sample's node. Samples are
    // ~1 ms apart: a gap far longer is a frozen process (SIGSTOP while a backlog was produced), not work.
    for (let i = 0; i < p.samples.length; i++) {
      const us = p.timeDeltas[i] ?? 0;
      if (us > 50_000) continue;
      const name = names.get(p.samples[i]!) ?? '?';
      if (name.startsWith('(idle)')) continue;
      self.set(name, (self.get(name) ?? 0) + us);
      totalUs += us;
    }
  }
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([fn, us]) => ({ fn, selfMs: Math.round(us / 1000), pct: Math.round((1000 * us) / Math.max(1, totalUs)) / 10 }));
}

/** /metrics of a busy service: a scrape can time out while it works, so try a few times. */
export async function scrapeBusy(port: number, attempts = 4): Promise<Samples> {
  for (let i = 0; i < attempts; i++) {
    const samples = await scrape(port);
    if (samples.length > 0) return samples;
    await sleep(500);
  }
  return [];
}

/** Stops the processes and, with --profile, reads their profiles into the context. */
export async function finish(ctx: BenchContext, services: { svc: ServiceProcess; label: string }[]): Promise<void> {
  await Promise.all(services.map(({ svc }) => stopService(svc, 60_000)));
  if (!ctx.profile) return;
  for (const { label } of services) {
    const top = topSelfTime(join(ctx.runDir, 'profiles', label));
    if (top.length > 0) ctx.profiles[label] = top;
  }
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

export function benchLogger(): Logger {
  return createLogger({ level: 'error', bindings: { service: 'bench' } });
}

export async function ready(svc: ServiceProcess, timeoutMs = 120_000): Promise<void> {
  await waitReady(svc, timeoutMs);
}
