/** Shared pieces of the runtime integration tests: a private topic prefix, events, reads, the reference fold. */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  avroType,
  type Config,
  type ConsumedRecord,
  type CustomerEvent,
  codecFromConfig,
  createLogger,
  customerEventNames,
  type Decision,
  type KafkaClient,
  kafkaFromConfig,
  type Logger,
  loadConfig,
  provision,
  type RecordCodec,
  type RecordName,
  sleep,
  type TopicNames,
  topicNames,
} from '@nextact/core';
import { Registry } from 'prom-client';
import { makeEvents as kitEvents, waitFor as kitWaitFor } from '../../../../test/support/kit';
import type { DecisionDomain } from '../../src/domain';
import { Engine, type EngineOptions } from '../../src/runtime/engine';
import { EngineMetrics } from '../../src/runtime/metrics';
import { emptyEffects, Processor } from '../../src/runtime/processor';
import { restorePartitions } from '../../src/runtime/restore';
import { PartitionStore } from '../../src/runtime/store';

export interface TestStack {
  prefix: string;
  env: NodeJS.ProcessEnv;
  config: Config;
  logger: Logger;
  kafka: KafkaClient;
  codec: RecordCodec;
  topics: TopicNames;
  stateDir: string;
  cleanup(): Promise<void>;
}

