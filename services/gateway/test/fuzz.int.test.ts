/**
 * Property-based fuzzing of POST /v1/events against the real gateway, broker and registry.
 *
 * Payloads are structure-aware mutations of valid events (types, ranges, missing and extra
 * fields, unicode, sizes, nesting depth, huge arrays, body encodings, headers). Properties:
 *   - no 5xx and no hang (every answer within REQUEST_TIMEOUT_MS), the server alive at the end;
 *   - every 4xx names what is wrong (a code, a message, and for 400 the bad fields);
 *   - mutations that are certainly invalid are refused;
 *   - nothing refused reaches Kafka: the topic's high watermarks grow by exactly the events
 *     answered 202;
 *   - every accepted event decodes back from Kafka equal to what was posted.
 *
 * CI: FUZZ_RUNS (default 5000) payloads within FUZZ_SECONDS (default 40). Bigger run:
 * `npm run fuzz:ingest` (50,000 payloads, at most 10 minutes). FUZZ_SEED replays a run.
 */
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import {
  type Config,
  type ConsumedRecord,
  type CustomerEventName,
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
  type RecordProducer,
  startHttpService,
  topicNames,
  topicSpecs,
  validateRecord,
} from '@nextact/core';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { createGateway, type Gateway } from '../src/gateway';
import { sampleEvents } from './fixtures';
import { type Answer, post } from './http-client';
import { labelValuesOf } from './metric-labels';

const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 40);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_BODY = 65_536;
const MAX_BATCH = 100;

const token = `fuzz-token-${randomUUID()}`;
const prefix = `test-fuzz-${randomUUID().slice(0, 8)}.`;
/** Every log line of the run, to check no secret is ever written. */
const logLines: string[] = [];
const logger = createLogger({
  level: 'info',
  bindings: { test: 'gateway.fuzz' },
  write: (line) => {
    logLines.push(line);
    if (line.includes('"level":"error"')) process.stderr.write(`${line}\n`);
  },
});

let config: Config;
let kafka: KafkaClient;
let codec: RecordCodec;
let admin: KafkaAdmin;
let producer: RecordProducer;
let gateway: Gateway;
let http: HttpService;
let topic: string;
const registry = new Registry();
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Event = Record<string, unknown> & { type: string };

/** What the sender did, and what the properties may therefore demand of the answer. */
interface Payload {
  mutation: string;
  /** Certainly refused: the status class it must get. */
  mustRefuse?: 400 | 401 | 413 | 415;
  body: Buffer;
  headers: Record<string, string>;
  chunked: boolean;
  /** The events as the sender meant them, when the body is UTF-8 JSON of events. */
  events?: Event[];
}

// --- valid events, every field drawn from its valid domain -----------------------------------

// Event times the gateway accepts: history back to 1970, up to now plus EVENT_TIME_MAX_SKEW_MS (1 day).
const T0 = 0;
const T1 = Date.now();
const TOO_LATE = T1 + 2 * 86_400_000;
/** Well-formed unicode (graphemes, incl. emoji and combining marks), short enough for every limit. */
const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
const maybeText = fc.option(text, { nil: null });
const time = fc.integer({ min: T0, max: T1 });
const channel = fc.constantFrom('EMAIL', 'PUSH', 'SMS', 'WEB', 'CALL_CENTRE', 'CHAT');
const base = { customerId: text, eventTime: time, source: text };
const uniqueId = () => `fz-${randomUUID()}`;

