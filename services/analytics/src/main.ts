/**
 * Entrypoint: `npx tsx services/analytics/src/main.ts`. This process owns the ClickHouse store
 * (embedded chdb allows one process per folder), so it both sinks Kafka into it and answers the
 * report queries. Reports answer once migrations are applied (even while Kafka is unreachable);
 * ready = the sink's consumer joined its group.
 */
import { createLogger, runService, topicNames } from '@nextact/core';
import { ClvModels, clvRoutes, ModelPublisher } from './futures';
import { reportRoutes } from './reports/routes';
import { createSinkMetrics } from './sink/metrics';
import { sinkSettings } from './sink/settings';
import { ClickHouseSink } from './sink/sink';
import { type ClickHouse, createClickHouse } from './store/clickhouse';
import { migrate } from './store/migrations';

let store: ClickHouse | undefined;
let models: ClvModels | null = null;

runService({
  name: 'analytics',
  port: (config) => config.analyticsPort,
  // Reports (JSON and the HTML page) need ANALYTICS_AUTH_TOKEN when it is set; /metrics, /healthz, /readyz stay open on loopback.
  routeToken: (config) => config.analyticsToken,
  prepare: async ({ config, logger, notReady, serve, onStop }) => {
    notReady('applying migrations');
    const opened = createClickHouse(config);
    onStop(() => opened.close());
    const { applied } = await migrate(opened, logger);
    store = opened;
    logger.info('store ready', { mode: opened.mode, path: opened.path, database: opened.database, applied });
    const clv = clvRoutes(
      () => store ?? null,
      () => models,
      logger,
    );
    const reports = reportRoutes(() => store ?? null, logger);
    serve(async (req, res) => (await clv(req, res)) || reports(req, res));
  },
  start: async ({ config, kafka, codec, logger, metrics, readiness, onStop }) => {
    const clickhouse = store as ClickHouse;
    const tuning = sinkSettings(config);
    const topics = topicNames(config.topicPrefix);
    models = new ClvModels(clickhouse, new ModelPublisher(config, kafka, codec), logger);
    const fitter = models;
    onStop(() => fitter.stop());
    fitter.schedule(config.clvFitMinutes);
    const sink = new ClickHouseSink({
      store: clickhouse,
      kafka,
      codec,
      topics,
      groupId: `${config.topicPrefix}analytics-sink`,
      logger,
      metrics: createSinkMetrics(metrics),
      maxRows: tuning.maxRows,
      maxWaitMs: tuning.maxWaitMs,
    });
    onStop(() => sink.stop());
    readiness(() => (sink.assigned ? { ready: true } : { ready: false, reason: 'waiting for partition assignment' }));
    await sink.start();
    logger.info('analytics ready', { topics: [topics.customerEvents, topics.decisions], ...tuning });
    return sink;
  },
}).catch((err) => {
  createLogger({ bindings: { service: 'analytics' } }).error('analytics failed to start', { err });
  process.exit(1);
});
