/**
 * The engine's per-event work without Kafka: simulator events → Avro decode → the NBA domain
 * (onEvent) → journey bytes for the changelog → decision Avro encode. Measures main-thread CPU per
 * event, so each change to the domain is judged one at a time (`--cpu-prof` to see where time goes).
 *   node --expose-gc --import tsx services/engine/bench/domain-chain.ts [--events 200000] [--customers 100000]
 *     [--warmup 50000] [--seed 42]
 * Prints one JSON object: main-thread CPU µs per event for the whole chain and for each stage (journeyDecode is the
 * restore side: the changelog bytes just written, read back), and the bytes of each record.
 * Mature journeys: --customers 20000 --events 200000.
 * Customer futures: --model applies a BG/NBD + Gamma-Gamma model from the start, so decisions score
 * the customer (recorded only); --model-policy also turns the policy's customerFutures options on
 * (P(alive) churn timer, CLV value term), which change what is decided;
 * --purchases bgnbd makes the simulated customers buy from the BG/NBD process (more repeat buyers).
 *
 * Heap per journey: --heap [--customers 1000000] [--events 2000000] [--journeys N] streams simulator events through
 * decode and onEvent without holding the input, then measures the heap with and without the journeys
 * map (so neither the simulator's world nor any input buffer is counted).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { avroType, type CustomerEvent } from '@nextact/core';
import { World } from '@nextact/simulator';
import { ModelTimeline } from '../src/futures/timeline';
import { createNbaDomain } from '../src/nba';
import { loadPolicy } from '../src/policy/load';

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    customers: { type: 'string' },
    warmup: { type: 'string' },
    seed: { type: 'string' },
    heap: { type: 'boolean' },
    journeys: { type: 'string' },
    purchases: { type: 'string' },
    model: { type: 'boolean' },
    'model-policy': { type: 'boolean' },
  },
});
if (values.heap) {
  heapPerJourney();
  process.exit(0);
}
const events = Number(values.events ?? 200_000);
const customers = Number(values.customers ?? 100_000);
const warmup = Number(values.warmup ?? 50_000);
const seed = Number(values.seed ?? 42);

const policy = loadPolicy(join(__dirname, '../policy/policy.yaml'));
const epochMs = Date.UTC(2026, 0, 1);
const futures = values.model || values['model-policy'] ? benchTimeline(epochMs) : undefined;
if (values['model-policy']) {
  policy.customerFutures = {
    churnRisk: { pAliveBelow: 0.3, minRepeatPurchases: 1 },
    valueTerm: { source: 'clv', referenceClvMinor: 10_000, maxMultiplier: 5 },
  };
}
const domain = createNbaDomain(policy, { futures });
const world = new World({ seed, customers, epochMs, purchases: values.purchases === 'bgnbd' ? 'bgnbd' : 'sessions' });
const decisionType = avroType('nextact.Decision');

// Events as the engine receives them: Avro bytes per record type.
const wire = world.take(warmup + events).map((e) => ({ name: e.name, bytes: avroType(e.name).toBuffer(e.value) }));
const journeys = new Map<string, ReturnType<typeof domain.initialJourney>>();
let learner = domain.initialLearner();
const cpuUs = { decode: 0, step: 0, journey: 0, decision: 0, journeyDecode: 0 };
let decisions = 0;
let scoredDecisions = 0;
let journeyBytes = 0;
let decisionBytes = 0;
const BATCH = 1000;

/** Main-thread CPU (µs) of one pass: wall time would count the waits of a shared, loaded machine. */
function timed<T>(stage: keyof typeof cpuUs, count: boolean, pass: () => T): T {
  const before = process.threadCpuUsage();
  const out = pass();
  if (count) {
    const used = process.threadCpuUsage(before);
    cpuUs[stage] += used.user + used.system;
  }
  return out;
}

// Stage by stage over batches of 1000 records, as the runtime handles a fetched batch: one clock
// reading per pass instead of per record (a thread-CPU reading costs about a microsecond).
function run(from: number, to: number, count: boolean): void {
  for (let start = from; start < to; start += BATCH) {
    const batch = wire.slice(start, Math.min(to, start + BATCH));
    const decoded = timed('decode', count, () => batch.map((w) => ({ name: w.name, value: avroType(w.name).fromBuffer(w.bytes) }) as CustomerEvent));
    const results = timed('step', count, () =>
      decoded.map((event) => {
        const r = domain.onEvent(journeys.get(event.value.customerId), learner, event, 0);
        journeys.set(event.value.customerId, r.journey);
        learner = r.learner;
        return r;
      }),
    );
    const journeyRecords = timed('journey', count, () => results.map((r) => domain.serialiseJourney(r.journey)));
    const decisionRecords = timed('decision', count, () => results.flatMap((r) => (r.decision ? [decisionType.toBuffer(r.decision)] : [])));
    timed('journeyDecode', count, () => journeyRecords.map((b) => domain.deserialiseJourney(b)));
    if (!count) continue;
    for (const b of journeyRecords) journeyBytes += b.length;
    for (const b of decisionRecords) decisionBytes += b.length;
    decisions += decisionRecords.length;
    for (const r of results) if (r.decision?.modelVersion) scoredDecisions++;
  }
}