const validEvent: fc.Arbitrary<Event> = fc.oneof(
  fc.record({
    type: fc.constant('browse'),
    ...base,
    kind: fc.constantFrom('PAGE_VIEW', 'PRODUCT_VIEW', 'SEARCH', 'ADD_TO_CART', 'REMOVE_FROM_CART', 'CHECKOUT_START'),
    productId: maybeText,
    category: maybeText,
    url: maybeText,
    query: maybeText,
  }),
  fc.record({
    type: fc.constant('chat'),
    ...base,
    conversationId: text,
    text: maybeText,
    intent: fc.constantFrom('PRODUCT_QUESTION', 'ORDER_STATUS', 'RETURN_REFUND', 'BILLING', 'COMPLAINT', 'CANCEL', 'OTHER'),
    sentiment: fc.double({ min: -1, max: 1, noNaN: true }),
    resolved: fc.boolean(),
    handledBy: fc.constantFrom('BOT', 'AGENT'),
  }),
  fc.record({
    type: fc.constant('purchase'),
    ...base,
    orderId: text,
    lineItems: fc.array(
      fc.record({ sku: text, category: maybeText, quantity: fc.integer({ min: 1, max: 1000 }), unitPriceMinor: fc.integer({ min: 0, max: 10_000_000 }) }),
      { minLength: 1, maxLength: 4 },
    ),
    amountMinor: fc.maxSafeNat(),
    currency: fc.constantFrom('EUR', 'USD', 'GBP', 'JPY'),
    channel: fc.constantFrom('WEB', 'APP', 'STORE', 'CALL_CENTRE'),
  }),
  fc.record({
    type: fc.constant('survey'),
    ...base,
    surveyId: text,
    nps: fc.integer({ min: 0, max: 10 }),
    csat: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
    comment: maybeText,
  }),
  fc.record({
    type: fc.constant('outcome'),
    ...base,
    decisionId: text,
    actionId: text,
    channel,
    outcome: fc.constantFrom('DELIVERED', 'OPENED', 'CLICKED', 'CONVERTED', 'DISMISSED', 'COMPLAINED', 'UNSUBSCRIBED'),
    valueMinor: fc.option(fc.maxSafeNat(), { nil: null }),
  }),
  fc.record({
    type: fc.constant('consent'),
    ...base,
    channel,
    granted: fc.boolean(),
    timeZone: fc.option(fc.constantFrom('Europe/Berlin', 'UTC', 'Asia/Tokyo'), { nil: null }),
  }),
);

// --- mutations ---------------------------------------------------------------------------------

/** Any JSON value, including deep and wide ones. */
const anyJson: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: fc.constantFrom<Json>(-0, 1e308, -1e308, 2 ** 53 + 2, 0.1, '', ' ', '1', 'null', 'NaN', 'Infinity', [], {}) },
  // Names every plain object inherits: avsc once took them as enum symbols.
  { weight: 1, arbitrary: fc.constantFrom<Json>('constructor', '__proto__', 'toString', 'hasOwnProperty', { toString: 'x' }, { valueOf: 1 }) },
);

/** A value nested `depth` levels deep in arrays or objects. */
const nested = (depth: number, object: boolean): Json => {
  let v: Json = 1;
  for (let i = 0; i < depth; i++) v = object ? { a: v } : [v];
  return v;
};

/** The fields the fuzzer's events carry that are Avro enums. */
const ENUM_FIELDS = ['kind', 'intent', 'handledBy', 'outcome', 'channel'];

type Mutation = fc.Arbitrary<{ mutation: string; mustRefuse?: 400 | 413; events: Json[] }>;

const fieldsOf = (e: Event) => Object.keys(e).filter((k) => k !== 'type');

