import { randomUUID } from 'node:crypto';
import {
  type Config,
  type ConsumedRecord,
  type CustomerEventKind,
  codecFromConfig,
  createLogger,
  customerEventTypes,
  deletePrefixSubjects,
  type HttpService,
  type KafkaAdmin,
  type KafkaClient,
  kafkaFromConfig,
  loadConfig,
  provision,
  type RecordCodec,
  type RecordConsumer,
  type RecordProducer,
  startHttpService,
  subjectFor,
  topicNames,
  topicSpecs,
  validateRecord,
} from '@nextact/core';
import { Registry } from 'prom-client';
import { createGateway, type Gateway } from '../src/gateway';
import { sampleEvents } from './fixtures';
import { post } from './http-client';

const token = `int-token-${randomUUID()}`;
const prefix = `test-gw-${randomUUID().slice(0, 8)}.`;
const logger = createLogger({ level: 'warn', bindings: { test: 'gateway.int' } });

let config: Config;
let kafka: KafkaClient;
let codec: RecordCodec;
let admin: KafkaAdmin;
let producer: RecordProducer;
let gateway: Gateway;
let http: HttpService;
let topic: string;
const registry = new Registry();

const auth = { authorization: `Bearer ${token}` };

async function totalHigh(): Promise<bigint> {
  const marks = await admin.watermarks(topic);
  return marks.reduce((sum, m) => sum + BigInt(m.high), 0n);
}

/** Reads `count` records from the topic with a fresh consumer group. */
async function consume(count: number, timeoutMs = 30_000): Promise<ConsumedRecord[]> {
  const consumer: RecordConsumer = await kafka.consumer({
    groupId: `${prefix}check-${randomUUID()}`,
    topics: [topic],
    fromBeginning: true,
    commitMarked: true,
  });
  const got: ConsumedRecord[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} records arrived within ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run(async (batch) => {
          got.push(...batch.records);
          if (got.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        })
        .catch(reject);
    });
  } finally {
    await consumer.close();
  }
  return got;
}

async function registryId(subject: string): Promise<number> {
  const res = await fetch(`${config.schemaRegistryUrl}/subjects/${encodeURIComponent(subject)}/versions/latest`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: number }).id;
}

beforeAll(async () => {
  config = loadConfig({
    ...process.env,
    NEXTACT_TOPIC_PREFIX: prefix,
    NEXTACT_PARTITIONS: '3',
    GATEWAY_AUTH_TOKEN: token,
    GATEWAY_MAX_BODY_BYTES: '65536',
    GATEWAY_MAX_BATCH: '100',
    GATEWAY_PORT: '0',
  });
  topic = topicNames(prefix).customerEvents;
  kafka = kafkaFromConfig(config, logger, 'gateway-int');
  codec = codecFromConfig(config, logger);
  await provision(config, kafka, codec, logger);
  admin = await kafka.admin();
  producer = await kafka.producer({ idempotent: true });
  gateway = createGateway({ config, producer, codec, topics: topicNames(prefix), logger, metrics: registry });
  http = await startHttpService({ name: 'gateway', host: config.httpHost, port: config.gatewayPort, metrics: registry, logger, routes: gateway.routes });
});

afterAll(async () => {
  await gateway?.close();
  await http?.close();
  await producer?.close();
  if (admin) {
    await admin.deleteTopics(topicSpecs(config).map((s) => s.name)).catch((err) => logger.warn('topic cleanup failed', { err }));
    await admin.close();
  }
  await deletePrefixSubjects(config.schemaRegistryUrl, prefix);
});

