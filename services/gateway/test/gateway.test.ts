import { avroType, type CustomerEventName, ErrorCodes, type HttpService, NextActError, type RecordTypes, silentLogger, startHttpService } from '@nextact/core';
import { Registry } from 'prom-client';
import { createGateway, type Gateway } from '../src/gateway';
import { FakeProducer } from './fakes';
import { sampleEvents } from './fixtures';
import { post } from './http-client';

const token = 'unit-test-token-0123456789';
const topic = 'unit.customer-events';

/** Wire-format-shaped encoding without a registry: schema id 7 for every record. */
const fakeCodec = {
  encode<N extends CustomerEventName>(_topic: string, name: N, value: RecordTypes[N]): Buffer {
    return Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), avroType(name).toBuffer(value)]);
  },
};

interface Harness {
  producer: FakeProducer;
  gateway: Gateway;
  http: HttpService;
  registry: Registry;
}

async function start(overrides: { maxInFlight?: number; token?: string | undefined; adminToken?: string } = {}): Promise<Harness> {
  const producer = new FakeProducer(true);
  const registry = new Registry();
  const gateway = createGateway({
    config: {
      gatewayToken: 'token' in overrides ? overrides.token : token,
      gatewayAdminToken: overrides.adminToken,
      gatewayMaxBodyBytes: 4096,
      gatewayMaxBatch: 5,
      gatewayMaxInFlight: overrides.maxInFlight ?? 100,
    },
    producer,
    codec: fakeCodec,
    topics: { customerEvents: topic },
    logger: silentLogger,
    metrics: registry,
    batching: { lingerMs: 1 },
  });
  const http = await startHttpService({ name: 'gateway', host: '127.0.0.1', port: 0, metrics: registry, logger: silentLogger, routes: gateway.routes });
  return { producer, gateway, http, registry };
}

const auth = { authorization: `Bearer ${token}` };
const ev = sampleEvents('cust-9');

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  const found = values.find((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l));
  return found?.value ?? 0;
}