const mutations: Mutation[] = [
  // valid as generated
  validEvent.map((e) => ({ mutation: 'valid', events: [e as Json] })),
  fc.array(validEvent, { minLength: 2, maxLength: 20 }).map((es) => ({ mutation: 'valid-batch', events: es as Json[] })),
  // a field replaced by any JSON value (wrong type, out of range, or by chance right)
  fc.tuple(validEvent, fc.nat(), anyJson).map(([e, i, v]) => {
    const keys = fieldsOf(e);
    const key = keys[i % keys.length]!;
    return { mutation: `retype:${key}`, events: [{ ...e, [key]: v } as Json] };
  }),
  // an enum field set to a name every plain object inherits (avsc once took these as symbols)
  fc
    .tuple(validEvent, fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'))
    .filter(([e]) => ENUM_FIELDS.some((k) => k in e))
    .map(([e, name]) => {
      const key = ENUM_FIELDS.find((k) => k in e)!;
      return { mutation: `inherited-symbol:${key}`, mustRefuse: 400 as const, events: [{ ...e, [key]: name } as Json] };
    }),
  // a required field removed (eventId is optional: the gateway assigns one)
  fc.tuple(validEvent, fc.constantFrom('customerId', 'eventTime', 'source')).map(([e, key]) => {
    const { [key]: _gone, ...rest } = e;
    return { mutation: `missing:${key}`, mustRefuse: 400 as const, events: [rest as Json] };
  }),
  // numbers just outside their ranges
  fc.tuple(validEvent, fc.constantFrom(T0 - 1, TOO_LATE, -1, 1.5, Number.MAX_SAFE_INTEGER + 2)).map(([e, t]) => ({
    mutation: 'range:eventTime',
    mustRefuse: 400 as const,
    events: [{ ...e, eventTime: t } as Json],
  })),
  fc.tuple(fc.constantFrom(-1.0001, 1.0001, 2, -7), fc.constantFrom(-1, 11, 3.5)).map(([s, n]) => ({
    mutation: 'range:sentiment,nps',
    mustRefuse: 400 as const,
    events: [
      { ...sampleEvents('c-range').chat, sentiment: s },
      { ...sampleEvents('c-range').survey, nps: n },
    ] as Json[],
  })),
  // unknown event type, or none
  fc.tuple(validEvent, fc.oneof(text, fc.constantFrom('erasure', 'Browse', 'BROWSE', '', 'decision'))).map(([e, t]) => ({
    mutation: 'type',
    mustRefuse: 400 as const,
    events: [{ ...e, type: t } as Json],
  })),
  // extra fields, with any name and value
  fc.tuple(validEvent, fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), anyJson, { minKeys: 1, maxKeys: 5 })).map(([e, extra]) => ({
    mutation: 'extra-fields',
    events: [{ ...extra, ...e } as Json],
  })),
  // unicode: every plane, and the lone surrogates JSON can carry but UTF-8 cannot
  fc
    .tuple(validEvent, fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }))
    .map(([e, s]) => ({ mutation: 'unicode', events: [{ ...e, source: s } as Json] })),
  fc.tuple(validEvent, fc.constantFrom('\ud800', 'a\udfff', '\udc00\ud800', 'x\ud83d')).map(([e, s]) => ({
    mutation: 'lone-surrogate',
    mustRefuse: 400 as const,
    events: [{ ...e, customerId: `c${s}` } as Json],
  })),
  // sizes: long strings near and past the body limit, huge arrays, deep nesting
  fc.tuple(validEvent, fc.integer({ min: 100, max: MAX_BODY * 2 })).map(([e, n]) => ({ mutation: 'size', events: [{ ...e, source: 'x'.repeat(n) } as Json] })),
  fc.integer({ min: 500, max: 8000 }).map((n) => ({
    mutation: 'huge-array',
    events: [
      { ...sampleEvents('c-huge').purchase, lineItems: Array.from({ length: n }, () => ({ sku: 's', category: null, quantity: 1, unitPriceMinor: 1 })) },
    ] as Json[],
  })),
  fc.tuple(fc.integer({ min: 10, max: 30_000 }), fc.boolean(), fc.boolean()).map(([depth, object, asField]) => ({
    mutation: 'deep-nesting',
    mustRefuse: 400 as const,
    events: asField ? [{ ...sampleEvents('c-deep').browse, category: nested(depth, object) }] : [nested(depth, object)],
  })),
  // batches past the limit, and the envelope shapes
  fc.integer({ min: MAX_BATCH + 1, max: MAX_BATCH + 50 }).map((n) => ({
    mutation: 'too-many',
    mustRefuse: 413 as const,
    events: Array.from({ length: n }, () => sampleEvents('c-many').consent as Json),
  })),
  fc
    .constantFrom<Json>([], {}, { events: null }, { events: {} }, null, 0, 'event', [[]], [null])
    .map((v) => ({ mutation: 'shape', mustRefuse: 400 as const, events: [v], raw: true })),
];

/** How the body is put on the wire. */
type Encoding = 'json' | 'envelope' | 'array' | 'bom' | 'utf16' | 'invalid-utf8' | 'truncated';

