/**
 * The analytics sink in the test process, on a fault test's topics, with an embedded ClickHouse
 * folder of its own: started, waited on until its commits reach the end of both topics, stopped.
 * The store stays open after the sink stops, so the test can count rows (one process per folder).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KafkaClient, type Logger, loadConfig, type RecordCodec, sleep, type TopicNames } from '@nextact/core';
import { Registry } from 'prom-client';
import { createSinkMetrics } from '../../../services/analytics/src/sink/metrics';
import { ClickHouseSink } from '../../../services/analytics/src/sink/sink';
import { type ClickHouse, createClickHouse } from '../../../services/analytics/src/store/clickhouse';
import { migrate } from '../../../services/analytics/src/store/migrations';

export interface SinkUnderTest {
  store: ClickHouse;
  groupId: string;
  dataDir: string;
  /** Waits until the sink's committed offsets reach the high watermark of both its topics. */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  /** Closes the store and removes its folder. */
  remove(): Promise<void>;
}

export async function startSink(opts: { kafka: KafkaClient; codec: RecordCodec; topics: TopicNames; prefix: string; logger: Logger }): Promise<SinkUnderTest> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nextact-fault-sink-'));
  const config = loadConfig({ ...process.env, NEXTACT_TOPIC_PREFIX: opts.prefix, CHDB_PATH: join(dataDir, 'chdb'), CLICKHOUSE_URL: '' });
  const store = createClickHouse(config);
  await migrate(store, opts.logger);
  const groupId = `${opts.prefix}analytics-sink`;
  const sink = new ClickHouseSink({
    store,
    kafka: opts.kafka,
    codec: opts.codec,
    topics: opts.topics,
    groupId,
    logger: opts.logger,
    metrics: createSinkMetrics(new Registry()),
    maxRows: 1_000,
    maxWaitMs: 200,
  });
  await sink.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await sink.stop();
  };
  return {
    store,
    groupId,
    dataDir,
    async caughtUp(timeoutMs = 60_000) {
      const admin = await opts.kafka.admin();
      try {
        const deadline = Date.now() + timeoutMs;
        for (const topic of [opts.topics.customerEvents, opts.topics.decisions]) {
          for (;;) {
            const marks = await admin.watermarks(topic);
            const committed = await admin.groupOffsets(groupId, topic);
            if (marks.every((m) => m.high === '0' || committed.find((c) => c.partition === m.partition)?.offset === m.high)) break;
            if (Date.now() > deadline) throw new Error(`sink not caught up on ${topic}: ${JSON.stringify({ marks, committed })}`);
            await sleep(250);
          }
        }
      } finally {
        await admin.close();
      }
    },
    stop,
    async remove() {
      await stop();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Rows per id in a sink table (`events` by event_id, `decisions` by decision_id). */
export async function rowIds(store: ClickHouse, table: 'events' | 'decisions'): Promise<string[]> {
  const column = table === 'events' ? 'event_id' : 'decision_id';
  const rows = await store.rows<{ id: string }>(`SELECT ${column} AS id FROM nextact.${table}`);
  return rows.map((r) => r.id);
}
