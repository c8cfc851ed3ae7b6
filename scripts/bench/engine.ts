/**
 * Producer, engine and restore scenarios, black-box: the simulator and the engine run as their own
 * processes (services/*\/src/main.ts, configured by env) on a scenario's own topic prefix. A
 * backlog is produced while the engine is frozen (SIGSTOP after /readyz), so its clock starts at
 * SIGCONT and measures processing only; done = the group's committed offsets reach the end.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type CustomerEvent, type OutgoingRecord, sleep } from '@nextact/core';
import { customerIdOf, toRecord, World } from '@nextact/simulator';
import { type Samples, total } from '../lib/services';
import {
  type BenchContext,
  finish,
  measureMemory,
  openScope,
  pause,
  percentile,
  ready,
  resume,
  round,
  runToEnd,
  type Scope,
  type Service,
  scrapeBusy,
  startBenchService,
  waitCaughtUp,
} from './lib';

export interface SimulatorSummary {
  events: number;
  eventsPerSec: number;
  simEnd: string;
}

/** The simulator as a process, straight to Kafka as fast as it goes (Avro with registry ids). */
export async function simulate(
  ctx: BenchContext,
  scope: Scope,
  label: string,
  count: number,
  customers: number,
  options: { seed?: number; epoch?: string } = {},
) {
  const args = [
    '--count',
    String(count),
    '--rate',
    '0',
    '--customers',
    String(customers),
    '--seed',
    String(options.seed ?? 7),
    '--no-progress',
    '--ops-port',
    '0',
  ];
  if (options.epoch) args.push('--epoch', options.epoch);
  const svc = await startBenchService(ctx, 'simulator', label, scope.env, { args });
  const out = await runToEnd(svc, 600_000);
  await finish(ctx, [{ svc, label }]);
  for (const line of out.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    const summary = JSON.parse(line) as Partial<SimulatorSummary>;
    if (typeof summary.eventsPerSec === 'number') return summary as SimulatorSummary;
  }
  throw new Error(`simulator printed no summary:\n${out.slice(-1_500)}`);
}

function engineEnv(scope: Scope, instance: string, stateDir: string | 'off', store: 'memory' | 'lmdb' = 'memory'): NodeJS.ProcessEnv {
  return {
    ...scope.env,
    ENGINE_INSTANCE_ID: instance,
    ENGINE_STATE_DIR: stateDir,
    ENGINE_STORE: store,
    // Frozen while a backlog is produced: the group must not drop it meanwhile.
    ENGINE_SESSION_TIMEOUT_MS: '120000',
  };
}

interface EngineState {
  owned: number[];
  partitions: { journeys: number }[];
}

async function engineState(svc: Service): Promise<EngineState> {
  return (await (await fetch(`http://127.0.0.1:${svc.port}/state`, { signal: AbortSignal.timeout(10_000) })).json()) as EngineState;
}

const journeysOf = (s: EngineState) => s.partitions.reduce((n, p) => n + p.journeys, 0);

/** Ready engines that between them own every partition (a second instance triggers a rebalance). */
async function enginesReady(ctx: BenchContext, engines: Service[], timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const e of engines) await ready(e, timeoutMs);
  for (;;) {
    const states = await Promise.all(engines.map(engineState));
    const owned = states.reduce((n, s) => n + s.owned.length, 0);
    if (owned === ctx.partitions && states.every((s) => s.owned.length > 0)) {
      // Each owner must also have restored what it owns.
      const readyAll = await Promise.all(engines.map((e) => fetch(`http://127.0.0.1:${e.port}/readyz`).then((r) => r.ok)));
      if (readyAll.every(Boolean)) return;
    }
    if (Date.now() > deadline) throw new Error(`engines did not share the ${ctx.partitions} partitions: ${JSON.stringify(states.map((s) => s.owned))}`);
    await sleep(250);
  }
}