const payload: fc.Arbitrary<Payload> = fc
  .tuple(
    fc.oneof(...mutations),
    fc.constantFrom<Encoding>('json', 'json', 'json', 'envelope', 'array', 'bom', 'utf16', 'invalid-utf8', 'truncated'),
    // Headers are mostly right, so most payloads reach the content checks.
    fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/vnd.x+json') },
      { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/xml', 'application/jsonx', 'multipart/form-data') },
    ),
    fc.oneof({ weight: 12, arbitrary: fc.constantFrom('good', 'lowercase', 'padded') }, { weight: 1, arbitrary: fc.constantFrom('none', 'wrong', 'basic') }),
    fc.boolean(),
    fc.oneof({ weight: 12, arbitrary: fc.constantFrom('', 'identity') }, { weight: 1, arbitrary: fc.constant('gzip') }),
  )
  .map(([m, encoding, contentType, auth, chunked, contentEncoding]) => {
    const withIds = (m.events as Json[]).map((e) =>
      e && typeof e === 'object' && !Array.isArray(e) && typeof e.type === 'string' && !('eventId' in e) ? { ...e, eventId: uniqueId() } : e,
    );
    const raw = 'raw' in m;
    let json: Json = raw
      ? (withIds[0] as Json)
      : withIds.length === 1 && encoding === 'json'
        ? withIds[0]!
        : encoding === 'envelope'
          ? { events: withIds }
          : withIds;
    if (m.mutation === 'too-many') json = withIds;
    let text: string;
    try {
      text = JSON.stringify(json);
    } catch {
      text = '[';
    }
    let body = Buffer.from(text, 'utf8');
    let mustRefuse: Payload['mustRefuse'] = m.mustRefuse;
    let meant: Event[] | undefined = raw ? undefined : (withIds as Event[]);
    switch (encoding) {
      case 'bom':
        body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
        break;
      case 'utf16':
        body = Buffer.from(text, 'utf16le');
        mustRefuse = 400;
        meant = undefined;
        break;
      case 'invalid-utf8': {
        // A byte sequence no UTF-8 decoder accepts, inside a string value.
        const at = text.indexOf('"source":"');
        body =
          at < 0
            ? Buffer.concat([body, Buffer.from([0xff])])
            : Buffer.concat([body.subarray(0, at + 10), Buffer.from([0xc3, 0x28, 0xff]), body.subarray(at + 10)]);
        mustRefuse = 400;
        meant = undefined;
        break;
      }
      case 'truncated':
        body = body.subarray(0, Math.max(0, body.length - 1 - (body.length % 7)));
        mustRefuse = 400;
        meant = undefined;
        break;
      default:
        break;
    }
    const headers: Record<string, string> = {};
    headers['content-type'] = contentType;
    if (contentEncoding !== '') headers['content-encoding'] = contentEncoding;
    const authorization = {
      good: `Bearer ${token}`,
      none: undefined,
      wrong: `Bearer ${token}x`,
      lowercase: `bearer ${token}`,
      basic: `Basic ${token}`,
      padded: `Bearer  ${token} `,
    }[auth];
    if (authorization !== undefined) headers.authorization = authorization;
    // Precedence of the gateway's checks: auth, media type, content encoding, size, then content.
    if (auth === 'none' || auth === 'wrong' || auth === 'basic') mustRefuse = 401;
    else if (!/^application\/(json|[a-z.]+\+json)(;|$)/.test(contentType)) mustRefuse = 415;
    else if (contentEncoding === 'gzip') mustRefuse = 415;
    else if (body.length > MAX_BODY) mustRefuse = 413;
    return { mutation: `${m.mutation}/${encoding}`, mustRefuse, body, headers, chunked, events: meant };
  });

// --- the run -----------------------------------------------------------------------------------

async function totalHigh(): Promise<bigint> {
  const marks = await admin.watermarks(topic);
  return marks.reduce((sum, m) => sum + BigInt(m.high), 0n);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`hang: no answer within ${ms} ms to ${what}`)), ms);
    }),
  ]);
}

