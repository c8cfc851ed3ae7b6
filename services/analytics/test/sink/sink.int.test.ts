/**
 * The sink against the real broker, registry and embedded ClickHouse: a few thousand encoded
 * events and decisions plus one garbage record go in; every decodable record is one row, the
 * garbage is in the dead-letter topic with its reason, and offsets are committed to the end.
 */
import { type ConsumedRecord, createLogger, nextOffset } from '@nextact/core';
import { Registry } from 'prom-client';
import { createSinkMetrics } from '../../src/sink/metrics';
import { ClickHouseSink } from '../../src/sink/sink';
import { type ClickHouse, createClickHouse } from '../../src/store/clickhouse';
import { loadMigrations, migrate } from '../../src/store/migrations';
import { lastState } from '../../src/store/sink-state';
import { encodeAll, makeDecisions, makeEvents, produceAll, provisioned, testConfig, waitFor } from '../helpers';

jest.setTimeout(90_000);

describe('ClickHouse sink (Kafka -> embedded ClickHouse)', () => {
  const config = testConfig('sink');
  const logger = createLogger({ level: 'warn', bindings: { test: 'sink.int' } });
  let env: Awaited<ReturnType<typeof provisioned>>;
  let store: ClickHouse;

  beforeAll(async () => {
    env = await provisioned(config, 'analytics-sink-it');
    store = createClickHouse(config);
  });
  afterAll(async () => {
    await store?.close();
    await env?.cleanup();
  });

  it('applies migrations once', async () => {
    const first = await migrate(store, logger);
    expect(first.applied).toEqual(loadMigrations().map((m) => m.version));
    expect(first.applied.length).toBeGreaterThanOrEqual(4);
    const second = await migrate(store, logger);
    expect(second.applied).toEqual([]);
    const [row] = await store.rows<{ n: number }>('SELECT count() AS n FROM nextact.schema_migrations');
    expect(Number(row!.n)).toBe(first.applied.length);
  });

  it('writes every record once, dead-letters the garbage and commits to the end', async () => {
    const events = makeEvents(3_000, 200, 7);
    const decisions = makeDecisions(1_200, 200, 8);
    const garbage = Buffer.from('{"not":"avro"}');
    await produceAll(env.kafka, [
      ...encodeAll(env.codec, env.topics, events, decisions),
      { topic: env.topics.customerEvents, key: 'cust-garbage', value: garbage, headers: { origin: 'it' } },
    ]);

    const registry = new Registry();
    const metrics = createSinkMetrics(registry);
    const groupId = `${config.topicPrefix}analytics-sink`;
    const sink = new ClickHouseSink({ store, kafka: env.kafka, codec: env.codec, topics: env.topics, groupId, logger, metrics, maxRows: 700, maxWaitMs: 200 });
    await sink.start();
    try {
      const count = async (table: string) => Number((await store.rows<{ n: number }>(`SELECT count() AS n FROM nextact.${table}`))[0]!.n);
      await waitFor('all rows', async () => (await count('events')) === events.length && (await count('decisions')) === decisions.length);
      expect(sink.assigned).toBe(true);

      // Committed offsets reach the end of every partition (the garbage's offset included).
      const admin = await env.kafka.admin();
      try {
        for (const topic of [env.topics.customerEvents, env.topics.decisions]) {
          const marks = await admin.watermarks(topic);
          await waitFor(`commits on ${topic}`, async () => {
            const committed = await admin.groupOffsets(groupId, topic);
            return marks.every((m) => committed.find((c) => c.partition === m.partition)?.offset === m.high);
          });
          for (const m of marks) {
            if (m.high === '0') continue;
            const state = await lastState(store, groupId, topic, m.partition);
            expect(state?.state).toBe('AFTER');
            expect(nextOffset(state!.maxOffset)).toBe(m.high);
          }
        }
      } finally {
        await admin.close();
      }
    } finally {
      await sink.stop();
    }

    // Rows equal the unique records, field by field where it matters.
    const [ev] = await store.rows<Record<string, number>>(
      `SELECT count() AS n, uniqExact(event_id) AS ids, countIf(event_type = 'purchase') AS purchases, sum(amount_minor) AS amount,
              countIf(event_type = 'survey' AND nps IS NOT NULL) AS surveys, min(toUnixTimestamp64Milli(event_time)) AS first
       FROM nextact.events`,
    );
    const purchases = events.filter((e) => e.name === 'nextact.PurchaseEvent').map((e) => e.value as { amountMinor: number });
    expect(Number(ev!.n)).toBe(events.length);
    expect(Number(ev!.ids)).toBe(events.length);
    expect(Number(ev!.purchases)).toBe(purchases.length);
    expect(Number(ev!.amount)).toBe(purchases.reduce((s, p) => s + p.amountMinor, 0));
    expect(Number(ev!.surveys)).toBe(events.filter((e) => e.name === 'nextact.SurveyResponse').length);
    expect(Number(ev!.first)).toBe(Math.min(...events.map((e) => e.value.eventTime)));
    const [dec] = await store.rows<Record<string, number>>(
      `SELECT count() AS n, uniqExact(decision_id) AS ids, countIf(experiment_arm = 'CONTROL') AS control, countIf(deliver) AS delivered FROM nextact.decisions`,
    );
    expect(Number(dec!.ids)).toBe(decisions.length);
    expect(Number(dec!.control)).toBe(decisions.filter((d) => d.experimentArm === 'CONTROL').length);
    expect(Number(dec!.delivered)).toBe(decisions.filter((d) => d.deliver).length);
    const [fut] = await store.rows<Record<string, number>>(
      `SELECT countIf(model_version = 'clv-test-1') AS modelled, sum(p_alive) AS pAlive, sum(predicted_clv_minor) AS clv, countIf(p_alive IS NULL) AS unmodelled FROM nextact.decisions`,
    );
    const modelled = decisions.filter((d) => d.modelVersion === 'clv-test-1');
    expect(Number(fut!.modelled)).toBe(modelled.length);
    expect(Number(fut!.unmodelled)).toBe(decisions.length - modelled.length);
    expect(Number(fut!.pAlive)).toBeCloseTo(0.75 * modelled.length, 6);
    expect(Number(fut!.clv)).toBeCloseTo(12_345.5 * modelled.length, 3);
    // The materialized views saw each row once.
    const [agg] = await store.rows<{ n: number }>('SELECT sum(decisions) AS n FROM nextact.decisions_daily_v');
    expect(Number(agg!.n)).toBe(decisions.length);
    const [evAgg] = await store.rows<{ n: number }>('SELECT sum(events) AS n FROM nextact.events_daily_v');
    expect(Number(evAgg!.n)).toBe(events.length);

    // The garbage went to the dead-letter topic, with its reason and origin.
    const dead: ConsumedRecord[] = [];
    await env.kafka.readPartitions(
      env.topics.deadLetter,
      [0, 1, 2].map((partition) => ({ partition, from: '0' })),
      (records) => void dead.push(...records),
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]!.value?.equals(garbage)).toBe(true);
    expect(dead[0]!.key).toBe('cust-garbage');
    expect(dead[0]!.headers['dlq-reason']).toBe('decode-failed');
    expect(dead[0]!.headers['dlq-source-topic']).toBe(env.topics.customerEvents);
    expect(dead[0]!.headers.origin).toBe('it');
    expect(Number(dead[0]!.headers['dlq-source-offset'])).toBeGreaterThanOrEqual(0);
    const text = await registry.metrics();
    expect(text).toMatch(/nextact_dead_letters_total\{reason="decode-failed"\} 1/);
    expect(text).toMatch(new RegExp(`nextact_sink_rows_total\\{table="events"\\} ${events.length}\\b`));
    expect(text).toMatch(new RegExp(`nextact_sink_rows_total\\{table="decisions"\\} ${decisions.length}\\b`));
    expect(text).toMatch(/nextact_sink_insert_duration_seconds_count [1-9]/);
    expect(text).toMatch(/nextact_sink_consumer_lag\{topic="[^"]+",partition="\d"\} 0/);

    // A restart with nothing new adds nothing.
    const again = new ClickHouseSink({
      store,
      kafka: env.kafka,
      codec: env.codec,
      topics: env.topics,
      groupId,
      logger,
      metrics: createSinkMetrics(new Registry()),
      maxRows: 700,
      maxWaitMs: 200,
    });
    await again.start();
    await waitFor('rejoin', async () => again.assigned);
    await new Promise((r) => setTimeout(r, 1_500));
    await again.stop();
    const [after] = await store.rows<{ n: number }>('SELECT count() AS n FROM nextact.events');
    expect(Number(after!.n)).toBe(events.length);
  });
});