export async function testStack(name: string, partitions: number): Promise<TestStack> {
  const prefix = `test-${name}-${randomUUID().slice(0, 8)}.`;
  const env = { ...process.env, NEXTACT_TOPIC_PREFIX: prefix, NEXTACT_PARTITIONS: String(partitions), LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error' };
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, bindings: { test: name } });
  const kafka = kafkaFromConfig(config, logger, `test-${name}`);
  const codec = codecFromConfig(config, logger);
  await provision(config, kafka, codec, logger);
  const stateDir = mkdtempSync(join(tmpdir(), `nextact-engine-${name}-`));
  const topics = topicNames(prefix);
  return {
    prefix,
    env,
    config,
    logger,
    kafka,
    codec,
    topics,
    stateDir,
    async cleanup() {
      const admin = await kafka.admin();
      try {
        const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
        await admin.deleteTopics(mine);
      } finally {
        await admin.close();
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * The enclosing describe block's test stack: created before its tests, its topics and folder removed
 * after them. The returned object is filled in by the beforeAll hook.
 */
export function useTestStack(name: string, partitions: number): TestStack {
  const stack = {} as TestStack;
  beforeAll(async () => {
    Object.assign(stack, await testStack(name, partitions));
  });
  afterAll(async () => {
    await stack.cleanup?.();
  });
  return stack;
}

/** The kit's journey events (browse, chat, purchase; quiet spells so inactivity timers fire on stream time). */
export const makeEvents = (n: number, customers: number, seed = 1, idPrefix = 'e'): CustomerEvent[] =>
  kitEvents(n, customers, { seed, idPrefix, profile: 'journeys' });

export function encodeEvent(stack: TestStack, event: CustomerEvent): Buffer {
  return stack.codec.encode(stack.topics.customerEvents, event.name, event.value as never);
}

/** Produces events keyed by customer id (murmur2 partitioning), preserving order per partition. */
export async function produceEvents(stack: TestStack, events: CustomerEvent[], chunk = 500): Promise<void> {
  const producer = await stack.kafka.producer();
  try {
    for (let i = 0; i < events.length; i += chunk) {
      await producer.send(
        events.slice(i, i + chunk).map((e) => ({ topic: stack.topics.customerEvents, key: e.value.customerId, value: encodeEvent(stack, e) })),
      );
    }
  } finally {
    await producer.close();
  }
}

/** Waits until the group has committed every partition's high watermark of the events topic. */
export async function waitCaughtUp(stack: TestStack, groupId: string, timeoutMs = 45_000): Promise<void> {
  const admin = await stack.kafka.admin();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const marks = await admin.watermarks(stack.topics.customerEvents);
      const committed = new Map((await admin.groupOffsets(groupId, stack.topics.customerEvents)).map((g) => [g.partition, g.offset]));
      const behind = marks.filter((m) => BigInt(committed.get(m.partition) ?? '-1') < BigInt(m.high) && m.high !== '0');
      if (behind.length === 0) return;
      if (Date.now() > deadline)
        throw new Error(`group ${groupId} not caught up: ${JSON.stringify(behind.map((b) => [b.partition, b.high, committed.get(b.partition)]))}`);
      await sleep(250);
    }
  } finally {
    await admin.close();
  }
}

/** Every committed record of a topic, per partition in offset order. */
export async function readTopic(stack: TestStack, topic: string): Promise<Map<number, ConsumedRecord[]>> {
  const out = new Map<number, ConsumedRecord[]>();
  for (let p = 0; p < stack.config.partitions; p++) out.set(p, []);
  await stack.kafka.readPartitions(
    topic,
    [...out.keys()].map((partition) => ({ partition, from: '0' })),
    (records) => {
      for (const r of records) out.get(r.partition)!.push(r);
    },
  );
  for (const list of out.values()) list.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
  return out;
}

export async function decodeDecisions(stack: TestStack, records: ConsumedRecord[]): Promise<Decision[]> {
  const out: Decision[] = [];
  for (const r of records) {
    const d = await stack.codec.decode(r.value);
    if (d.name !== 'nextact.Decision') throw new Error(`unexpected ${d.name} on decisions`);
    out.push(d.value as Decision);
  }
  return out;
}

/** Decision bytes without the wall-clock stamp: what determinism is judged on. */
export function canonicalDecision(d: Decision): Buffer {
  return avroType('nextact.Decision' as RecordName).toBuffer({ ...d, decisionTime: 0 });
}

/** The reference: the whole event log of each partition folded through the domain in one pass. */
export async function foldLog<J, L>(stack: TestStack, domain: DecisionDomain<J, L>, events: Map<number, ConsumedRecord[]>) {
  const result = new Map<number, { store: PartitionStore<J, L>; decisions: Decision[] }>();
  for (const [partition, records] of events) {
    const store = new PartitionStore(domain);
    const processor = new Processor(domain, store);
    const fx = emptyEffects();
    for (const r of records) {
      let decoded: Awaited<ReturnType<RecordCodec['decode']>>;
      try {
        decoded = await stack.codec.decode(r.value);
      } catch {
        continue; // dead-lettered by the engine
      }
      if (!(customerEventNames as string[]).includes(decoded.name)) continue;
      const event = decoded as unknown as CustomerEvent;
      if (r.key !== event.value.customerId) continue;
      try {
        processor.applyEvent(event, { decisionTime: 0, triggerTimestamp: r.timestamp }, fx);
      } catch {
        // dead-lettered by the engine
      }
    }
    result.set(partition, { store, decisions: fx.decisions.map((e) => e.decision) });
  }
  return result;
}

/** A store's content as comparable text (journeys sorted by id, learner, stream time). */
export function storeText<J, L>(domain: DecisionDomain<J, L>, store: PartitionStore<J, L>): string {
  const journeys = [...store.journeys.range()].map(([id, j]) => [id, domain.serialiseJourney(j).toString('base64')]);
  return JSON.stringify({ journeys, learner: domain.serialiseLearner(store.learner).toString('base64'), streamTime: store.streamTime });
}

/** Checks exactly-once: one decision per triggering event and the committed sequence equals the reference fold. */
export function compareDecisions(reference: Decision[], committed: Decision[]): void {
  const ref = reference.map((d) => canonicalDecision(d).toString('base64'));
  const got = committed.map((d) => canonicalDecision(d).toString('base64'));
  expect(got.length).toBe(ref.length);
  expect(got).toEqual(ref);
}

/** An in-process engine on the test stack. */
export async function startEngine<J, L>(
  stack: TestStack,
  domain: DecisionDomain<J, L>,
  options: Partial<EngineOptions<J, L>> & { groupId: string; instanceId: string },
): Promise<{ engine: Engine<J, L>; metrics: EngineMetrics }> {
  const metrics = new EngineMetrics(new Registry());
  // Each instance its own client, as separate processes have (the memory stack's cluster hands them out).
  const kafka = options.kafka ?? kafkaFromConfig(stack.config, stack.logger, `engine-${options.instanceId}`);
  const engine = new Engine({
    kafka,
    codec: stack.codec,
    domain,
    logger: stack.logger.child({ instance: options.instanceId }),
    metrics,
    topicPrefix: stack.prefix,
    // Each instance its own folder, as separate machines have.
    stateDir: join(stack.stateDir, options.instanceId),
    checkpointIntervalMs: 1_000,
    concurrency: stack.config.partitions,
    sessionTimeoutMs: 6_000,
    ...options,
  });
  await engine.start();
  return { engine, metrics };
}

/** The kit's poll-until, for a yes/no check. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  await kitWaitFor(what, check, timeoutMs);
}

/** Sum of a counter's values across labels. */
export async function counterTotal(metrics: EngineMetrics, name: string, filter: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  let total = 0;
  for (const v of (metric?.values ?? []) as { value: number; labels: Record<string, string | number>; metricName?: string }[]) {
    if (v.metricName && v.metricName !== name && !v.metricName.endsWith('_count')) continue;
    if (Object.entries(filter).every(([k, want]) => String(v.labels[k]) === want)) total += v.value;
  }
  return total;
}

export interface EngineChild {
  proc: ChildProcess;
  url: Promise<string>;
  exited: Promise<number | null>;
  stderr: string[];
}

/**
 * Starts `engine-child.ts` (real service wiring, fake domain) as its own process; `launcher` is a
 * command it runs under (e.g. nsenter into a mount namespace with a small disk).
 */
export function spawnEngineChild(stack: TestStack, instanceId: string, extraEnv: Record<string, string> = {}, launcher: string[] = []): EngineChild {
  const repoRoot = join(__dirname, '../../../..');
  const command = [...launcher, process.execPath, '--import', 'tsx', join(__dirname, 'engine-child.ts')];
  const proc = spawn(command[0]!, command.slice(1), {
    cwd: repoRoot,
    env: {
      ...stack.env,
      ENGINE_PORT: '0',
      ENGINE_INSTANCE_ID: instanceId,
      ENGINE_STATE_DIR: stack.stateDir,
      ENGINE_SESSION_TIMEOUT_MS: '6000',
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  proc.stderr!.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString());
    if (stderr.length > 200) stderr.shift();
  });
  const url = new Promise<string>((resolve, reject) => {
    let buffered = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    proc.once('exit', (code) => reject(new Error(`engine child ${instanceId} exited (${code}) before starting: ${stderr.join('').slice(-2000)}`)));
  });
  url.catch(() => {});
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, url, exited, stderr };
}