describe('gateway HTTP (fake producer)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    await h.gateway.close();
    await h.http.close();
  });

  it('answers 202 with event ids after the send, keyed by customer, in request order', async () => {
    const a = await post(h.http.url, [ev.browse, ev.chat, { ...sampleEvents('other').purchase, eventId: 'p-1' }, ev.survey], auth);
    expect(a.status).toBe(202);
    expect(a.body.accepted).toBe(4);
    const ids = a.body.eventIds as string[];
    expect(ids).toHaveLength(4);
    expect(ids[2]).toBe('p-1');
    const sent = h.producer.sends.flat();
    expect(sent.map((r) => r.key)).toEqual(['cust-9', 'cust-9', 'other', 'cust-9']);
    expect(sent.map((r) => r.headers)).toEqual([
      { 'event-type': 'nextact.BrowseEvent', 'event-id': ids[0] },
      { 'event-type': 'nextact.ChatEvent', 'event-id': ids[1] },
      { 'event-type': 'nextact.PurchaseEvent', 'event-id': 'p-1' },
      { 'event-type': 'nextact.SurveyResponse', 'event-id': ids[3] },
    ]);
    expect(sent.every((r) => r.topic === topic)).toBe(true);
    const decoded = avroType('nextact.ChatEvent').fromBuffer(sent[1]!.value!.subarray(5)) as Record<string, unknown>;
    expect(decoded).toMatchObject({ customerId: 'cust-9', intent: 'ORDER_STATUS', eventId: ids[1] });
    expect(await metricValue(h.registry, 'nextact_gateway_events_accepted_total', { type: 'browse' })).toBe(1);
    expect(await metricValue(h.registry, 'nextact_http_requests_total', { route: '/v1/events', status: '202' })).toBe(1);
  });

  it('answers 400 with field-level errors and sends nothing', async () => {
    const a = await post(h.http.url, { events: [ev.browse, { ...ev.chat, intent: 'SMALL_TALK' }, { ...ev.survey, nps: 12 }] }, auth);
    expect(a.status).toBe(400);
    expect(a.body.error).toBe('validation');
    expect(a.body.errors).toEqual([
      expect.objectContaining({ index: 1, field: 'intent', received: '"SMALL_TALK"' }),
      { index: 2, field: 'nps', expected: 'integer 0-10 or null', received: '12' },
    ]);
    expect(h.producer.sends).toHaveLength(0);
    expect(await metricValue(h.registry, 'nextact_gateway_events_rejected_total', { reason: 'validation' })).toBe(3);
  });

  it('answers 400 bad_json with the parser position', async () => {
    const a = await post(h.http.url, '[{"type": "browse",]', auth);
    expect(a.status).toBe(400);
    expect(a.body).toMatchObject({ error: 'bad_json', position: 19 });
    expect(h.producer.sends).toHaveLength(0);
  });

  it('answers 401 with WWW-Authenticate for a missing or wrong token, before reading the body', async () => {
    const missing = await post(h.http.url, ev.browse);
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    const wrong = await post(h.http.url, ev.browse, { authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('invalid_token');
    // Auth comes first: even an oversized, non-JSON body gets 401.
    const first = await post(h.http.url, 'x'.repeat(10_000), { 'content-type': 'text/plain' });
    expect(first.status).toBe(401);
    expect(h.producer.sends).toHaveLength(0);
    expect(await metricValue(h.registry, 'nextact_gateway_events_rejected_total', { reason: 'unauthorized' })).toBe(3);
  });

  it('answers 415 for a compressed body (only identity is read)', async () => {
    const a = await post(h.http.url, ev.browse, { ...auth, 'content-encoding': 'gzip' });
    expect(a.status).toBe(415);
    expect(a.body.error).toBe('unsupported_content_encoding');
    expect(h.producer.sends).toHaveLength(0);
  });

  it('answers 415 for a non-JSON content type', async () => {
    const a = await post(h.http.url, 'type=browse', { ...auth, 'content-type': 'application/x-www-form-urlencoded' });
    expect(a.status).toBe(415);
    expect(a.body.message).toContain('application/json');
  });

  it('answers 413 over the body size limit, declared or streamed', async () => {
    const big = [{ ...ev.browse, url: 'x'.repeat(5000) }];
    const declared = await post(h.http.url, big, auth);
    expect(declared.status).toBe(413);
    expect(declared.body.maxBytes).toBe(4096);
    const streamed = await post(h.http.url, big, auth, { chunked: true });
    expect(streamed.status).toBe(413);
    expect(h.producer.sends).toHaveLength(0);
  });

  it('answers 413 for more events than the batch limit', async () => {
    const a = await post(
      h.http.url,
      Array.from({ length: 6 }, () => ev.browse),
      auth,
    );
    expect(a.status).toBe(413);
    expect(a.body.message).toContain('limit of 5');
  });

  it('answers 503 retriable or 500 when Kafka fails, never 202', async () => {
    h.producer.send = async () => {
      throw new NextActError(ErrorCodes.KAFKA, 'produce: leader not available', { retriable: true });
    };
    const retriable = await post(h.http.url, ev.browse, auth);
    expect(retriable.status).toBe(503);
    expect(retriable.headers['retry-after']).toBe('1');
    expect(retriable.body.error).toBe('kafka_error');
    expect(retriable.body.message).toContain('leader not available');
    expect(retriable.body.eventIds).toHaveLength(1);
    h.producer.send = async () => {
      throw new NextActError(ErrorCodes.KAFKA, 'produce: message too large');
    };
    const fatal = await post(h.http.url, ev.browse, auth);
    expect(fatal.status).toBe(500);
    expect(await metricValue(h.registry, 'nextact_gateway_events_rejected_total', { reason: 'kafka_error' })).toBe(2);
  });

  it('answers 405 for other methods and leaves other paths alone', async () => {
    const get = await post(h.http.url, '', auth, { method: 'GET' });
    expect(get.status).toBe(405);
    const other = await post(h.http.url, ev.browse, auth, { path: '/v1/other' });
    expect(other.status).toBe(404);
  });

  it('exposes the dashboard series on /metrics', async () => {
    await post(h.http.url, [ev.browse, ev.consent], auth);
    const text = await h.registry.metrics();
    for (const name of [
      'nextact_gateway_events_accepted_total{type="consent"} 1',
      'nextact_gateway_events_rejected_total{reason="backpressure"} 0',
      'nextact_gateway_produce_duration_seconds_bucket',
      'nextact_gateway_batch_size_sum 2',
      'nextact_gateway_in_flight_events 0',
      'nextact_http_requests_total{route="/v1/events",status="202"} 1',
    ]) {
      expect(text).toContain(name);
    }
  });
});

