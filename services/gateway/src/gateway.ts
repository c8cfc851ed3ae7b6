import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  bearerTokenMatches,
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
  ValidationError,
} from '@nextact/core';
import type { Registry } from 'prom-client';
import { createBatcher } from './batcher';
import { erasureRecord, erasureRequest } from './erasure';
import { type IngestEvent, parseEvents, parseJson } from './events';
import { createGatewayMetrics, type RejectReason } from './metrics';

export const EVENTS_ROUTE = '/v1/events';
/** POST /v1/customers/{customerId}/erasure: right to be forgotten (admin token). */
export const ERASURE_ROUTE = /^\/v1\/customers\/([^/]+)\/erasure$/;

/** Micro-batching of concurrent requests into one Kafka send; defaults measured with the gateway scenario of `npm run bench`. */
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
  config: Pick<Config, 'gatewayToken' | 'gatewayAdminToken' | 'gatewayMaxBodyBytes' | 'gatewayMaxBatch' | 'gatewayMaxInFlight'> &
    Partial<Pick<Config, 'eventTimeMaxSkewMs'>>;
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

    // Found by the fuzz test: a gzip-declared body was parsed as plain JSON. Nothing but identity is read.
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== '') {
      refuse(
        res,
        415,
        'unsupported_media_type',
        { error: 'unsupported_content_encoding', message: `content-encoding ${encoding} is not accepted; send the JSON uncompressed` },
        1,
        { 'accept-encoding': 'identity', connection: 'close' },
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

  /**
   * Erasure: validated, then written like any event (through the batcher, 202 after the broker
   * acknowledged). A separate token, because erasing is not the ingest clients' right.
   */
  async function erase(req: IncomingMessage, res: ServerResponse, rawId: string): Promise<void> {
    const route = '/v1/customers/{id}/erasure';
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      metrics.httpRequests.inc({ route, status: String(status) });
      sendJson(res, status, body, headers);
    };
    if (config.gatewayAdminToken === undefined) {
      answer(403, { error: 'erasure_disabled', message: 'set GATEWAY_ADMIN_TOKEN to enable the erasure endpoint' }, { connection: 'close' });
      return;
    }
    if (!bearerTokenMatches(req.headers.authorization, config.gatewayAdminToken)) {
      answer(
        401,
        { error: 'unauthorized', code: ErrorCodes.UNAUTHORIZED, message: 'erasure needs Authorization: Bearer <admin token>' },
        {
          'www-authenticate': 'Bearer realm="nextact-admin"',
          connection: 'close',
        },
      );
      return;
    }
    if (!isJson(req.headers['content-type'])) {
      answer(415, { error: 'unsupported_media_type', message: 'content-type must be application/json' }, { connection: 'close' });
      return;
    }
    let customerId: string;
    try {
      customerId = decodeURIComponent(rawId);
    } catch {
      answer(400, {
        error: 'validation',
        message: 'customer id is not valid percent-encoding',
        errors: [{ field: 'customerId', expected: 'URL-encoded id', received: rawId.slice(0, 80) }],
      });
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, 16 * 1024);
    } catch (err) {
      if (err instanceof NextActError && err.code === ErrorCodes.PAYLOAD_TOO_LARGE) {
        answer(413, { error: 'too_large', message: err.message }, { connection: 'close' });
        return;
      }
      throw err;
    }
    const json = parseJson(body);
    const fields =
      json.ok && typeof json.value === 'object' && json.value !== null && !Array.isArray(json.value) ? (json.value as Record<string, unknown>) : undefined;
    if (!fields) {
      answer(400, { error: 'bad_json', message: 'body must be a JSON object: {"requestedBy": "...", "reason": "..."}' });
      return;
    }
    let record: OutgoingRecord;
    let erasureId: string;
    try {
      const request = erasureRequest({
        customerId,
        requestedBy: fields.requestedBy as string,
        reason: fields.reason as string | null | undefined,
        eventId: typeof fields.erasureId === 'string' ? fields.erasureId : undefined,
        source: 'api',
      });
      erasureId = request.eventId;
      record = erasureRecord(codec, topics.customerEvents, request);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      answer(400, { error: 'validation', message: err.message, errors: err.fieldErrors });
      return;
    }
    try {
      await batcher.submit([record]);
    } catch (err) {
      const retriable = isRetriable(err);
      logger.warn('erasure produce failed', { err, retriable });
      answer(
        retriable ? 503 : 500,
        { error: 'kafka_error', message: `Kafka did not acknowledge the erasure (${errorMessage(err)}); retry with the same erasureId`, erasureId },
        retriable ? { 'retry-after': '1' } : {},
      );
      return;
    }
    metrics.erasures.inc();
    // The customer id is in the answer for the caller, never in logs or metric labels.
    logger.info('erasure requested', { erasureId });
    answer(202, { accepted: 1, erasureId, customerId });
  }

  return {
    async routes(req, res) {
      const path = (req.url ?? '/').split('?')[0]!;
      const erasure = ERASURE_ROUTE.exec(path);
      if (erasure) {
        if (req.method !== 'POST') {
          sendJson(res, 405, { error: 'method_not_allowed', message: 'use POST' }, { allow: 'POST' });
          return true;
        }
        await erase(req, res, erasure[1]!);
        return true;
      }
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