describe('gateway against the real stack', () => {
  it('refuses bad input with the right status and message, and nothing reaches Kafka', async () => {
    const before = await totalHigh();
    const ev = sampleEvents('cust-bad');
    const { customerId: _c, ...noCustomer } = ev.browse;

    const missing = await post(http.url, noCustomer, auth);
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([{ index: 0, field: 'customerId', expected: 'string', received: 'nothing (missing)' }]);

    const wrongType = await post(http.url, [ev.chat, { ...ev.chat, sentiment: 'very bad' }], auth);
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.errors).toEqual([{ index: 1, field: 'sentiment', expected: 'number', received: '"very bad"' }]);

    const badEnum = await post(http.url, { events: [{ ...ev.purchase, channel: 'CARRIER_PIGEON' }] }, auth);
    expect(badEnum.status).toBe(400);
    expect(badEnum.body.errors).toEqual([{ index: 0, field: 'channel', expected: 'one of WEB, APP, STORE, CALL_CENTRE', received: '"CARRIER_PIGEON"' }]);

    const badJson = await post(http.url, '{"type":"browse", customerId: 1}', auth);
    expect(badJson.status).toBe(400);
    expect(badJson.body).toMatchObject({ error: 'bad_json', position: 18 });

    const oversize = await post(http.url, [{ ...ev.browse, url: 'x'.repeat(70_000) }], auth);
    expect(oversize.status).toBe(413);
    expect(oversize.body.message).toContain('65536');

    const noToken = await post(http.url, ev.browse);
    expect(noToken.status).toBe(401);
    expect(noToken.headers['www-authenticate']).toMatch(/^Bearer/);

    const wrongToken = await post(http.url, ev.browse, { authorization: `Bearer ${token}-not` });
    expect(wrongToken.status).toBe(401);
    expect(wrongToken.body.message).toBe('bearer token is not valid');

    expect(await totalHigh()).toBe(before);
  });

  it('accepts single and batch requests with 202 only once the records are on the topic', async () => {
    const a = sampleEvents('cust-A', Date.UTC(2026, 10, 2));
    const b = sampleEvents('cust-B', Date.UTC(2026, 10, 2));
    const before = await totalHigh();

    const single = await post(http.url, a.browse, auth);
    expect(single.status).toBe(202);
    expect(single.body.accepted).toBe(1);
    // 202 means acknowledged: the records are already counted in the high watermark.
    expect(await totalHigh()).toBe(before + 1n);

    const batchBody = [a.chat, b.purchase, a.purchase, b.consent, a.survey, a.outcome, { ...a.consent, eventId: 'consent-A-1' }];
    const batch = await post(http.url, { events: batchBody }, auth);
    expect(batch.status).toBe(202);
    expect(batch.body.accepted).toBe(batchBody.length);
    expect(await totalHigh()).toBe(before + 8n);

    const posted = [a.browse, ...batchBody] as ({ type: CustomerEventKind } & Record<string, unknown>)[];
    const ids = [...(single.body.eventIds as string[]), ...(batch.body.eventIds as string[])];
    expect(ids[7]).toBe('consent-A-1');

    const records = await consume(posted.length);
    expect(records).toHaveLength(posted.length);
    const byId = new Map(records.map((r) => [r.headers['event-id'], r]));

    for (const [i, sent] of posted.entries()) {
      const record = byId.get(ids[i]!);
      expect(record).toBeDefined();
      const { type, ...fields } = sent;
      const name = customerEventTypes[type];
      const value = record!.value!;
      // Confluent wire format: magic byte 0, then the id the registry has for this subject.
      expect(value.readUInt8(0)).toBe(0);
      expect(value.readInt32BE(1)).toBe(await registryId(subjectFor(topic, name)));
      expect(record!.key).toBe(fields.customerId);
      expect(record!.headers['event-type']).toBe(name);
      const decoded = await codec.decode(value);
      expect(decoded.name).toBe(name);
      expect(decoded.value).toEqual(validateRecord(name, { ...fields, eventId: ids[i] }));
    }

    // One customer's events sit in one partition, in the order they were posted.
    for (const customer of ['cust-A', 'cust-B']) {
      const mine = records.filter((r) => r.key === customer);
      expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
      const inOffsetOrder = [...mine].sort((x, y) => (BigInt(x.offset) < BigInt(y.offset) ? -1 : 1)).map((r) => r.headers['event-id']);
      const inPostOrder = ids.filter((_, i) => posted[i]!.customerId === customer);
      expect(inOffsetOrder).toEqual(inPostOrder);
    }

    const metrics = await registry.metrics();
    expect(metrics).toContain('nextact_gateway_events_accepted_total{type="purchase"} 2');
    expect(metrics).toMatch(/nextact_gateway_events_rejected_total\{reason="unauthorized"\} 2/);
    expect(metrics).toMatch(/nextact_gateway_batch_size_count [1-9]/);
  });
});