/** Events/s of engines working off `count` events produced while they were frozen. */
async function backlog(scope: Scope, engines: Service[], count: number, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  for (const e of engines) resume(e);
  const t1 = await waitCaughtUp(scope.kafka, `${scope.prefix}engine`, scope.topics.customerEvents, timeoutMs, engines);
  return round(count / ((t1 - t0) / 1000));
}

/** Mean Avro value size of simulator events (registry-framed), for the broker ceiling at our real size. */
export function avroEventBytes(scope: Scope): number {
  const world = new World({ seed: 3, customers: 1_000 });
  let bytes = 0;
  const n = 5_000;
  for (let i = 0; i < n; i++) bytes += toRecord(scope.codec, scope.topics.customerEvents, world.next()).value!.length;
  return Math.round(bytes / n);
}

export interface LatencyResult {
  offeredEps: number;
  decisions: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  engineHistogram: { p50: number | null; p99: number | null; p999: number | null; count: number };
  /** The engine's instance transactions over the window: duration (ms) and output records each. */
  transactions: { durationMs: LatencyResult['engineHistogram']; records: LatencyResult['engineHistogram'] };
}

/**
 * Event-to-decision latency at a fixed offered load: from the moment an event is handed to the
 * producer to the moment a read_committed consumer of the decisions topic sees its decision.
 */
