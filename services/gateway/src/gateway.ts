import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Config,
  type CustomerEventName,
  ErrorCodes,
  errorMessage,
  isRetriable,
  type Logger,
  NextActError,
  type OutgoingRecord,
  type RecordProducer,
  type RecordTypes,
  type RouteHandler,
  readBody,
  sendJson,
  type TopicNames,
} from '@nextact/core';
import type { Registry } from 'prom-client';
import { bearerTokenMatches } from './auth';
import { createBatcher } from './batcher';
import { type IngestEvent, parseEvents, parseJson } from './events';
import { createGatewayMetrics, type RejectReason } from './metrics';

export const EVENTS_ROUTE = '/v1/events';

/** Micro-batching of concurrent requests into one Kafka send; defaults measured with bench/http-bench.ts. */
export interface BatchingOptions {
  maxBatchRecords: number;
  lingerMs: number;
  maxConcurrentSends: number;
}

export const defaultBatching: BatchingOptions = { maxBatchRecords: 2000, lingerMs: 2, maxConcurrentSends: 1 };

/** The part of RecordCodec the gateway uses: Confluent wire format, synchronous after registration. */
export interface EventEncoder {
  encode<N extends CustomerEventName>(topic: string, record: N, value: RecordTypes[N]): Buffer;
}

export interface GatewayOptions {
  config: Pick<Config, 'gatewayToken' | 'gatewayMaxBodyBytes' | 'gatewayMaxBatch' | 'gatewayMaxInFlight'> & Partial<Pick<Config, 'eventTimeMaxSkewMs'>>;
  producer: RecordProducer;
  /** A RecordCodec that has registered the customer-events subjects (only encoding is used). */
  codec: EventEncoder;
  topics: Pick<TopicNames, 'customerEvents'>;
  logger: Logger;
  metrics: Registry;
  batching?: Partial<BatchingOptions>;
}

export interface Gateway {
  /** POST /v1/events; returns false for other paths so startHttpService answers 404. */
  routes: RouteHandler;
  /** Events queued or awaiting broker acks. */
  inFlight(): number;
  /** Refuses new requests (503), sends what is queued and waits for every ack. */
  close(): Promise<void>;
}

const isJson = (contentType: string | undefined): boolean => {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return media === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(media);
};