export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** The changelog's watermarks per partition. */
export async function changelogMarks(stack: TestStack) {
  const admin = await stack.kafka.admin();
  try {
    return await admin.watermarks(stack.topics.journeyChangelog);
  } finally {
    await admin.close();
  }
}

/** Sum of the group's committed offsets (progress indicator). */
export async function committedTotal(stack: TestStack, groupId: string): Promise<bigint> {
  const admin = await stack.kafka.admin();
  try {
    return (await admin.groupOffsets(groupId, stack.topics.customerEvents)).reduce((n, g) => n + (BigInt(g.offset) > 0n ? BigInt(g.offset) : 0n), 0n);
  } finally {
    await admin.close();
  }
}

/** Full verification of a run: per-partition committed decisions equal the fold, one per event, changelog equals the fold. */
export async function verifyRun<J, L>(stack: TestStack, domain: DecisionDomain<J, L>, events: CustomerEvent[]) {
  const log = await readTopic(stack, stack.topics.customerEvents);
  const reference = await foldLog(stack, domain, log);
  const committed = await readTopic(stack, stack.topics.decisions);
  const seen = new Map<string, number>();
  const decisionsByPartition = new Map<number, Decision[]>();
  for (const [p, records] of committed) {
    const decisions = await decodeDecisions(stack, records);
    decisionsByPartition.set(p, decisions);
    compareDecisions(reference.get(p)!.decisions, decisions);
    for (const d of decisions) seen.set(d.triggerEventId, (seen.get(d.triggerEventId) ?? 0) + 1);
  }
  const missing = events.filter((e) => seen.get(e.value.eventId) !== 1).map((e) => [e.value.eventId, seen.get(e.value.eventId) ?? 0]);
  expect(missing).toEqual([]);
  expect([...seen].filter(([, n]) => n !== 1)).toEqual([]);
  // The changelog restores exactly the folded state.
  const admin = await stack.kafka.admin();
  try {
    const stores = [...reference.keys()].map(() => new PartitionStore(domain));
    await restorePartitions({
      kafka: stack.kafka,
      admin,
      changelogTopic: stack.topics.journeyChangelog,
      items: stores.map((store, partition) => ({ partition, store })),
      logger: stack.logger,
    });
    for (const [p, store] of stores.entries()) expect(storeText(domain, store)).toBe(storeText(domain, reference.get(p)!.store));
  } finally {
    await admin.close();
  }
  return { reference, decisionsByPartition, decisions: [...seen.keys()].length };
}