describe('gateway back-pressure and auth off', () => {
  it('answers 503 with Retry-After at once when events awaiting acks would exceed the limit', async () => {
    const h = await start({ maxInFlight: 3 });
    h.producer.autoAck = false;
    try {
      const first = post(h.http.url, [ev.browse, ev.chat], auth);
      await new Promise((r) => setTimeout(r, 50));
      expect(h.gateway.inFlight()).toBe(2);
      const refused = await post(h.http.url, [ev.browse, ev.chat], auth);
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.body.error).toBe('backpressure');
      expect(h.gateway.inFlight()).toBe(2);
      h.producer.ack();
      expect((await first).status).toBe(202);
      expect(h.producer.sends.flat()).toHaveLength(2);
      expect(await metricValue(h.registry, 'nextact_gateway_events_rejected_total', { reason: 'backpressure' })).toBe(2);
    } finally {
      await h.gateway.close();
      await h.http.close();
    }
  });

  it('needs no token when none is configured', async () => {
    const h = await start({ token: undefined });
    try {
      expect((await post(h.http.url, ev.browse)).status).toBe(202);
    } finally {
      await h.gateway.close();
      await h.http.close();
    }
  });
});

describe('erasure endpoint (fake producer)', () => {
  const adminToken = 'admin-token-0123456789';
  const path = '/v1/customers/cust%2F7/erasure';

  it('is off without an admin token, and refuses the ingest token', async () => {
    const off = await start();
    try {
      expect((await post(off.http.url, { requestedBy: 'dpo' }, auth, { path })).status).toBe(403);
    } finally {
      await off.gateway.close();
      await off.http.close();
    }
    const h = await start({ adminToken });
    try {
      const ingestToken = await post(h.http.url, { requestedBy: 'dpo' }, auth, { path });
      expect(ingestToken.status).toBe(401);
      expect(h.producer.sends).toHaveLength(0);
    } finally {
      await h.gateway.close();
      await h.http.close();
    }
  });

  it('writes one erasure request keyed by the customer, after validating who asks', async () => {
    const h = await start({ adminToken });
    try {
      const admin = { authorization: `Bearer ${adminToken}` };
      const nobody = await post(h.http.url, { reason: 'ticket 1' }, admin, { path });
      expect(nobody.status).toBe(400);
      expect(nobody.body.errors).toEqual([expect.objectContaining({ field: 'requestedBy' })]);
      const ok = await post(h.http.url, { requestedBy: 'dpo@example.com', reason: 'ticket 2', erasureId: 'er-1' }, admin, { path });
      expect(ok.status).toBe(202);
      expect(ok.body).toEqual({ accepted: 1, erasureId: 'er-1', customerId: 'cust/7' });
      expect(h.producer.sends).toHaveLength(1);
      const [record] = h.producer.sends[0]!;
      expect(record!.key).toBe('cust/7');
      expect(record!.headers).toEqual({ 'event-type': 'nextact.ErasureRequest', 'event-id': 'er-1' });
      expect(await metricValue(h.registry, 'nextact_gateway_erasures_requested_total', {})).toBe(1);
      // Ingest cannot smuggle an erasure in as an ordinary event.
      const smuggled = await post(h.http.url, { type: 'erasure', customerId: 'c', eventTime: 1767225600000, source: 'x', requestedBy: 'y' }, auth);
      expect(smuggled.status).toBe(400);
      expect(smuggled.body.errors).toEqual([expect.objectContaining({ field: 'type' })]);
    } finally {
      await h.gateway.close();
      await h.http.close();
    }
  });
});
