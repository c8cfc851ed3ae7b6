/**
 * The engine's per-event work without Kafka: simulator events → Avro decode → the NBA domain
 * (onEvent) → journey bytes for the changelog → decision Avro encode. Measures main-thread CPU per
 * event, so each change to the domain is judged one at a time (`--cpu-prof` to see where time goes).
 *   node --expose-gc --import tsx services/engine/bench/domain-chain.ts [--events 200000] [--customers 100000]
 *     [--warmup 50000] [--seed 42]
 * Prints one JSON object: µs per event for the whole chain and for each stage (journeyDecode is the
 * restore side: the changelog bytes just written, read back), and the bytes of each record.
 * Mature journeys: --customers 20000 --events 200000.
 *
 * Heap per journey: --heap [--customers 1000000] [--events 2000000] [--journeys N] streams simulator events through
 * decode and onEvent without holding the input, then measures the heap with and without the journeys
 * map (so neither the simulator's world nor any input buffer is counted).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { avroType, type CustomerEvent } from '@nextact/core';
import { World } from '@nextact/simulator';
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
const domain = createNbaDomain(policy);
const world = new World({ seed, customers, epochMs: Date.UTC(2026, 0, 1) });
const decisionType = avroType('nextact.Decision');

// Events as the engine receives them: Avro bytes per record type.
const wire = world.take(warmup + events).map((e) => ({ name: e.name, bytes: avroType(e.name).toBuffer(e.value) }));
const journeys = new Map<string, ReturnType<typeof domain.initialJourney>>();
let learner = domain.initialLearner();
const ns = { decode: 0n, step: 0n, journey: 0n, decision: 0n, journeyDecode: 0n };
let decisions = 0;
let journeyBytes = 0;
let decisionBytes = 0;

function run(from: number, to: number, timed: boolean): void {
  for (let i = from; i < to; i++) {
    const w = wire[i]!;
    const t0 = process.hrtime.bigint();
    const event = { name: w.name, value: avroType(w.name).fromBuffer(w.bytes) } as CustomerEvent;
    const t1 = process.hrtime.bigint();
    const r = domain.onEvent(journeys.get(event.value.customerId), learner, event, 0);
    journeys.set(event.value.customerId, r.journey);
    learner = r.learner;
    const t2 = process.hrtime.bigint();
    const jb = domain.serialiseJourney(r.journey);
    const t3 = process.hrtime.bigint();
    let db: Buffer | undefined;
    if (r.decision) db = decisionType.toBuffer(r.decision);
    const t4 = process.hrtime.bigint();
    domain.deserialiseJourney(jb);
    const t5 = process.hrtime.bigint();
    if (!timed) continue;
    ns.journeyDecode += t5 - t4;
    ns.decode += t1 - t0;
    ns.step += t2 - t1;
    ns.journey += t3 - t2;
    ns.decision += t4 - t3;
    journeyBytes += jb.length;
    if (db) {
      decisions++;
      decisionBytes += db.length;
    }
  }
}

run(0, warmup, false);
gc();
const heapBefore = process.memoryUsage().heapUsed;
const cpu0 = process.cpuUsage();
const wall0 = process.hrtime.bigint();
run(warmup, warmup + events, true);
const wallUs = Number(process.hrtime.bigint() - wall0 - ns.journeyDecode) / 1000;
const cpu = process.cpuUsage(cpu0);
gc();
const heapAfter = process.memoryUsage().heapUsed;
const us = (v: bigint) => Math.round((Number(v) / 1000 / events) * 100) / 100;
process.stdout.write(
  `${JSON.stringify(
    {
      events,
      customers,
      journeys: journeys.size,
      decisions,
      usPerEvent: Math.round((wallUs / events) * 100) / 100,
      // user+system over wall: above 1 is V8's GC threads working beside the main thread.
      cpuOverWall: Math.round(((cpu.user + cpu.system) / wallUs) * 100) / 100,
      // The chain figure excludes journeyDecode (restore work, not per-event work).
      stagesUs: {
        decode: us(ns.decode),
        step: us(ns.step),
        journeyEncode: us(ns.journey),
        decisionEncode: us(ns.decision),
        journeyDecode: us(ns.journeyDecode),
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
