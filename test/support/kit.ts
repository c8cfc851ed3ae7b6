/**
 * The one test-support kit of the integration tests: a config with topics of its own, provisioned
 * topics and schemas that clean up after themselves, a poll-until helper and valid customer events.
 * Unit tests may import it too (nothing here connects until called).
 */
import { randomBytes } from 'node:crypto';
import {
  type Config,
  type CustomerEvent,
  type CustomerEventName,
  codecFromConfig,
  customerEventTypes,
  deletePrefixSubjects,
  kafkaFromConfig,
  loadConfig,
  provision,
  silentLogger,
  topicNames,
  topicSpecs,
  validateRecord,
} from '@nextact/core';
import { prng } from './prng';

/**
 * A config whose topic prefix (and so every group id) is unique to this test: concurrent
 * integration tests never share topics. `name` shows in the prefix, for reading the broker's topics.
 */
export function testConfig(name: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    ...process.env,
    NEXTACT_TOPIC_PREFIX: `test-${name}-${randomBytes(4).toString('hex')}.`,
    NEXTACT_PARTITIONS: '3',
    LOG_LEVEL: 'warn',
    ...extra,
  });
}

/** Topics created and schemas registered for `config`; `cleanup` deletes both (best effort). */
export async function provisioned(config: Config, clientSuffix: string) {
  const kafka = kafkaFromConfig(config, silentLogger, clientSuffix);
  const codec = codecFromConfig(config, silentLogger);
  await provision(config, kafka, codec, silentLogger);
  return {
    kafka,
    codec,
    topics: topicNames(config.topicPrefix),
    async cleanup() {
      const admin = await kafka.admin();
      await admin.deleteTopics(topicSpecs(config).map((t) => t.name)).catch(() => {});
      await admin.close();
      await deletePrefixSubjects(config.schemaRegistryUrl, config.topicPrefix);
    },
  };
}

/**
 * Polls `probe` until it returns something other than undefined or false, and returns that; a
 * probe that throws counts as not yet (its last error is in the timeout message).
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 45_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface EventOptions {
  seed?: number;
  /** eventId prefix (default `e`): two logs of one test stay distinct. */
  idPrefix?: string;
  /**
   * `journeys` (default): browse, chat and purchase only, event time rising 500 ms per event with a
   * 3-minute quiet spell every 150 events, so inactivity timers fire on stream time (engine tests).
   * `every-kind`: every customer event kind but erasure in turn, times spread over two months (sink
   * and report tests: every table and column gets rows).
   */
  profile?: 'journeys' | 'every-kind';
}

/** `n` valid customer events over `customers` customers, the same for the same options. */
export function makeEvents(n: number, customers: number, options: EventOptions = {}): CustomerEvent[] {
  const { seed = 1, idPrefix = 'e', profile = 'journeys' } = options;
  return profile === 'journeys' ? journeyEvents(n, customers, seed, idPrefix) : everyKindEvents(n, customers, seed, idPrefix);
}

const event = <N extends CustomerEventName>(name: N, value: unknown): CustomerEvent => ({ name, value: validateRecord(name, value) }) as CustomerEvent;

function journeyEvents(n: number, customers: number, seed: number, idPrefix: string): CustomerEvent[] {
  const rnd = prng(seed);
  const out: CustomerEvent[] = [];
  let time = Date.UTC(2026, 0, 1);
  for (let i = 0; i < n; i++) {
    time += 500 + (i > 0 && i % 150 === 0 ? 180_000 : 0);
    const base = { eventId: `${idPrefix}-${i}`, customerId: `cust-${Math.floor(rnd() * customers)}`, eventTime: time, source: 'test', schemaVersion: 1 };
    const kind = rnd();
    if (kind < 0.6) {
      out.push(
        event(customerEventTypes.browse, {
          ...base,
          kind: 'PRODUCT_VIEW',
          sessionId: null,
          url: null,
          productId: `p-${i % 17}`,
          category: 'shoes',
          query: null,
        }),
      );
    } else if (kind < 0.85) {
      out.push(
        event(customerEventTypes.chat, {
          ...base,
          conversationId: `conv-${i % 9}`,
          text: null,
          intent: 'ORDER_STATUS',
          sentiment: Math.round((rnd() * 2 - 1) * 100) / 100,
          resolved: rnd() < 0.5,
          handledBy: 'BOT',
        }),
      );
    } else {
      out.push(
        event(customerEventTypes.purchase, {
          ...base,
          orderId: `o-${i}`,
          lineItems: [{ sku: `sku-${i % 5}`, category: null, quantity: 1, unitPriceMinor: 1999 }],
          amountMinor: 1999,
          currency: 'EUR',
          channel: 'WEB',
        }),
      );
    }
  }
  return out;
}

function everyKindEvents(n: number, customers: number, seed: number, idPrefix: string): CustomerEvent[] {
  const r = prng(seed);
  const t0 = Date.UTC(2026, 0, 5);
  // Erasures are not ordinary events: they delete state and rows (their own tests send them).
  const kinds = Object.values(customerEventTypes).filter((k) => k !== customerEventTypes.erasure);
  const out: CustomerEvent[] = [];
  for (let i = 0; i < n; i++) {
    const name = kinds[i % kinds.length]!;
    const base = {
      eventId: `${idPrefix}-${seed}-${i}`,
      customerId: `cust-${Math.floor(r() * customers)}`,
      eventTime: t0 + Math.floor(r() * 60 * 86_400_000),
      source: 'it',
    };
    const values: Record<string, unknown> = {
      [customerEventTypes.browse]: { ...base, kind: 'PRODUCT_VIEW', category: 'shoes', productId: `p-${i}` },
      [customerEventTypes.chat]: { ...base, conversationId: `conv-${i}`, intent: 'COMPLAINT', sentiment: -0.5, resolved: false, handledBy: 'BOT' },
      [customerEventTypes.purchase]: {
        ...base,
        orderId: `o-${i}`,
        lineItems: [{ sku: 'sku-1', category: 'shoes', quantity: 1, unitPriceMinor: 1000 + i }],
        amountMinor: 1000 + i,
        currency: 'EUR',
        channel: 'WEB',
      },
      [customerEventTypes.survey]: { ...base, surveyId: `s-${i}`, nps: i % 11, csat: 1 + (i % 5) },
      [customerEventTypes.outcome]: {
        ...base,
        decisionId: `dec-${seed}-${i}`,
        actionId: 'offer_discount',
        channel: 'EMAIL',
        outcome: 'CONVERTED',
        valueMinor: 500,
      },
      [customerEventTypes.consent]: { ...base, channel: 'EMAIL', granted: i % 2 === 0 },
    };
    out.push(event(name, values[name]));
  }
  return out;
}