/** The topic's records, each once (a re-delivered batch is counted by position, not twice). */
async function consumeAll(count: number, timeoutMs = 60_000): Promise<ConsumedRecord[]> {
  const consumer = await kafka.consumer({ groupId: `${prefix}check-${randomUUID()}`, topics: [topic], fromBeginning: true, commitMarked: true });
  const got = new Map<string, ConsumedRecord>();
  try {
    if (count > 0) {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          consumer
            .run(async (batch) => {
              for (const r of batch.records) got.set(`${r.partition}/${r.offset}`, r);
              const last = batch.records.at(-1);
              if (last) batch.markProcessed(last.offset);
              if (got.size >= count) resolve();
            })
            .catch(reject);
        }),
        timeoutMs,
        `reading ${count} records`,
      );
    }
  } finally {
    await consumer.close();
  }
  return [...got.values()];
}

/** A 4xx names the problem: an error code and message; a 400 on content lists the bad fields. */
function explainsRefusal(answer: Answer): string | undefined {
  const b = answer.body;
  if (typeof b.error !== 'string' || typeof b.message !== 'string' || b.message.length === 0) return 'no error code and message';
  if (answer.status === 400 && b.error === 'validation') {
    const errors = b.errors as { index?: unknown; field?: unknown; expected?: unknown; received?: unknown }[] | undefined;
    if (!Array.isArray(errors) || errors.length === 0) return 'validation without field errors';
    for (const e of errors) {
      if (typeof e.index !== 'number' || typeof e.field !== 'string' || typeof e.expected !== 'string' || typeof e.received !== 'string')
        return `field error incomplete: ${JSON.stringify(e)}`;
    }
  }
  if (answer.status === 413 && typeof b.maxBytes !== 'number' && typeof b.maxEvents !== 'number') return '413 without the limit';
  return undefined;
}

beforeAll(async () => {
  config = loadConfig({
    ...process.env,
    NEXTACT_TOPIC_PREFIX: prefix,
    NEXTACT_PARTITIONS: '3',
    GATEWAY_AUTH_TOKEN: token,
    GATEWAY_MAX_BODY_BYTES: String(MAX_BODY),
    GATEWAY_MAX_BATCH: String(MAX_BATCH),
    GATEWAY_PORT: '0',
  });
  topic = topicNames(prefix).customerEvents;
  kafka = kafkaFromConfig(config, logger, 'gateway-fuzz');
  codec = codecFromConfig(config, logger);
  await provision(config, kafka, codec, logger);
  admin = await kafka.admin();
  producer = await kafka.producer({ idempotent: true });
  gateway = createGateway({ config, producer, codec, topics: topicNames(prefix), logger, metrics: registry });
  http = await startHttpService({ name: 'gateway', host: config.httpHost, port: 0, metrics: registry, logger, routes: gateway.routes });
});

afterAll(async () => {
  agent.destroy();
  await gateway?.close();
  await http?.close();
  await producer?.close();
  if (admin) {
    await admin.deleteTopics(topicSpecs(config).map((s) => s.name)).catch(() => undefined);
    await admin.close();
  }
  await deletePrefixSubjects(config.schemaRegistryUrl, prefix);
});

