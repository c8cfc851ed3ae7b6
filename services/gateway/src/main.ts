import {
  codecFromConfig,
  createLogger,
  createMetricsRegistry,
  exitOnSignals,
  type HttpService,
  kafkaFromConfig,
  loadConfig,
  provisionUntilReady,
  type RecordProducer,
  startHttpService,
  topicNames,
} from '@nextact/core';
import { createGateway, type Gateway } from './gateway';

/**
 * Entrypoint: `npx tsx services/gateway/src/main.ts`. The ops endpoints come up first so
 * /healthz answers while topics and schemas are provisioned; /readyz turns 200 once the
 * producer is connected, and POST /v1/events answers 503 until then.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, bindings: { service: 'gateway' } });
  const metrics = createMetricsRegistry('gateway');
  const kafka = kafkaFromConfig(config, logger, 'gateway');
  const codec = codecFromConfig(config, logger);

  let gateway: Gateway | undefined;
  let producer: RecordProducer | undefined;
  let notReady = 'provisioning topics and schemas';

  const http: HttpService = await startHttpService({
    name: 'gateway',
    host: config.httpHost,
    port: config.gatewayPort,
    metrics,
    logger,
    rateLimit: config.httpRateLimit,
    readiness: () => (gateway ? { ready: true } : { ready: false, reason: notReady }),
    routes: (req, res) => {
      if (gateway) return gateway.routes(req, res);
      if ((req.url ?? '').split('?')[0] !== '/v1/events') return false;
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' });
      res.end(JSON.stringify({ error: 'not_ready', message: notReady }));
      return true;
    },
  });

  const lifecycle = exitOnSignals(logger, async () => {
    // Drain first: queued events still get their acks (and their 202s) before the sockets close.
    await gateway?.close();
    await http.close();
    await producer?.close();
  });

  await provisionUntilReady(config, kafka, codec, logger, { stopping: () => lifecycle.stopping, onFailure: (reason) => (notReady = reason) });
  notReady = 'connecting the producer';
  producer = await kafka.producer({ idempotent: true });
  if (lifecycle.stopping) return;
  gateway = createGateway({ config, producer, codec, topics: topicNames(config.topicPrefix), logger, metrics });
  logger.info('gateway ready', { url: http.url, topic: topicNames(config.topicPrefix).customerEvents, auth: config.gatewayToken !== undefined });
}

main().catch((err) => {
  createLogger().error('gateway failed to start', { err });
  process.exit(1);
});
