import {
  codecFromConfig,
  createLogger,
  createMetricsRegistry,
  exitOnSignals,
  type HttpService,
  kafkaFromConfig,
  loadConfig,
  provisionUntilReady,
  startHttpService,
  topicNames,
} from '@nextact/core';
import { type ClickHouse, createClickHouse } from './clickhouse';
import { ClvModels, clvRoutes, ModelPublisher } from './clv';
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
  let clvModels: ClvModels | null = null;

  const http: HttpService = await startHttpService({
    name: 'analytics',
    host: config.httpHost,
    port: config.analyticsPort,
    metrics,
    logger,
    // Reports (JSON and the HTML page) need ANALYTICS_AUTH_TOKEN when it is set; /metrics, /healthz, /readyz stay open on loopback.
    routeToken: config.analyticsToken,
    rateLimit: config.httpRateLimit,
    // Until the sink exists the reason is the latest provisioning failure (e.g. the broker or the
    // registry unreachable, with its NXA_* code), not a generic "waiting".
    readiness: () => (sink?.assigned ? { ready: true } : { ready: false, reason: sink ? 'waiting for partition assignment' : notReady }),
    routes: (() => {
      const clv = clvRoutes(
        () => (migrated ? store : null),
        () => clvModels,
        logger,
      );
      const reports = reportRoutes(() => (migrated ? store : null), logger);
      return async (req, res) => (await clv(req, res)) || reports(req, res);
    })(),
  });

  const lifecycle = exitOnSignals(logger, async () => {
    await clvModels?.stop();
    await sink?.stop();
    await http.close();
    await store.close();
  });

  const { applied } = await migrate(store, logger);
  migrated = true;
  logger.info('store ready', { mode: store.mode, path: store.path, database: store.database, applied });

  notReady = 'provisioning topics and schemas';
  await provisionUntilReady(config, kafka, codec, logger, { stopping: () => lifecycle.stopping, onFailure: (reason) => (notReady = reason) });
  if (lifecycle.stopping) return;
  clvModels = new ClvModels(store, new ModelPublisher(config, kafka, codec), logger);
  clvModels.schedule(config.clvFitMinutes);
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