export function createGateway(options: GatewayOptions): Gateway {
  const { config, producer, codec, topics, logger } = options;
  const batching = { ...defaultBatching, ...options.batching };
  const metrics = createGatewayMetrics(options.metrics);
  let closing = false;

  const batcher = createBatcher({
    send: (records) => producer.send(records),
    maxBatchRecords: batching.maxBatchRecords,
    lingerMs: batching.lingerMs,
    maxConcurrentSends: batching.maxConcurrentSends,
    maxInFlightRecords: config.gatewayMaxInFlight,
    onSend: ({ records, seconds }) => {
      metrics.batchSize.observe(records);
      metrics.produceDuration.observe(seconds);
    },
    onInFlight: (n) => metrics.inFlight.set(n),
  });

  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    metrics.httpRequests.inc({ route: EVENTS_ROUTE, status: String(status) });
    sendJson(res, status, body, headers);
  };

  const refuse = (
    res: ServerResponse,
    status: number,
    reason: RejectReason,
    body: { error: string; message: string } & Record<string, unknown>,
    events = 1,
    headers: Record<string, string> = {},
  ) => {
    metrics.rejected.inc({ reason }, events);
    reply(res, status, body, headers);
  };

  const toRecord = (event: IngestEvent): OutgoingRecord => ({
    topic: topics.customerEvents,
    key: event.value.customerId,
    value: codec.encode(topics.customerEvents, event.name, event.value),
    headers: { 'event-type': event.name, 'event-id': event.value.eventId },
  });

  async function ingest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (closing) {
      reply(
        res,
        503,
        { error: 'shutting_down', message: 'the gateway is shutting down; retry on another instance' },
        { 'retry-after': '1', connection: 'close' },
      );
      return;
    }
    // Auth before the body: an unauthenticated sender costs no buffering.
    if (config.gatewayToken !== undefined && !bearerTokenMatches(req.headers.authorization, config.gatewayToken)) {
      const presented = req.headers.authorization !== undefined;
      refuse(
        res,
        401,
        'unauthorized',
        { error: 'unauthorized', message: presented ? 'bearer token is not valid' : 'missing Authorization: Bearer <token> header' },
        1,
        { 'www-authenticate': presented ? 'Bearer realm="nextact", error="invalid_token"' : 'Bearer realm="nextact"', connection: 'close' },
      );
      return;
    }
    if (!isJson(req.headers['content-type'])) {
      refuse(
        res,
        415,
        'unsupported_media_type',
        { error: 'unsupported_media_type', message: `content-type must be application/json, got ${req.headers['content-type'] ?? 'none'}` },
        1,
        { connection: 'close' },
      );
      return;
    }

    let body: Buffer;
    try {
      body = await readBody(req, config.gatewayMaxBodyBytes);
    } catch (err) {
      if (err instanceof NextActError && err.code === ErrorCodes.PAYLOAD_TOO_LARGE) {
        refuse(res, 413, 'too_large', { error: 'too_large', message: err.message, maxBytes: config.gatewayMaxBodyBytes }, 1, { connection: 'close' });
        return;
      }
      throw err;
    }

    const json = parseJson(body);
    if (!json.ok) {
      const p = json.problem;
      refuse(res, 400, 'bad_json', { error: 'bad_json', message: p.message, position: p.kind === 'bad_json' ? p.position : undefined });
      return;
    }
    const parsed = parseEvents(json.value, config.gatewayMaxBatch, undefined, { maxSkewMs: config.eventTimeMaxSkewMs });
    if (!parsed.ok) {
      const p = parsed.problem;
      if (p.kind === 'too_many') refuse(res, 413, 'too_large', { error: 'too_many_events', message: p.message, maxEvents: config.gatewayMaxBatch }, p.count);
      else if (p.kind === 'validation') refuse(res, 400, 'validation', { error: 'validation', message: p.message, errors: p.errors }, Math.max(1, p.count));
      else refuse(res, 400, 'bad_json', { error: 'bad_json', message: p.message });
      return;
    }

    const { events } = parsed;
    const eventIds = events.map((e) => e.value.eventId);
    // Encoding is synchronous after registration; a failure here is a deployment fault, so nothing is sent.
    let records: OutgoingRecord[];
    try {
      records = events.map(toRecord);
    } catch (err) {
      logger.error('encoding failed', { err });
      reply(res, 500, { error: 'encode', message: `events could not be encoded for Kafka: ${errorMessage(err)}` });
      return;
    }
    try {
      await batcher.submit(records);
    } catch (err) {
      if (err instanceof NextActError && err.code === ErrorCodes.BACKPRESSURE) {
        refuse(res, 503, 'backpressure', { error: 'backpressure', message: err.message }, events.length, { 'retry-after': '1' });
        return;
      }
      const retriable = isRetriable(err);
      logger.warn('produce failed', { err, events: events.length, retriable });
      refuse(
        res,
        retriable ? 503 : 500,
        'kafka_error',
        {
          error: 'kafka_error',
          message: `Kafka did not acknowledge the events (${errorMessage(err)}); some may have been written. Retry with the same eventIds: consumers deduplicate on them.`,
          eventIds,
        },
        events.length,
        retriable ? { 'retry-after': '1' } : {},
      );
      return;
    }
    for (const e of events) metrics.accepted.inc({ type: e.kind });
    reply(res, 202, { accepted: events.length, eventIds });
  }

  return {
    async routes(req, res) {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== EVENTS_ROUTE) return false;
      if (req.method !== 'POST') {
        reply(res, 405, { error: 'method_not_allowed', message: `use POST ${EVENTS_ROUTE}` }, { allow: 'POST' });
        return true;
      }
      await ingest(req, res);
      return true;
    },
    inFlight: () => batcher.inFlight(),
    async close() {
      closing = true;
      await batcher.close();
    },
  };
}
