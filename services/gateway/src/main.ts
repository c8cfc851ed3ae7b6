/**
 * Entrypoint: `npx tsx services/gateway/src/main.ts`. The ops endpoints come up first so /healthz
 * answers while topics and schemas are provisioned; /readyz turns 200 once the producer is
 * connected, and POST /v1/events answers 503 until then.
 */
import { createLogger, runService, sendJson, topicNames } from '@nextact/core';
import { createGateway } from './gateway';

runService({
  name: 'gateway',
  port: (config) => config.gatewayPort,
  routesWhileStarting: (ctx) => (req, res) => {
    if ((req.url ?? '').split('?')[0] !== '/v1/events') return false;
    sendJson(res, 503, { error: 'not_ready', message: ctx.status.reason ?? 'starting' }, { 'retry-after': '1' });
    return true;
  },
  start: async ({ config, kafka, codec, logger, metrics, notReady, serve, onStop }) => {
    notReady('connecting the producer');
    const producer = await kafka.producer({ idempotent: true });
    onStop(() => producer.close());
    const topics = topicNames(config.topicPrefix);
    const gateway = createGateway({ config, producer, codec, topics, logger, metrics });
    // Drain first: queued events still get their acks (and their 202s) before the producer closes.
    onStop(() => gateway.close());
    serve(gateway.routes);
    logger.info('gateway ready', { topic: topics.customerEvents, auth: config.gatewayToken !== undefined });
    return gateway;
  },
}).catch((err) => {
  createLogger({ bindings: { service: 'gateway' } }).error('gateway failed to start', { err });
  process.exit(1);
});