run(0, warmup, false);
gc();
const heapBefore = process.memoryUsage().heapUsed;
const cpu0 = process.cpuUsage();
const main0 = process.threadCpuUsage();
run(warmup, warmup + events, true);
const main = process.threadCpuUsage(main0);
const cpu = process.cpuUsage(cpu0);
gc();
const heapAfter = process.memoryUsage().heapUsed;
const perEvent = (v: number) => Math.round((v / events) * 100) / 100;
const chainUs = cpuUs.decode + cpuUs.step + cpuUs.journey + cpuUs.decision;
process.stdout.write(
  `${JSON.stringify(
    {
      events,
      customers,
      model: values['model-policy'] ? 'model+policy' : values.model ? 'model' : 'none',
      journeys: journeys.size,
      decisions,
      // Decisions that carry a customer future (a model in force and a customer who has purchased).
      scoredDecisions,
      // Main-thread CPU per event of the chain (journeyDecode, the restore side, is not part of it).
      usPerEvent: perEvent(chainUs),
      // All threads' CPU over the main thread's: above 1 is V8's GC threads working beside it.
      cpuOverMain: Math.round(((cpu.user + cpu.system) / (main.user + main.system)) * 100) / 100,
      // The chain figure excludes journeyDecode (restore work, not per-event work).
      stagesUs: {
        decode: perEvent(cpuUs.decode),
        step: perEvent(cpuUs.step),
        journeyEncode: perEvent(cpuUs.journey),
        decisionEncode: perEvent(cpuUs.decision),
        journeyDecode: perEvent(cpuUs.journeyDecode),
      },
      journeyBytesMean: Math.round(journeyBytes / events),
      decisionBytesMean: decisions ? Math.round(decisionBytes / decisions) : 0,
      heapPerJourney: Math.round(heapAfter / journeys.size),
      heapGrowthDuringRun: heapAfter - heapBefore,
    },
    null,
    2,
  )}\n`,
);

/** One model in force from the first event: the simulator's default ground truth, spend in minor units. */
function benchTimeline(asOf: number): ModelTimeline {
  const timeline = new ModelTimeline();
  timeline.put('bench-model', {
    effectiveAt: asOf,
    offset: 0n,
    parameters: {
      version: 'bench-model',
      timeUnitMs: 86_400_000,
      horizon: 365,
      bgnbd: { r: 0.8, alpha: 12, a: 1.2, b: 4 },
      gammaGamma: { p: 4, q: 5, gamma: 12_000 },
    },
  });
  return timeline;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run node with --expose-gc');
  collect();
}

function heapPerJourney(): void {
  const size = Number(values.customers ?? 1_000_000);
  const count = Number(values.events ?? 2 * size);
  const policy = loadPolicy(join(__dirname, '../policy/policy.yaml'));
  const domain = createNbaDomain(policy);
  const world = new World({ seed: Number(values.seed ?? 42), customers: size, epochMs: Date.UTC(2026, 0, 1) });
  let journeys = new Map<string, ReturnType<typeof domain.initialJourney>>();
  let learner = domain.initialLearner();
  const target = Number(values.journeys ?? Number.POSITIVE_INFINITY);
  let events = 0;
  for (; events < count && journeys.size < target; events++) {
    const e = world.next();
    const type = avroType(e.name);
    const event = { name: e.name, value: type.fromBuffer(type.toBuffer(e.value)) } as CustomerEvent;
    const r = domain.onEvent(journeys.get(event.value.customerId), learner, event, 0);
    journeys.set(event.value.customerId, r.journey);
    learner = r.learner;
  }
  gc();
  const withJourneys = process.memoryUsage().heapUsed;
  const n = journeys.size;
  let bytes = 0;
  for (const j of journeys.values()) bytes += domain.serialiseJourney(j).length;
  const bytesMean = Math.round(bytes / n);
  journeys = new Map();
  gc();
  const without = process.memoryUsage().heapUsed;
  process.stdout.write(
    `${JSON.stringify({ customers: size, events, journeys: n, heapPerJourney: Math.round((withJourneys - without) / n), journeyBytesMean: bytesMean }, null, 2)}\n`,
  );
}
