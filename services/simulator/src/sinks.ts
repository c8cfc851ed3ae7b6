/**
 * Where generated events go: straight to Kafka (the fast path), through the ingest gateway's HTTP
 * API (the path real channel systems use), or to stdout as JSON lines.
 */
import {
  type CustomerEvent,
  ErrorCodes,
  errorMessage,
  type Logger,
  NextActError,
  type OutgoingRecord,
  type RecordCodec,
  type RecordProducer,
  retry,
} from '@nextact/core';
import { kindOf } from './kinds';
import { hashString } from './rng';

export type SinkKind = 'kafka' | 'gateway' | 'stdout';

export interface EventSink {
  readonly kind: SinkKind | string;
  /** Delivers one batch; resolves once it is durable where the sink can tell (Kafka acks, HTTP 2xx). */
  send(events: CustomerEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** Kafka record for an event: keyed by customer, so each customer's events keep one order. */
export function toRecord(codec: RecordCodec, topic: string, event: CustomerEvent): OutgoingRecord {
  return {
    topic,
    key: event.value.customerId,
    value: codec.encode(topic, event.name, event.value),
    headers: { 'event-type': event.name, 'event-id': event.value.eventId },
  };
}

/**
 * Writes to the customer-events topic through core's idempotent producers. The codec must have
 * registered the topic's schemas (provision() does that). Record timestamps are left to the
 * producer (wall clock): simulated event times start in the past and would fall out of retention.
 *
 * Ordering: kafkajs may reorder concurrent sends of one producer (they race for its broker lock),
 * so each customer is pinned to one lane and each lane's sends are chained. Several lanes, each
 * with its own producer and connection, give real parallelism without breaking per-customer order.
 */
export class KafkaSink implements EventSink {
  readonly kind = 'kafka';
  private readonly tails: Promise<unknown>[];

  constructor(
    private readonly producers: RecordProducer[],
    private readonly codec: RecordCodec,
    private readonly topic: string,
  ) {
    if (producers.length === 0) throw new NextActError(ErrorCodes.CONFIG_INVALID, 'KafkaSink needs at least one producer');
    this.tails = producers.map(() => Promise.resolve());
  }

  send(events: CustomerEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const lanes = this.producers.length;
    const perLane: OutgoingRecord[][] = this.producers.map(() => []);
    for (const event of events) {
      const lane = lanes === 1 ? 0 : hashString(event.value.customerId) % lanes;
      (perLane[lane] as OutgoingRecord[]).push(toRecord(this.codec, this.topic, event));
    }
    const sends: Promise<unknown>[] = [];
    perLane.forEach((records, lane) => {
      if (records.length === 0) return;
      const producer = this.producers[lane] as RecordProducer;
      // A failed send fails every later send of its lane: no gaps in a customer's order.
      const sent = (this.tails[lane] as Promise<unknown>).then(() => producer.send(records));
      this.tails[lane] = sent;
      sends.push(sent);
    });
    return Promise.all(sends).then(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.tails);
    await Promise.all(this.producers.map((p) => p.close()));
  }
}

/** The gateway's JSON for an event: `{ "type": "browse", ...fields }`. */
export function toGatewayJson(event: CustomerEvent): Record<string, unknown> {
  return { type: kindOf[event.name], ...event.value };
}

export interface GatewaySinkOptions {
  /** Base URL of the gateway, e.g. http://127.0.0.1:8088. */
  url: string;
  token?: string;
  logger: Logger;
  /** Per-request timeout. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** POSTs batches to /v1/events; retries 429/503 (back-pressure) and network errors with backoff. */
export class GatewaySink implements EventSink {
  readonly kind = 'gateway';
  private readonly endpoint: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly options: GatewaySinkOptions) {
    this.endpoint = `${options.url.replace(/\/+$/, '')}/v1/events`;
    this.doFetch = options.fetch ?? fetch;
  }

  async send(events: CustomerEvent[]): Promise<void> {
    if (events.length === 0) return;
    const body = JSON.stringify(events.map(toGatewayJson));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    await retry(
      async () => {
        let res: Response;
        try {
          res = await this.doFetch(this.endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) });
        } catch (err) {
          throw new NextActError(ErrorCodes.SINK, `gateway ${this.endpoint} unreachable: ${errorMessage(err)}`, { retriable: true, cause: err });
        }
        const text = await res.text();
        if (res.ok) return;
        const retriable = res.status === 429 || res.status === 503 || res.status >= 500;
        throw new NextActError(ErrorCodes.SINK, `gateway answered ${res.status}: ${text.slice(0, 500)}`, { retriable, details: { status: res.status } });
      },
      {
        retries: 8,
        initialDelayMs: 100,
        maxDelayMs: 5_000,
        onRetry: (err, attempt, delayMs) => this.options.logger.warn('gateway send retried', { err, attempt, delayMs }),
      },
    );
  }

  async close(): Promise<void> {}
}

/** JSON lines in the gateway's shape; waits for the stream to drain so memory stays bounded. */
export class StdoutSink implements EventSink {
  readonly kind = 'stdout';
  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  send(events: CustomerEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    let text = '';
    for (const e of events) text += `${JSON.stringify(toGatewayJson(e))}\n`;
    return new Promise((resolve, reject) => {
      const ok = this.out.write(text, (err) => {
        if (err) reject(new NextActError(ErrorCodes.SINK, `stdout write failed: ${errorMessage(err)}`, { cause: err }));
      });
      if (ok) resolve();
      else this.out.once('drain', () => resolve());
    });
  }

  async close(): Promise<void> {}
}
