/**
 * Against the real broker and registry: what the simulator produces is exactly what the world
 * generates for the seed, and decisions on the decisions topic get their reactions published.
 */
import { randomUUID } from 'node:crypto';
import {
  type Config,
  type ConsumedRecord,
  type CustomerEvent,
  codecFromConfig,
  type Decision,
  type KafkaClient,
  kafkaFromConfig,
  loadConfig,
  type RecordCodec,
  silentLogger,
  sleep,
  topicBindings,
  topicNames,
} from '@nextact/core';
import { runSimulation } from '../src/run';
import { World } from '../src/world';

jest.setTimeout(60_000);

const prefix = `test-sim-${randomUUID().slice(0, 8)}.`;
let config: Config;
let kafka: KafkaClient;
let codec: RecordCodec;

beforeAll(() => {
  config = loadConfig({ ...process.env, NEXTACT_TOPIC_PREFIX: prefix, NEXTACT_PARTITIONS: '3' });
  kafka = kafkaFromConfig(config, silentLogger, 'simulator-test');
  codec = codecFromConfig(config, silentLogger);
});

afterAll(async () => {
  const admin = await kafka.admin();
  try {
    await admin.deleteTopics((await admin.listTopics()).filter((t) => t.startsWith(prefix)));
  } finally {
    await admin.close();
  }
});

/** Reads a topic from the start until `count` records arrived (or the timeout). */
async function readAll(topic: string, count: number, timeoutMs = 30_000): Promise<ConsumedRecord[]> {
  const consumer = await kafka.consumer({ groupId: `${prefix}reader-${randomUUID()}`, topics: [topic], fromBeginning: true, commitMarked: true });
  const records: ConsumedRecord[] = [];
  try {
    await consumer.run(async (batch) => {
      records.push(...batch.records);
      const last = batch.records[batch.records.length - 1];
      if (last) batch.markProcessed(last.offset);
    });
    const deadline = Date.now() + timeoutMs;
    while (records.length < count && Date.now() < deadline) await sleep(100);
    return records;
  } finally {
    await consumer.close();
  }
}

async function totalRecords(topic: string): Promise<number> {
  const admin = await kafka.admin();
  try {
    return (await admin.watermarks(topic)).reduce((sum, w) => sum + Number(BigInt(w.high) - BigInt(w.low)), 0);
  } finally {
    await admin.close();
  }
}

it('produces exactly the seeded world to the customer-events topic, keyed and ordered per customer', async () => {
  const count = 2_000;
  const summary = await runSimulation({
    config,
    seed: 42,
    customers: 400,
    count,
    rate: 0,
    sink: 'kafka',
    logger: silentLogger,
    batchSize: 250,
    maxInFlight: 4,
  });
  const topic = topicNames(prefix).customerEvents;
  expect(summary).toMatchObject({ events: count, topic });
  expect(await totalRecords(topic)).toBe(count);

  const expected = new World({ seed: 42, customers: 400 }).take(count);
  const position = new Map(expected.map((e, i) => [e.value.eventId, i]));
  const records = await readAll(topic, count);
  expect(records).toHaveLength(count);

  const decoded = await Promise.all(records.map(async (r) => ({ record: r, event: (await codec.decode(r.value)) as CustomerEvent })));
  const byId = new Map(expected.map((e) => [e.value.eventId, e]));
  for (const { record, event } of decoded.filter((_, i) => i % 10 === 0)) {
    // Decoded records are avsc class instances: compare their data.
    expect({ name: event.name, value: JSON.parse(JSON.stringify(event.value)) }).toEqual(byId.get(event.value.eventId));
    expect(record.key).toBe(event.value.customerId);
    expect(record.headers).toEqual({ 'event-type': event.name, 'event-id': event.value.eventId });
  }
  expect(new Set(decoded.map((d) => d.event.value.eventId)).size).toBe(count);

  // Several sends were in flight: each customer's events must still be in generation order.
  const lastSeen = new Map<string, number>();
  let outOfOrder = 0;
  for (const { record, event } of decoded.sort(
    (a, b) => a.record.partition - b.record.partition || Number(BigInt(a.record.offset) - BigInt(b.record.offset)),
  )) {
    const at = position.get(event.value.eventId) as number;
    if ((lastSeen.get(record.key as string) ?? -1) > at) outOfOrder++;
    lastSeen.set(record.key as string, at);
  }
  expect(outOfOrder).toBe(0);
});

it('answers delivered decisions from the decisions topic and publishes the reactions', async () => {
  const names = topicNames(prefix);
  const decision = (n: number, deliver: boolean): Decision => ({
    decisionId: `${prefix}d-${n}`,
    customerId: `c-${String(n).padStart(6, '0')}`,
    triggerEventId: `trigger-${n}`,
    triggerType: 'nextact.BrowseEvent',
    actionId: 'offer_discount',
    channel: 'EMAIL',
    deliver,
    journeyStage: 'CONSIDERATION',
    experimentId: 'exp-int',
    experimentArm: deliver ? 'TREATMENT' : 'CONTROL',
    probability: 0.5,
    score: 1,
    candidates: [],
    reasonCodes: [],
    policyVersion: 'int-1',
    eventTime: Date.UTC(2026, 0, 1),
    decisionTime: Date.now(),
    schemaVersion: 1,
    modelVersion: null,
    pAlive: null,
    predictedClvMinor: null,
  });
  const decisions = Array.from({ length: 20 }, (_, n) => decision(n, n % 2 === 0));
  const before = await totalRecords(names.customerEvents);

  let publish: Promise<unknown> = Promise.resolve();
  const summary = await runSimulation({
    config,
    seed: 5,
    customers: 50,
    count: 200,
    rate: 400,
    sink: 'kafka',
    respond: true,
    respondGroupId: `${prefix}responder`,
    respondFromBeginning: true,
    respondDrainSec: 4,
    logger: silentLogger,
    onReady: () => {
      // Acts as the engine: decisions arrive while the simulation runs.
      publish = (async () => {
        await codec.register(topicBindings(prefix));
        const producer = await kafka.producer();
        try {
          await producer.send(
            decisions.map((d) => ({ topic: names.decisions, key: d.customerId, value: codec.encode(names.decisions, 'nextact.Decision', d) })),
          );
        } finally {
          await producer.close();
        }
      })();
    },
  });
  await publish;
  expect(summary.responder).toMatchObject({ decisions: 20, delivered: 10, answered: 10 });
  expect(summary.responder?.outcomes.DELIVERED).toBe(10);

  const total = await totalRecords(names.customerEvents);
  const records = await readAll(names.customerEvents, total);
  const outcomes: { decisionId: string; outcome: string }[] = [];
  for (const r of records) {
    const e = (await codec.decode(r.value)) as CustomerEvent;
    if (e.name === 'nextact.ActionOutcome' && e.value.decisionId.startsWith(`${prefix}d-`)) outcomes.push(e.value);
  }
  expect(total - before).toBe(200 + (summary.responder?.events ?? 0));
  const delivered = outcomes.filter((o) => o.outcome === 'DELIVERED').map((o) => o.decisionId);
  expect(delivered.sort()).toEqual(
    decisions
      .filter((d) => d.deliver)
      .map((d) => d.decisionId)
      .sort(),
  );
  // Control-arm decisions get no reaction at all.
  expect(outcomes.filter((o) => decisions.find((d) => d.decisionId === o.decisionId)?.deliver === false)).toEqual([]);
});