async function latencyAt(ctx: BenchContext, scope: Scope, engine: Service, world: World, rate: number, seconds: number): Promise<LatencyResult> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let lastSeen = performance.now();
  const reader = await scope.kafka.consumer({
    groupId: `${scope.prefix}bench-latency-${rate}`,
    topics: [scope.topics.decisions],
    fromBeginning: false,
    commitMarked: false,
  });
  // Idempotent producers keep one request in flight each: a pool, so the load generator does not
  // queue events itself, and a send every 10 ms rather than per event.
  const producers = await Promise.all([0, 1, 2, 3].map(() => scope.kafka.producer({ idempotent: true })));
  const before = await scrapeBusy(engine.port);
  try {
    await reader.run(async (batch) => {
      const now = performance.now();
      for (const r of batch.records) {
        const decoded = await scope.codec.decode(r.value);
        const trigger = (decoded.value as { triggerEventId?: string }).triggerEventId;
        const t = trigger === undefined ? undefined : sentAt.get(trigger);
        if (t !== undefined) {
          latencies.push(now - t);
          sentAt.delete(trigger!);
          lastSeen = now;
        }
      }
    });
    // Give the new group its partitions (it starts at the end: the backlog's decisions are not read).
    await sleep(1_000);
    const inFlight: Promise<unknown>[] = [];
    const start = performance.now();
    let sent = 0;
    let lane = 0;
    for (;;) {
      const now = performance.now();
      if (now - start >= seconds * 1000) break;
      const due = Math.floor((rate * (now - start)) / 1000) - sent;
      if (due > 0) {
        const events: CustomerEvent[] = [];
        for (let i = 0; i < due; i++) events.push(world.next());
        const records = events.map((e) => toRecord(scope.codec, scope.topics.customerEvents, e));
        const t = performance.now();
        for (const e of events) sentAt.set(e.value.eventId, t);
        const p = lane;
        lane = (lane + 1) % producers.length;
        inFlight.push(producers[p]!.send(records));
        sent += due;
        if (inFlight.length >= 64) await inFlight.shift();
      }
      await sleep(10);
    }
    await Promise.all(inFlight);
    const offered = sent / ((performance.now() - start) / 1000);
    lastSeen = Math.max(lastSeen, performance.now());
    // Drain: stop once no decision for an event of this phase arrived for 3 s (or 60 s at most).
    const drainUntil = performance.now() + 60_000;
    while (performance.now() - lastSeen < 3_000 && performance.now() < drainUntil) await sleep(250);
    latencies.sort((a, b) => a - b);
    const r = (x: number | null) => (x === null ? null : round(x, 1));
    const after = await scrapeBusy(engine.port);
    const result = {
      offeredEps: round(offered),
      decisions: latencies.length,
      p50: r(percentile(latencies, 50)),
      p99: r(percentile(latencies, 99)),
      p999: r(percentile(latencies, 99.9)),
      // The engine's own histogram over the same window (record timestamp → its commit), to show how
      // much of the end-to-end figure is the engine and how much the produce and read_committed paths.
      engineHistogram: histogramQuantiles(before, after, 'nextact_engine_decision_latency_seconds'),
      transactions: {
        durationMs: histogramQuantiles(before, after, 'nextact_engine_transaction_duration_seconds'),
        records: histogramQuantiles(before, after, 'nextact_engine_transaction_records', 1),
      },
    };
    ctx.say(`latency at ${rate}/s: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await reader.close();
    await Promise.all(producers.map((p) => p.close()));
  }
}

/** p50/p99 (ms) of a histogram's increase between two scrapes, linear inside a bucket as Prometheus does. */
/** Quantiles of a histogram's observations between two scrapes; seconds shown as ms unless `scale` says otherwise. */
function histogramQuantiles(before: Samples, after: Samples, name: string, scale = 1000): LatencyResult['engineHistogram'] {
  const buckets = (s: Samples) => new Map(s.filter((x) => x.name === `${name}_bucket`).map((x) => [x.labels.le!, x.value]));
  const b0 = buckets(before);
  const rows = [...buckets(after)]
    .map(([le, v]) => ({ le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count: v - (b0.get(le) ?? 0) }))
    .sort((a, b) => a.le - b.le);
  const count = rows.at(-1)?.count ?? 0;
  const q = (p: number): number | null => {
    if (count === 0) return null;
    let prevLe = 0;
    let prevCount = 0;
    for (const b of rows) {
      if (b.count >= p * count) {
        if (!Number.isFinite(b.le)) return round(prevLe * scale, 1);
        return round((prevLe + ((b.le - prevLe) * (p * count - prevCount)) / Math.max(1, b.count - prevCount)) * scale, 1);
      }
      prevLe = b.le;
      prevCount = b.count;
    }
    return round(prevLe * scale, 1);
  };
  return { p50: q(0.5), p99: q(0.99), p999: q(0.999), count };
}

/** Restore by a fresh process: /readyz says "restoring" until the owned partitions are rebuilt. */
async function restoreRun(
  ctx: BenchContext,
  scope: Scope,
  label: string,
  stateDir: string | 'off',
  maxOldSpaceMb?: number,
  keep = false,
  store: 'memory' | 'lmdb' = 'memory',
) {
  // Info logs here: the engine's own restore timeline (a few lines) stays in the run folder.
  const env = { ...engineEnv(scope, label, stateDir, store), LOG_LEVEL: 'info' };
  const svc = await startBenchService(ctx, 'engine', label, env, { portEnv: 'ENGINE_PORT', inspect: true, maxOldSpaceMb });
  let restoringAt: number | undefined;
  let readyAt: number | undefined;
  let kept = false;
  const deadline = Date.now() + 900_000;
  try {
    while (readyAt === undefined) {
      if (svc.exit) throw new Error(`${label} exited during restore`);
      if (Date.now() > deadline) throw new Error(`${label} not restored after 15 minutes`);
      try {
        const res = await fetch(`http://127.0.0.1:${svc.port}/readyz`, { signal: AbortSignal.timeout(2_000) });
        const now = performance.now();
        if (res.ok) readyAt = now;
        else if ((await res.text()).includes('restoring')) restoringAt ??= now;
      } catch {}
      await sleep(25);
    }
    const samples = await scrapeBusy(svc.port);
    const records = total(samples, 'nextact_engine_restored_records_total');
    const state = await engineState(svc);
    const memory = await measureMemory(svc);
    // A small restore can finish between two 25 ms polls, so /readyz never says "restoring": then
    // the engine's own restore time is the measure (one restore pass observes its duration once per
    // partition, so the mean over observations is the pass's duration).
    const observed = restoringAt === undefined ? 0 : (readyAt - restoringAt) / 1000;
    const engineSeconds =
      total(samples, 'nextact_engine_restore_duration_seconds_sum') / Math.max(1, total(samples, 'nextact_engine_restore_duration_seconds_count'));
    const seconds = observed > 0 ? observed : engineSeconds;
    kept = keep;
    return {
      svc,
      seconds: round(seconds, 3),
      secondsFrom: observed > 0 ? 'readyz' : 'engine histogram',
      records,
      journeys: journeysOf(state),
      rps: seconds > 0 ? round(records / seconds) : null,
      ...memory,
    };
  } finally {
    if (!kept) await finish(ctx, [{ svc, label }]);
  }
}

