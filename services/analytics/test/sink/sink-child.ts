/**
 * The sink as a separate process, for the crash test (run with `npx tsx`). Environment as for
 * the service, plus a crash point: CRASH_AT_INSERT=n and CRASH_MODE=before-insert|after-insert
 * make the n-th batch insert print `crash-point` and hang (before or after ClickHouse took the
 * rows) so the parent can kill -9 the process between the BEFORE and AFTER states.
 */
import { codecFromConfig, createLogger, createMetricsRegistry, kafkaFromConfig, loadConfig, topicNames } from '@nextact/core';
import { createSinkMetrics } from '../../src/sink/metrics';
import { sinkSettings } from '../../src/sink/settings';
import { ClickHouseSink } from '../../src/sink/sink';
import { createClickHouse } from '../../src/store/clickhouse';
import { migrate } from '../../src/store/migrations';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, bindings: { child: process.pid } });
  const store = createClickHouse(config);
  await migrate(store, logger);

  const crashAt = Number(process.env.CRASH_AT_INSERT ?? 0);
  const mode = process.env.CRASH_MODE ?? 'after-insert';
  let inserts = 0;
  const insert = store.insert.bind(store);
  store.insert = async (table, rows, token) => {
    inserts += 1;
    const hang = async () => {
      process.stderr.write(`${JSON.stringify({ msg: 'crash-point', mode, table, token, rows: rows.length })}\n`);
      await new Promise(() => {});
    };
    if (inserts === crashAt && mode === 'before-insert') await hang();
    await insert(table, rows, token);
    if (inserts === crashAt && mode === 'after-insert') await hang();
  };

  const sink = new ClickHouseSink({
    store,
    kafka: kafkaFromConfig(config, logger, 'analytics-child'),
    codec: codecFromConfig(config, logger),
    topics: topicNames(config.topicPrefix),
    groupId: `${config.topicPrefix}analytics-sink`,
    logger,
    metrics: createSinkMetrics(createMetricsRegistry('analytics')),
    ...sinkSettings(config),
  });
  const stop = async () => {
    await sink.stop();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  await sink.start();
  process.stderr.write(`${JSON.stringify({ msg: 'child-started' })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${JSON.stringify({ msg: 'child-failed', err: String(err) })}\n`);
  process.exit(1);
});
