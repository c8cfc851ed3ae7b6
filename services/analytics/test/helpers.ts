import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Config,
  type CustomerEventName,
  type KafkaClient,
  loadConfig,
  type OutgoingRecord,
  type RecordCodec,
  type RecordName,
  type RecordTypes,
  type topicNames,
  validateRecord,
} from '@nextact/core';
import { makeEvents as kitMakeEvents, provisioned as kitProvisioned, waitFor } from '../../../test/support/kit';
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

/** The kit's provisioned topics and schemas; cleanup also removes the chdb folder. */
export async function provisioned(config: Config & { dataDir: string }, name: string) {
  const p = await kitProvisioned(config, name);
  return {
    ...p,
    async cleanup() {
      await p.cleanup();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

/** `n` valid events of every kind (eventIds `ev-<seed>-<i>`, which makeDecisions' triggers name). */
export const makeEvents = (n: number, customers: number, seed: number) =>
  kitMakeEvents(n, customers, { seed, idPrefix: 'ev', profile: 'every-kind' }) as { name: CustomerEventName; value: RecordTypes[CustomerEventName] }[];

const T0 = Date.UTC(2026, 0, 5);

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
      // Every fourth decision made under a customer-futures model.
      ...(i % 4 === 0 ? { modelVersion: 'clv-test-1', pAlive: 0.75, predictedClvMinor: 12_345.5 } : {}),
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

export { waitFor };