export interface EngineFigures {
  /** Mean serialised journey (changelog value), the baseline of the memory figures. */
  journeyBytes: number | null;
  produceEps: number;
  avroBytes: number;
  engineEps: number;
  latency1k: LatencyResult;
  latency5k: LatencyResult;
  restoreRps: number | null;
  heapPerJourney: number;
  rssPerJourney: number;
}

/** One instance, exactly-once: backlog, then latency at 1k and 5k events/s, then a restore by a fresh process. */
export async function engineScenario(ctx: BenchContext): Promise<EngineFigures> {
  const { sizes } = ctx;
  const scope = await openScope(ctx, 'engine');
  const stateDir = join(ctx.runDir, 'engine-state');
  mkdirSync(stateDir, { recursive: true });
  try {
    const engine = await startBenchService(ctx, 'engine', 'engine', engineEnv(scope, 'engine-1', stateDir), { portEnv: 'ENGINE_PORT', inspect: true });
    let stopped = false;
    try {
      await enginesReady(ctx, [engine]);
      const empty = await measureMemory(engine);
      pause(engine);
      ctx.say(`producing ${sizes.engineEvents} events with the simulator (engine frozen)`);
      const sim = await simulate(ctx, scope, 'produce', sizes.engineEvents, sizes.engineCustomers);
      const avroBytes = avroEventBytes(scope);
      ctx.say(`simulator: ${sim.eventsPerSec} events/s; Avro events average ${avroBytes} B; engine working off the backlog`);
      const engineEps = await backlog(scope, [engine], sim.events, 900_000);
      ctx.say(`engine: ${engineEps} events/s`);
      const full = await measureMemory(engine);
      const journeys = journeysOf(await engineState(engine));
      ctx.details.engine = {
        events: sim.events,
        customers: sizes.engineCustomers,
        journeys,
        heapEmpty: empty.heapUsed,
        heapFull: full.heapUsed,
        rssEmpty: empty.rss,
        rssFull: full.rss,
      };

      // The latency world continues where the backlog's simulated time ended, over the same customers.
      const world = new World({ seed: 11, customers: sizes.engineCustomers, epochMs: Date.parse(sim.simEnd) + 60_000 });
      const latency1k = await latencyAt(ctx, scope, engine, world, 1_000, sizes.latencySeconds);
      const latency5k = await latencyAt(ctx, scope, engine, world, 5_000, sizes.latencySeconds);
      await finish(ctx, [{ svc: engine, label: 'engine' }]);
      stopped = true;

      const { svc: _, ...restore } = await restoreRun(ctx, scope, 'engine-restore', 'off');
      ctx.say(`restore: ${JSON.stringify(restore)}`);
      ctx.details.restore = restore;
      const journeyBytes = await changelogJourneyBytes(scope);
      return {
        produceEps: sim.eventsPerSec,
        avroBytes,
        engineEps,
        latency1k,
        latency5k,
        restoreRps: restore.rps,
        journeyBytes,
        heapPerJourney: Math.round((full.heapUsed - empty.heapUsed) / journeys),
        rssPerJourney: Math.round((full.rss - empty.rss) / journeys),
      };
    } finally {
      if (!stopped) await finish(ctx, [{ svc: engine, label: 'engine' }]);
    }
  } finally {
    await scope.drop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Two instances in one consumer group on the same backlog size. */
export async function twoInstancesScenario(ctx: BenchContext): Promise<number> {
  const scope = await openScope(ctx, 'engine2');
  const engines: { svc: Service; label: string }[] = [];
  try {
    for (const label of ['engine2-a', 'engine2-b']) {
      engines.push({ svc: await startBenchService(ctx, 'engine', label, engineEnv(scope, label, 'off'), { portEnv: 'ENGINE_PORT' }), label });
    }
    await enginesReady(
      ctx,
      engines.map((e) => e.svc),
    );
    for (const e of engines) pause(e.svc);
    const sim = await simulate(ctx, scope, 'produce-2', ctx.sizes.engineEvents, ctx.sizes.engineCustomers);
    const eps = await backlog(
      scope,
      engines.map((e) => e.svc),
      sim.events,
      900_000,
    );
    ctx.say(`two engines: ${eps} events/s`);
    ctx.details.engine2 = { events: sim.events, produceEps: sim.eventsPerSec };
    return eps;
  } finally {
    await finish(ctx, engines);
    await scope.drop();
  }
}

export interface BigStateFigures {
  checkpointRestoreSeconds: number;
  journeyBytes: number;
  engineEps: number;
  restoreSeconds: number;
  restoreRps: number | null;
  heapPerJourney: number;
  rssPerJourney: number;
}

/**
 * 1M journeys. Building them through the engine (one event per new customer) runs at about 1k
 * events/s on this machine, 15+ minutes for 1M, which does not fit the run's budget. So the engine
 * builds a few real journeys, and the bench copies the changelog record the engine itself wrote for
 * one of them to every other customer id (only the id changes: the value stays in the engine's own
 * encoding, which the bench never parses). A fresh process then restores the 1M journeys from the
 * changelog into the in-memory store (timed), is measured for memory and works off a simulator
 * backlog over those customers; another does the same on the lmdb store, stops, and a third restarts
 * on lmdb, reading only the changelog tail after the offsets stored with its contents.
 */
export async function bigStateScenario(ctx: BenchContext): Promise<BigStateFigures> {
  const { bigJourneys, bigEvents } = ctx.sizes;
  const scope = await openScope(ctx, 'engine1m');
  const stateDir = join(ctx.runDir, 'engine1m-state');
  mkdirSync(stateDir, { recursive: true });
  const heapMb = 12_288;
  const seeded = 100;
  try {
    // 1. A few real journeys, and the engine's memory with (almost) none.
    const builder = await startBenchService(ctx, 'engine', 'engine-1m-seed', engineEnv(scope, 'engine-1m-seed', 'off'), {
      portEnv: 'ENGINE_PORT',
      inspect: true,
    });
    let empty: { heapUsed: number; rss: number };
    try {
      await enginesReady(ctx, [builder]);
      pause(builder);
      await produceOnePerCustomer(scope, 0, seeded);
      await backlog(scope, [builder], seeded, 300_000);
      empty = await measureMemory(builder);
    } finally {
      await finish(ctx, [{ svc: builder, label: 'engine-1m-seed' }]);
    }
    // 2. The engine's changelog record of one journey, copied to the other customers.
    const template = await latestChangelogValue(scope, customerIdOf(0));
    const t = performance.now();
    await writeJourneyCopies(scope, template, customerIdOf(0), seeded, bigJourneys);
    const copyRps = round((bigJourneys - seeded) / ((performance.now() - t) / 1000));
    ctx.say(`wrote ${bigJourneys - seeded} journey copies (${template.value.length} B each) to the changelog at ${copyRps} records/s`);

    // 3. Restore from the changelog alone into the in-memory store, memory, then a backlog with that state.
    const restored = await restoreRun(ctx, scope, 'engine-1m', stateDir, heapMb, true);
    const { svc: engine, ...fromChangelog } = restored;
    let engineEps: number;
    let events: number;
    try {
      ctx.say(`restore of ${fromChangelog.journeys} journeys from the changelog: ${JSON.stringify(fromChangelog)}`);
      pause(engine);
      const sim = await simulate(ctx, scope, 'produce-1m', bigEvents, bigJourneys, { seed: 13, epoch: '2026-02-01T00:00:00Z' });
      events = sim.events;
      engineEps = await backlog(scope, [engine], sim.events, 900_000);
      ctx.say(`engine with ${fromChangelog.journeys} journeys: ${engineEps} events/s`);
    } finally {
      await finish(ctx, [{ svc: engine, label: 'engine-1m' }]);
    }

    // 4. The same journeys into the lmdb store by a fresh process (its heap holds a bounded cache),
    // a backlog of the same size over them, and a graceful stop.
    const lmdbDir = join(ctx.runDir, 'engine1m-lmdb');
    const { svc: lmdbEngine, ...lmdbFromChangelog } = await restoreRun(ctx, scope, 'engine-1m-lmdb', lmdbDir, heapMb, true, 'lmdb');
    let lmdbEps: number;
    try {
      ctx.say(`restore of ${lmdbFromChangelog.journeys} journeys from the changelog into lmdb: ${JSON.stringify(lmdbFromChangelog)}`);
      pause(lmdbEngine);
      const sim = await simulate(ctx, scope, 'produce-1m-lmdb', bigEvents, bigJourneys, { seed: 17, epoch: '2026-03-01T00:00:00Z' });
      lmdbEps = await backlog(scope, [lmdbEngine], sim.events, 900_000);
      ctx.say(`engine on lmdb with ${lmdbFromChangelog.journeys} journeys: ${lmdbEps} events/s`);
    } finally {
      await finish(ctx, [{ svc: lmdbEngine, label: 'engine-1m-lmdb' }]);
    }

    // 5. A restart on lmdb: the stores are on disk, only the changelog tail after their offsets is read.
    const { svc: _, ...lmdbRestart } = await restoreRun(ctx, scope, 'engine-1m-lmdb-restart', lmdbDir, heapMb, false, 'lmdb');
    ctx.say(`restart on lmdb: ${JSON.stringify(lmdbRestart)}`);
    rmSync(lmdbDir, { recursive: true, force: true });
    const perJourney = (heap: number, journeys: number) => Math.round((heap - empty.heapUsed) / Math.max(1, journeys - seeded));
    ctx.details.engine1m = {
      journeys: fromChangelog.journeys,
      seeded,
      templateBytes: template.value.length,
      copyRps,
      events,
      heapEmpty: empty.heapUsed,
      rssEmpty: empty.rss,
      maxOldSpaceMb: heapMb,
      fromChangelog,
      lmdb: {
        fromChangelog: lmdbFromChangelog,
        engineEps: lmdbEps,
        heapPerJourney: perJourney(lmdbFromChangelog.heapUsed, lmdbFromChangelog.journeys),
        restart: lmdbRestart,
      },
    };
    return {
      engineEps,
      restoreSeconds: fromChangelog.seconds,
      // The restart from a persistent store (lmdb) plus its changelog tail.
      checkpointRestoreSeconds: lmdbRestart.seconds,
      journeyBytes: template.value.length,
      restoreRps: fromChangelog.rps,
      heapPerJourney: perJourney(fromChangelog.heapUsed, fromChangelog.journeys),
      rssPerJourney: Math.round((fromChangelog.rss - empty.rss) / (fromChangelog.journeys - seeded)),
    };
  } finally {
    await scope.drop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Mean size of the journey records in the changelog (the learner's records left out). */
async function changelogJourneyBytes(scope: Scope): Promise<number | null> {
  const admin = await scope.kafka.admin();
  let partitions: number[];
  try {
    partitions = (await admin.watermarks(scope.topics.journeyChangelog)).map((w) => w.partition);
  } finally {
    await admin.close();
  }
  let bytes = 0;
  let records = 0;
  await scope.kafka.readPartitions(
    scope.topics.journeyChangelog,
    partitions.map((partition) => ({ partition, from: '0' })),
    (batch) => {
      for (const r of batch) {
        if (r.value === null || !r.key?.startsWith('c-')) continue;
        bytes += r.value.length;
        records++;
      }
    },
  );
  return records > 0 ? Math.round(bytes / records) : null;
}

/** The latest changelog record the engine wrote for one customer (read_committed, whole topic): value and headers. */
async function latestChangelogValue(scope: Scope, customerId: string): Promise<{ value: Buffer; headers: Record<string, string> }> {
  const admin = await scope.kafka.admin();
  let partitions: number[];
  try {
    partitions = (await admin.watermarks(scope.topics.journeyChangelog)).map((w) => w.partition);
  } finally {
    await admin.close();
  }
  let value: Buffer | null = null;
  let headers: Record<string, string> = {};
  await scope.kafka.readPartitions(
    scope.topics.journeyChangelog,
    partitions.map((partition) => ({ partition, from: '0' })),
    (records) => {
      for (const r of records) {
        if (r.key !== customerId) continue;
        value = r.value;
        headers = r.headers;
      }
    },
  );
  if (value === null) throw new Error(`the engine wrote no changelog record for ${customerId}`);
  return { value, headers };
}

/** Copies of a journey record (value and headers: its timer) under other customer ids (same key-based partitioning as the engine's writes). */
async function writeJourneyCopies(
  scope: Scope,
  template: { value: Buffer; headers: Record<string, string> },
  templateId: string,
  from: number,
  to: number,
): Promise<void> {
  const text = template.value.toString('latin1');
  if (!text.includes(templateId)) throw new Error(`the changelog value does not contain ${templateId}: cannot make copies for other customers`);
  const parts = text.split(templateId);
  const producers = await Promise.all([0, 1].map(() => scope.kafka.producer({ idempotent: true })));
  const chunk = 5_000;
  try {
    const inFlight: Promise<unknown>[] = [];
    for (let start = from, lane = 0; start < to; start += chunk, lane ^= 1) {
      const records: OutgoingRecord[] = [];
      for (let i = start; i < Math.min(to, start + chunk); i++) {
        const id = customerIdOf(i);
        records.push({ topic: scope.topics.journeyChangelog, key: id, value: Buffer.from(parts.join(id), 'latin1'), headers: template.headers });
      }
      inFlight.push(producers[lane]!.send(records));
      if (inFlight.length >= 4) await inFlight.shift();
    }
    await Promise.all(inFlight);
  } finally {
    await Promise.all(producers.map((p) => p.close()));
  }
}

/** One browse event per customer id of the simulator's id space, through the project's producer. */
async function produceOnePerCustomer(scope: Scope, from: number, to: number): Promise<void> {
  const producer = await scope.kafka.producer({ idempotent: true });
  const base = Date.parse('2026-01-01T00:00:00Z');
  try {
    const records: OutgoingRecord[] = [];
    for (let i = from; i < to; i++) {
      const event = {
        name: 'nextact.BrowseEvent',
        value: {
          eventId: `bench-seed-${i}`,
          customerId: customerIdOf(i),
          eventTime: base + i,
          source: 'bench',
          schemaVersion: 1,
          kind: 'PRODUCT_VIEW',
          sessionId: null,
          url: null,
          productId: `sku-${i % 500}`,
          category: 'bench',
          query: null,
        },
      } as CustomerEvent;
      records.push(toRecord(scope.codec, scope.topics.customerEvents, event));
    }
    await producer.send(records);
  } finally {
    await producer.close();
  }
}