describe('ingest fuzzing against the real stack', () => {
  it(
    `survives ${RUNS} generated payloads: no 5xx, every refusal explained, nothing refused on Kafka, accepted events decode back equal`,
    async () => {
      const before = await totalHigh();
      const statuses = new Map<number, number>();
      const byMutation = new Map<string, Map<number, number>>();
      const expected = new Map<string, unknown[]>();
      let accepted = 0;
      let payloads = 0;
      const customerIds = new Set<string>();
      const started = Date.now();

      await fc.assert(
        fc.asyncProperty(payload, async (p) => {
          payloads++;
          for (const e of p.events ?? []) if (typeof e.customerId === 'string' && e.customerId.length >= 4) customerIds.add(e.customerId);
          const answer = await withTimeout(post(http.url, p.body, p.headers, { agent, chunked: p.chunked }), REQUEST_TIMEOUT_MS, p.mutation);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          const kind = p.mutation.split(/[:/]/)[0]!;
          const perKind = byMutation.get(kind) ?? new Map<number, number>();
          perKind.set(answer.status, (perKind.get(answer.status) ?? 0) + 1);
          byMutation.set(kind, perKind);

          if (answer.status >= 500) throw new Error(`${p.mutation}: ${answer.status} ${answer.text.slice(0, 300)}`);
          if (p.mustRefuse !== undefined && answer.status !== p.mustRefuse) {
            throw new Error(`${p.mutation}: expected ${p.mustRefuse}, got ${answer.status} ${answer.text.slice(0, 300)}`);
          }
          if (answer.status >= 400) {
            const why = explainsRefusal(answer);
            if (why) throw new Error(`${p.mutation}: ${answer.status} ${why}: ${answer.text.slice(0, 300)}`);
            return;
          }
          if (answer.status !== 202) throw new Error(`${p.mutation}: unexpected status ${answer.status}`);
          if (!p.events) throw new Error(`${p.mutation}: accepted a body that is not UTF-8 JSON of events`);
          const ids = answer.body.eventIds as string[];
          if (ids.length !== p.events.length) throw new Error(`${p.mutation}: ${ids.length} ids for ${p.events.length} events`);
          p.events.forEach((e, i) => {
            const { type, ...fields } = e;
            const name = customerEventTypes[type as keyof typeof customerEventTypes] as CustomerEventName;
            const list = expected.get(ids[i]!) ?? [];
            list.push({ name, value: validateRecord(name, { ...fields, eventId: ids[i] }) });
            expected.set(ids[i]!, list);
          });
          accepted += p.events.length;
        }),
        { numRuns: RUNS, interruptAfterTimeLimit: SECONDS * 1000, seed: SEED, endOnFailure: true },
      );

      // Alive and answering, after all of it.
      const health = await fetch(`${http.url}/healthz`);
      expect(health.status).toBe(200);

      // No customer id in any metric label, after all that traffic (ids would explode the series count).
      const scraped = await (await fetch(`${http.url}/metrics`)).text();
      const labelValues = labelValuesOf(scraped);
      expect(labelValues.size).toBeGreaterThan(5);
      expect([...customerIds].filter((id) => labelValues.has(id))).toEqual([]);

      // The token was presented thousands of times, right and wrong: it is in no log line.
      expect(logLines.filter((l) => l.includes(token))).toEqual([]);

      // Nothing refused reached Kafka: the watermarks moved by exactly the accepted events.
      expect(await totalHigh()).toBe(before + BigInt(accepted));

      // Every accepted event decodes back equal to what was posted.
      const records = await consumeAll(accepted);
      expect(records).toHaveLength(accepted);
      const decoded = new Map<string, unknown[]>();
      for (const r of records) {
        const d = await codec.decode(r.value!);
        const id = r.headers['event-id']!;
        expect(r.key).toBe((d.value as { customerId: string }).customerId);
        decoded.set(id, [...(decoded.get(id) ?? []), { name: d.name, value: d.value }]);
      }
      const canonical = (m: Map<string, unknown[]>) => new Map([...m].map(([k, v]) => [k, v.map((x) => JSON.stringify(x)).sort()]));
      expect(canonical(decoded)).toEqual(canonical(expected));

      const seconds = (Date.now() - started) / 1000;
      const summary = {
        payloads,
        seconds: Number(seconds.toFixed(1)),
        statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
        fiveXX: [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0),
        acceptedEvents: accepted,
        byMutation: Object.fromEntries([...byMutation].map(([k, v]) => [k, Object.fromEntries(v)])),
      };
      process.stdout.write(`ingest fuzz summary ${JSON.stringify(summary)}\n`);
      // Bounded by time, but a run that barely ran proves nothing.
      expect(payloads).toBeGreaterThanOrEqual(Math.min(RUNS, 500));
      expect(accepted).toBeGreaterThan(0);
      expect(summary.fiveXX).toBe(0);
    },
    SECONDS * 1000 + 120_000,
  );
});
