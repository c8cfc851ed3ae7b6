import {
  codecFromConfig,
  createLogger,
  createMetricsRegistry,
  errorMessage,
  type HttpService,
  kafkaFromConfig,
  loadConfig,
  provision,
  retry,
  startHttpService,
  topicNames,
} from '@nextact/core';
import { type ClickHouse, createClickHouse } from './clickhouse';
import { createSinkMetrics } from './metrics';
import { migrate } from './migrations';
import { reportRoutes } from './routes';
import { sinkSettings } from './settings';
import { ClickHouseSink } from './sink';

/**
 * Entrypoint: `npx tsx services/analytics/src/main.ts`. This process owns the ClickHouse store
 * (embedded chdb allows one process per folder), so it both sinks Kafka into it and answers the
 * report queries. Ready = migrations applied and the sink's consumer joined its group.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const tuning = sinkSettings(config);
  const logger = createLogger({ level: config.logLevel, bindings: { service: 'analytics' } });
  const metrics = createMetricsRegistry('analytics');
  const sinkMetrics = createSinkMetrics(metrics);
  const topics = topicNames(config.topicPrefix);
  const kafka = kafkaFromConfig(config, logger, 'analytics');
  const codec = codecFromConfig(config, logger);

  const store: ClickHouse = createClickHouse(config);
  let migrated = false;
  let sink: ClickHouseSink | undefined;
  let notReady = 'applying migrations';

  const http: HttpService = await startHttpService({
    name: 'analytics',
    host: config.httpHost,
    port: config.analyticsPort,
    metrics,
    logger,
    readiness: () => (migrated && sink?.assigned ? { ready: true } : { ready: false, reason: migrated ? 'waiting for partition assignment' : notReady }),
    routes: reportRoutes(() => (migrated ? store : null), logger),
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    try {
      await sink?.stop();
      await http.close();
      await store.close();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error('shutdown failed', { err });
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const { applied } = await migrate(store, logger);
  migrated = true;
  logger.info('store ready', { mode: store.mode, path: store.path, database: store.database, applied });

  notReady = 'provisioning topics and schemas';
  await retry(() => provision(config, kafka, codec, logger), {
    retries: 20,
    initialDelayMs: 500,
    maxDelayMs: 5_000,
    shouldRetry: () => !stopping,
    onRetry: (err, attempt, delayMs) => {
      notReady = `provisioning failed (attempt ${attempt}): ${errorMessage(err)}`;
      logger.warn('provision failed; retrying', { err, attempt, delayMs });
    },
  });
  if (stopping) return;
  sink = new ClickHouseSink({
    store,
    kafka,
    codec,
    topics,
    groupId: `${config.topicPrefix}analytics-sink`,
    logger,
    metrics: sinkMetrics,
    maxRows: tuning.maxRows,
    maxWaitMs: tuning.maxWaitMs,
  });
  await sink.start();
  logger.info('analytics ready', { url: http.url, topics: [topics.customerEvents, topics.decisions], ...tuning });
}

main().catch((err) => {
  createLogger().error('analytics failed to start', { err });
  process.exit(1);
});
