import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Config,
  type CustomerEventName,
  codecFromConfig,
  customerEventTypes,
  type KafkaClient,
  kafkaFromConfig,
  loadConfig,
  type OutgoingRecord,
  provision,
  type RecordCodec,
  type RecordName,
  type RecordTypes,
  silentLogger,
  topicNames,
  topicSpecs,
  validateRecord,
} from '@nextact/core';
import { prng as rng } from '../../../test/support/prng';

/** A config of its own: unique topic prefix (so group ids are unique too) and a fresh chdb folder. */
export function testConfig(name: string, extra: Record<string, string> = {}): Config & { dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), `nextact-analytics-${name}-`));
  const config = loadConfig({
    ...process.env,
    NEXTACT_TOPIC_PREFIX: `test-an-${name}-${randomBytes(4).toString('hex')}.`,
    NEXTACT_PARTITIONS: '3',
    CHDB_PATH: join(dataDir, 'chdb'),
    CLICKHOUSE_URL: '',
    CLICKHOUSE_DATABASE: 'nextact',
    LOG_LEVEL: 'warn',
    ...extra,
  });
  return { ...config, dataDir };
}

export async function provisioned(config: Config & { dataDir: string }, name: string) {
  const kafka = kafkaFromConfig(config, silentLogger, name);
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
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

const T0 = Date.UTC(2026, 0, 5);

/** `n` valid customer events of every kind, spread over ~2 months and `customers` customers. */
export function makeEvents(n: number, customers: number, seed: number): { name: CustomerEventName; value: RecordTypes[CustomerEventName] }[] {
  const r = rng(seed);
  // Erasures are not ordinary events: they delete rows (see erasure.int.test.ts).
  const kinds = Object.values(customerEventTypes).filter((k) => k !== customerEventTypes.erasure);
  const out: { name: CustomerEventName; value: RecordTypes[CustomerEventName] }[] = [];
  for (let i = 0; i < n; i++) {
    const name = kinds[i % kinds.length]!;
    const base = {
      eventId: `ev-${seed}-${i}`,
      customerId: `cust-${Math.floor(r() * customers)}`,
      eventTime: T0 + Math.floor(r() * 60 * 86_400_000),
      source: 'it',
    };
    let value: unknown;
    switch (name) {
      case 'nextact.BrowseEvent':
        value = { ...base, kind: 'PRODUCT_VIEW', category: 'shoes', productId: `p-${i}` };
        break;
      case 'nextact.ChatEvent':
        value = { ...base, conversationId: `conv-${i}`, intent: 'COMPLAINT', sentiment: -0.5, resolved: false, handledBy: 'BOT' };
        break;
      case 'nextact.PurchaseEvent':
        value = {
          ...base,
          orderId: `o-${i}`,
          lineItems: [{ sku: 'sku-1', category: 'shoes', quantity: 1, unitPriceMinor: 1000 + i }],
          amountMinor: 1000 + i,
          currency: 'EUR',
          channel: 'WEB',
        };
        break;
      case 'nextact.SurveyResponse':
        value = { ...base, surveyId: `s-${i}`, nps: i % 11, csat: 1 + (i % 5) };
        break;
      case 'nextact.ActionOutcome':
        value = { ...base, decisionId: `dec-${seed}-${i}`, actionId: 'offer_discount', channel: 'EMAIL', outcome: 'CONVERTED', valueMinor: 500 };
        break;
      case 'nextact.ConsentChange':
        value = { ...base, channel: 'EMAIL', granted: i % 2 === 0 };
        break;
    }
    out.push({ name, value: validateRecord(name, value) });
  }
  return out;
}

export function makeDecisions(n: number, customers: number, seed: number): RecordTypes['nextact.Decision'][] {
  const r = rng(seed);
  const arms = ['NONE', 'CONTROL', 'TREATMENT'] as const;
  return Array.from({ length: n }, (_, i) => {
    const t = T0 + Math.floor(r() * 60 * 86_400_000);
    const arm = arms[i % 3]!;
    return validateRecord('nextact.Decision', {
      decisionId: `dec-${seed}-${i}`,
      customerId: `cust-${Math.floor(r() * customers)}`,
      triggerEventId: `ev-${seed}-${i}`,
      triggerType: 'nextact.BrowseEvent',
      actionId: i % 2 === 0 ? 'offer_discount' : 'do_nothing',
      channel: i % 2 === 0 ? 'EMAIL' : 'NONE',
      deliver: arm !== 'CONTROL' && i % 2 === 0,
      journeyStage: 'CONSIDERATION',
      experimentId: arm === 'NONE' ? null : 'exp-1',
      experimentArm: arm,
      probability: 0.5,
      score: 0.25,
      candidates: [{ actionId: 'offer_discount', eligible: true, propensity: 0.2, value: 1, contextWeight: 1, lever: 1, benefit: 0.1, score: 0.25 }],
      reasonCodes: ['ARBITRATION_TOP'],
      policyVersion: 'v1',
      eventTime: t,
      decisionTime: t + 5,
      schemaVersion: 1,
    });
  });
}

export function encodeAll(
  codec: RecordCodec,
  topics: ReturnType<typeof topicNames>,
  events: { name: CustomerEventName; value: RecordTypes[CustomerEventName] }[],
  decisions: RecordTypes['nextact.Decision'][],
): OutgoingRecord[] {
  return [
    ...events.map((e) => ({
      topic: topics.customerEvents,
      key: e.value.customerId,
      value: codec.encode(topics.customerEvents, e.name as RecordName, e.value),
    })),
    ...decisions.map((d) => ({ topic: topics.decisions, key: d.customerId, value: codec.encode(topics.decisions, 'nextact.Decision', d) })),
  ];
}

export async function produceAll(kafka: KafkaClient, records: OutgoingRecord[], chunk = 2_000): Promise<void> {
  const producer = await kafka.producer({ idempotent: true });
  try {
    for (let i = 0; i < records.length; i += chunk) await producer.send(records.slice(i, i + chunk));
  } finally {
    await producer.close();
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 45_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
