/**
 * Rows per second from Kafka into embedded ClickHouse through the sink path (decode, batch,
 * BEFORE/insert/AFTER, commit). `npx tsx services/analytics/bench/sink-throughput.ts [events]`
 * Uses its own topic prefix and a temporary chdb folder, and deletes both at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codecFromConfig, createLogger, kafkaFromConfig, loadConfig, provision, topicNames, topicSpecs } from '@nextact/core';
import { Registry } from 'prom-client';
import { createClickHouse } from '../src/clickhouse';
import { createSinkMetrics } from '../src/metrics';
import { migrate } from '../src/migrations';
import { sinkSettings } from '../src/settings';
import { ClickHouseSink } from '../src/sink';
import { encodeAll, makeEvents, produceAll } from '../test/helpers';

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 200_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'nextact-analytics-bench-'));
  const config = loadConfig({
    ...process.env,
    NEXTACT_TOPIC_PREFIX: `bench-an-${randomBytes(4).toString('hex')}.`,
    CHDB_PATH: join(dataDir, 'chdb'),
    CLICKHOUSE_URL: '',
  });
  const logger = createLogger({ level: 'warn', bindings: { bench: 'sink' } });
  const kafka = kafkaFromConfig(config, logger, 'analytics-bench');
  const codec = codecFromConfig(config, logger);
  const topics = topicNames(config.topicPrefix);
  const settings = sinkSettings(config);
  await provision(config, kafka, codec, logger);
  const store = createClickHouse(config);
  try {
    await migrate(store, logger);
    let t = Date.now();
    const events = makeEvents(total, 20_000, 99);
    const records = encodeAll(codec, topics, events, []);
    const encodeMs = Date.now() - t;
    t = Date.now();
    await produceAll(kafka, records, 5_000);
    const produceMs = Date.now() - t;

    const registry = new Registry();
    const sink = new ClickHouseSink({
      store,
      kafka,
      codec,
      topics,
      groupId: `${config.topicPrefix}analytics-sink`,
      logger,
      metrics: createSinkMetrics(registry),
      ...settings,
    });
    t = Date.now();
    await sink.start();
    let rows = 0;
    while (rows < total) {
      await new Promise((r) => setTimeout(r, 100));
      rows = Number((await store.rows<{ n: number }>(`SELECT count() AS n FROM ${config.clickhouseDatabase}.events`))[0]!.n);
      if (Date.now() - t > 600_000) throw new Error(`only ${rows} of ${total} rows after 10 minutes`);
    }
    const sinkMs = Date.now() - t;
    await sink.stop();
    const metrics = await registry.getMetricsAsJSON();
    const insert = metrics.find((m) => m.name === 'nextact_sink_insert_duration_seconds')?.values ?? [];
    const named = insert as { metricName?: string; value: number }[];
    const sum = Number(named.find((v) => v.metricName === 'nextact_sink_insert_duration_seconds_sum')?.value ?? 0);
    const count = Number(named.find((v) => v.metricName === 'nextact_sink_insert_duration_seconds_count')?.value ?? 0);
    process.stdout.write(
      `${JSON.stringify(
        {
          events: total,
          partitions: config.partitions,
          maxRows: settings.maxRows,
          encodeMs,
          produceMs,
          produceRowsPerSec: Math.round(total / (produceMs / 1000)),
          sinkMs,
          sinkRowsPerSec: Math.round(total / (sinkMs / 1000)),
          inserts: count,
          meanInsertMs: count ? Math.round((sum / count) * 1000) : null,
          insertRowsPerSec: sum ? Math.round(total / sum) : null,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await store.close();
    const admin = await kafka.admin();
    await admin.deleteTopics(topicSpecs(config).map((s) => s.name)).catch(() => {});
    await admin.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${String(err?.stack ?? err)}\n`);
  process.exit(1);
});
