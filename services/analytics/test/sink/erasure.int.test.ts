/**
 * Right to be forgotten, end to end on the real broker, registry and embedded ClickHouse, with the
 * real engine as a child process: customers act, decisions are made and sunk; then
 * `npm run customer -- forget ID` (its function) erases one of them. Afterwards:
 *   - ClickHouse holds no event row and no decision row of that customer, others are untouched,
 *     and the erasure record says who, when and how many rows went;
 *   - the engine's state for the id is gone: the latest changelog record of the key is a tombstone
 *     (null value), and fresh stores (memory, lmdb) restoring the whole changelog have no state
 *     for it; a late outcome of the customer then makes no decision and no row, and starts a
 *     fresh journey holding only itself (the engine keeps no list of erased ids);
 *   - rebuilds from the log do not bring the customer back: folding the whole customer-events log
 *     through the engine's processor deletes the history at the erasure and ends with the same
 *     fresh journey, the engine's own lmdb store holds that one, and a fresh sink (new group, new
 *     database) that reads both topics from the beginning ends with no row of the customer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConsumedRecord, createLogger, type KafkaAdmin, type RecordCodec, type RecordConsumer, validateRecord } from '@nextact/core';
import { Registry } from 'prom-client';
import { forget } from '../../../../scripts/customer';
import { freePort, type ServiceProcess, startService, stopService } from '../../../../scripts/lib/services';
import type { JourneyState } from '../../../engine/src/journey/state';
import { createNbaDomain } from '../../../engine/src/nba';
import { loadPolicy } from '../../../engine/src/policy/load';
import { ChangelogCodec } from '../../../engine/src/runtime/changelog';
import { emptyEffects, Processor } from '../../../engine/src/runtime/processor';
import { restorePartitions } from '../../../engine/src/runtime/restore';
import { PartitionStore } from '../../../engine/src/runtime/store';
import { MemoryPartitionState, openPartitionState } from '../../../engine/src/runtime/stores';
import { labelValuesOf } from '../../../gateway/test/metric-labels';
import { createSinkMetrics } from '../../src/sink/metrics';
import { ClickHouseSink } from '../../src/sink/sink';
import { type ClickHouse, createClickHouse } from '../../src/store/clickhouse';
import { migrate } from '../../src/store/migrations';
import { encodeAll, makeEvents, produceAll, provisioned, testConfig, waitFor } from '../helpers';

jest.setTimeout(180_000);

const policy = loadPolicy(join(__dirname, '../../../engine/policy/policy.yaml'));
const domain = createNbaDomain(policy);

describe('erasure: forget a customer everywhere, and keep them forgotten on replay', () => {
  const config = testConfig('erasure');
  const logger = createLogger({ level: 'warn', bindings: { test: 'erasure.int' } });
  const stateDir = mkdtempSync(join(tmpdir(), 'nextact-erasure-engine-'));
  let env: Awaited<ReturnType<typeof provisioned>>;
  let admin: KafkaAdmin;
  let store: ClickHouse;
  let rebuilt: ClickHouse | undefined;
  let engine: ServiceProcess | undefined;
  const sinks: ClickHouseSink[] = [];
  const engineGroup = `${config.topicPrefix}engine`;

  const registries: Registry[] = [];
  const sinkOn = (s: ClickHouse, groupId: string) => {
    const registry = new Registry();
    registries.push(registry);
    return new ClickHouseSink({
      store: s,
      kafka: env.kafka,
      codec: env.codec,
      topics: env.topics,
      groupId,
      logger,
      metrics: createSinkMetrics(registry),
      maxRows: 150,
      maxWaitMs: 200,
    });
  };

  /** The group has committed every partition of the topics to their end. */
  const caughtUp = async (groupId: string, topics: string[]) => {
    for (const topic of topics) {
      const marks = await admin.watermarks(topic);
      const committed = await admin.groupOffsets(groupId, topic);
      for (const m of marks) {
        if (m.high === '0') continue;
        if (committed.find((c) => c.partition === m.partition)?.offset !== m.high) return false;
      }
    }
    return true;
  };
  const rowsOf = async (s: ClickHouse, table: 'events' | 'decisions', customerId: string) =>
    Number((await s.rows<{ n: string }>(`SELECT count() AS n FROM ${s.database}.${table} WHERE customer_id = {c:String}`, { c: customerId }))[0]!.n);
  const rowsExcept = async (s: ClickHouse, table: 'events' | 'decisions', customerId: string) =>
    Number((await s.rows<{ n: string }>(`SELECT count() AS n FROM ${s.database}.${table} WHERE customer_id != {c:String}`, { c: customerId }))[0]!.n);

  beforeAll(async () => {
    env = await provisioned(config, 'erasure-it');
    admin = await env.kafka.admin();
    store = createClickHouse(config);
    await migrate(store, logger);
  });

  afterAll(async () => {
    for (const s of sinks) await s.stop().catch(() => {});
    if (engine) await stopService(engine);
    await rebuilt?.close();
    await store?.close();
    await admin?.close();
    await env?.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('erases the customer from state, decisions and events, and a rebuild does not bring them back', async () => {
    // Customers act; complaints, product views and purchases make decisions.
    const events = makeEvents(900, 12, 31);
    await produceAll(env.kafka, encodeAll(env.codec, env.topics, events, []));

    const enginePort = await freePort();
    engine = startService('engine', {
      port: enginePort,
      env: {
        ...process.env,
        NEXTACT_TOPIC_PREFIX: config.topicPrefix,
        NEXTACT_PARTITIONS: '3',
        ENGINE_PORT: String(enginePort),
        ENGINE_STATE_DIR: stateDir,
        ENGINE_STORE: 'lmdb',
        ENGINE_CHECKPOINT_INTERVAL_MS: '1000',
        LOG_LEVEL: 'warn',
      },
      logFile: join(config.dataDir, 'engine.log'),
    });
    const sink = sinkOn(store, `${config.topicPrefix}analytics-sink`);
    sinks.push(sink);
    await sink.start();

    await waitFor('engine caught up', () => caughtUp(engineGroup, [env.topics.customerEvents]), 90_000);
    await waitFor('sink caught up', () => caughtUp(`${config.topicPrefix}analytics-sink`, [env.topics.customerEvents, env.topics.decisions]), 60_000);

    // The customer with the most decisions is the one to forget.
    const [top] = await store.rows<{ customer_id: string; n: string }>(
      `SELECT customer_id, count() AS n FROM nextact.decisions GROUP BY customer_id ORDER BY n DESC, customer_id LIMIT 1`,
    );
    const victim = top!.customer_id;
    const eventsBefore = await rowsOf(store, 'events', victim);
    const decisionsBefore = await rowsOf(store, 'decisions', victim);
    expect(eventsBefore).toBeGreaterThan(0);
    expect(decisionsBefore).toBeGreaterThan(0);
    const othersEvents = await rowsExcept(store, 'events', victim);
    const othersDecisions = await rowsExcept(store, 'decisions', victim);

    const asked = await forget(config, victim, 'dpo@example.com', 'ticket DP-42', 'erasure-it-1');
    expect(asked).toMatchObject({ erasureId: 'erasure-it-1', customerId: victim, requestedBy: 'dpo@example.com' });

    await waitFor('erasure record', async () => (await store.rows(`SELECT 1 FROM nextact.erasures WHERE erasure_id = 'erasure-it-1'`)).length === 1);
    await waitFor('engine caught up after the erasure', () => caughtUp(engineGroup, [env.topics.customerEvents]), 60_000);
    await waitFor(
      'sink caught up after the erasure',
      () => caughtUp(`${config.topicPrefix}analytics-sink`, [env.topics.customerEvents, env.topics.decisions]),
      60_000,
    );

    // ClickHouse: nothing of the customer, everyone else untouched.
    expect(await rowsOf(store, 'events', victim)).toBe(0);
    expect(await rowsOf(store, 'decisions', victim)).toBe(0);
    expect(await rowsExcept(store, 'events', victim)).toBe(othersEvents);
    const othersDecisionsAfter = await rowsExcept(store, 'decisions', victim);
    expect(othersDecisionsAfter).toBe(othersDecisions);
    const [record] = await store.rows<Record<string, string | number | null>>(
      `SELECT customer_id, requested_by, reason, source, toUnixTimestamp64Milli(requested_at) AS requested_at, events_deleted, decisions_deleted FROM nextact.erasures FINAL`,
    );
    expect(record).toMatchObject({ customer_id: victim, requested_by: 'dpo@example.com', reason: 'ticket DP-42', source: 'cli' });
    expect(Number(record!.events_deleted)).toBe(eventsBefore);
    expect(Number(record!.decisions_deleted)).toBe(decisionsBefore);

    // Engine state: the latest changelog record of the id is a tombstone; records before it (its
    // history, until compaction removes them) are the documented exception.
    const changelog = await readAll(env.kafka, env.topics.journeyChangelog, `${config.topicPrefix}check-changelog`);
    const ofVictim = changelog.filter((r) => r.key === victim);
    expect(ofVictim.length).toBeGreaterThan(1);
    expect(ofVictim.at(-1)!.value).toBeNull();

    // Fresh stores (memory and lmdb) restoring the whole changelog have no state for the customer,
    // and the same journeys for everyone else.
    const values = new ChangelogCodec(domain, { codec: env.codec, topic: env.topics.journeyChangelog });
    await values.register();
    const restoredJourneys: number[] = [];
    const freshDir = mkdtempSync(join(tmpdir(), 'nextact-erasure-restore-'));
    try {
      for (const kind of ['memory', 'lmdb'] as const) {
        const stores = await Promise.all(
          [0, 1, 2].map(async (p) =>
            kind === 'memory'
              ? new PartitionStore(domain, new MemoryPartitionState(values.journeyValues), values)
              : new PartitionStore(domain, await openPartitionState({ kind: 'lmdb', dir: freshDir }, p, values.journeyValues), values),
          ),
        );
        try {
          await restorePartitions({
            kafka: env.kafka,
            admin,
            changelogTopic: env.topics.journeyChangelog,
            items: stores.map((store, partition) => ({ partition, store })),
            logger,
          });
          let journeys = 0;
          for (const st of stores) {
            expect(st.journeys.get(victim)).toBeUndefined();
            expect(st.timers.dueOf(victim)).toBeUndefined();
            const ids = [...st.journeys.range()].map(([id]) => id);
            expect(ids).not.toContain(victim);
            journeys += ids.length;
          }
          restoredJourneys.push(journeys);
        } finally {
          for (const st of stores) await st.close();
        }
      }
    } finally {
      rmSync(freshDir, { recursive: true, force: true });
    }
    expect(restoredJourneys[0]).toBeGreaterThan(0);
    expect(restoredJourneys[1]).toBe(restoredJourneys[0]);

    // A late outcome of the erased customer (an email provider reporting days later). The engine
    // keeps no list of erased ids: the id starts a fresh journey holding this outcome only, and
    // nothing of the history (docs/security.md: events after an erasure). It decides nothing; the
    // sink removes its row, since the erasure record lists the id.
    const late = validateRecord('nextact.ActionOutcome', {
      eventId: 'late-outcome-1',
      customerId: victim,
      eventTime: Date.UTC(2026, 0, 6),
      source: 'email',
      decisionId: 'dec-late',
      actionId: 'offer_discount',
      channel: 'EMAIL',
      outcome: 'CONVERTED',
      valueMinor: 100,
    });
    await produceAll(env.kafka, encodeAll(env.codec, env.topics, [{ name: 'nextact.ActionOutcome', value: late }], []));
    await waitFor('engine caught up after the late outcome', () => caughtUp(engineGroup, [env.topics.customerEvents]), 60_000);
    await waitFor(
      'sink caught up after the late outcome',
      () => caughtUp(`${config.topicPrefix}analytics-sink`, [env.topics.customerEvents, env.topics.decisions]),
      60_000,
    );
    await waitFor('the late row removed', async () => (await rowsOf(store, 'events', victim)) === 0, 30_000);
    expect(await rowsOf(store, 'decisions', victim)).toBe(0);
    const after = (await readAll(env.kafka, env.topics.journeyChangelog, `${config.topicPrefix}check-changelog-2`)).filter((r) => r.key === victim);
    const fresh = values.decodeJourney(after.at(-1)!.value!);
    const freshOnly = (j: JourneyState) => {
      expect(j.customerId).toBe(victim);
      expect(j.seenEvents).toHaveLength(1);
      expect(j.rfm.purchaseCount).toBe(0);
      expect(j.recentDecisions).toEqual([]);
      expect(j.followUps).toEqual([]);
    };
    freshOnly(fresh);

    // On the decisions topic (retained: the documented exception) nothing was added for the customer:
    // the erasure does not move stream time, so it fires no timer of theirs before it applies.
    const decisions = await decodeAll(env.codec, await readAll(env.kafka, env.topics.decisions, `${config.topicPrefix}check-decisions`));
    expect(decisions.filter((d) => d.customerId === victim)).toHaveLength(decisionsBefore);

    // Rebuild of the engine's state from the input log, through the engine's processor: the erasure
    // deletes the history, and the rebuilt journey is the live one (the late outcome's only).
    const input = await readAll(env.kafka, env.topics.customerEvents, `${config.topicPrefix}check-events`);
    const folded = new PartitionStore(domain);
    const processor = new Processor(domain, folded);
    let erasedInFold = false;
    for (const r of input.filter((x) => x.key === victim)) {
      const decoded = await env.codec.decode(r.value!);
      processor.applyEvent(decoded as never, { decisionTime: 0, triggerTimestamp: r.timestamp }, emptyEffects());
      if (decoded.name === 'nextact.ErasureRequest') {
        expect(folded.journeys.get(victim)).toBeUndefined();
        erasedInFold = true;
      }
    }
    expect(erasedInFold).toBe(true);
    expect(domain.serialiseJourney(folded.journeys.get(victim)!)).toEqual(domain.serialiseJourney(fresh));

    // Rebuild of ClickHouse from the topics: a fresh sink group into a fresh database.
    await sink.stop();
    rebuilt = createClickHouse({ ...config, clickhouseDatabase: 'rebuild' });
    await migrate(rebuilt, logger);
    const again = sinkOn(rebuilt, `${config.topicPrefix}analytics-rebuild`);
    sinks.push(again);
    await again.start();
    await waitFor('rebuild caught up', () => caughtUp(`${config.topicPrefix}analytics-rebuild`, [env.topics.customerEvents, env.topics.decisions]), 60_000);
    expect(await rowsOf(rebuilt, 'events', victim)).toBe(0);
    expect(await rowsOf(rebuilt, 'decisions', victim)).toBe(0);
    expect(await rowsExcept(rebuilt, 'events', victim)).toBe(othersEvents);
    expect(await rowsExcept(rebuilt, 'decisions', victim)).toBe(othersDecisionsAfter);
    expect((await rebuilt.rows(`SELECT 1 FROM rebuild.erasures WHERE customer_id = {c:String}`, { c: victim })).length).toBe(1);

    // No customer id in the engine's or the sink's metric labels after all this traffic.
    const customers = new Set(events.map((e) => e.value.customerId));
    const expositions = [await (await fetch(`http://127.0.0.1:${enginePort}/metrics`)).text()];
    for (const registry of registries) expositions.push(await registry.metrics());
    for (const exposition of expositions) {
      const labels = labelValuesOf(exposition);
      expect(labels.size).toBeGreaterThan(0);
      expect([...customers].filter((c) => labels.has(c))).toEqual([]);
    }

    // The engine's own store (lmdb, read once the engine stopped) holds the fresh journey only.
    await stopService(engine);
    engine = undefined;
    const own = await Promise.all(
      [0, 1, 2].map(
        async (p) => new PartitionStore(domain, await openPartitionState({ kind: 'lmdb', dir: join(stateDir, engineGroup) }, p, values.journeyValues), values),
      ),
    );
    try {
      const holding = own.filter((st) => st.journeys.get(victim) !== undefined);
      expect(holding).toHaveLength(1);
      freshOnly(holding[0]!.journeys.get(victim)!);
      expect(own.reduce((n, st) => n + [...st.journeys.range()].length, 0)).toBe(restoredJourneys[0]! + 1);
    } finally {
      for (const st of own) await st.close();
    }
  });
});

/** Every committed record of a topic (read after the writers caught up: quiet for 1.5 s = the end). */
async function readAll(kafka: Awaited<ReturnType<typeof provisioned>>['kafka'], topic: string, groupId: string): Promise<ConsumedRecord[]> {
  const got = new Map<string, ConsumedRecord>();
  let lastArrival = Date.now();
  const consumer: RecordConsumer = await kafka.consumer({ groupId, topics: [topic], fromBeginning: true, commitMarked: true });
  try {
    void consumer.run(async (batch) => {
      for (const r of batch.records) got.set(`${r.partition}/${r.offset}`, r);
      const last = batch.records.at(-1);
      if (last) batch.markProcessed(last.offset);
      lastArrival = Date.now();
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() - lastArrival < 1_500 || got.size === 0) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await consumer.close();
  }
  return [...got.values()].sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
}

async function decodeAll(codec: RecordCodec, records: ConsumedRecord[]) {
  const out: { customerId: string }[] = [];
  for (const r of records) out.push((await codec.decode(r.value!)).value as { customerId: string });
  return out;
}
