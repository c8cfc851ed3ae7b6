/**
 * The changelog in the Confluent wire format, on the real broker and registry, with the NBA domain:
 * journey and learner records the engine writes decode with a standard Confluent deserializer
 * (`@kafkajs/confluent-schema-registry`'s `SchemaRegistry.decode`), and the engine restores what
 * was there before — a value framed with an older version of the journey schema (resolved through
 * the registry) and an unframed one written before framing existed.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { avroType, type CustomerEvent, partitionForKey, schemas, subjectFor } from '@nextact/core';
import { Type } from 'avsc';
import { JOURNEY_SCHEMA_VERSION } from '../../src/journey/state';
import { createNbaDomain } from '../../src/nba';
import { LEARNER_KEY, STREAM_TIME_KEY } from '../../src/runtime/store';
import { storeKinds } from '../../src/runtime/stores';
import { shippedPolicy } from '../policy/helpers';
import { makeEvents, produceEvents, readTopic, startEngine, useTestStack, waitCaughtUp, waitFor } from './helpers';

jest.setTimeout(80_000);

describe.each(storeKinds)('engine runtime: registry-framed changelog (ENGINE_STORE=%s)', (store) => {
  const stack = useTestStack(`framed-${store}`, 2);

  it('writes journeys and learners a Confluent deserializer reads, and restores older and unframed values', async () => {
    const domain = createNbaDomain(shippedPolicy());
    const groupId = `${stack.prefix}engine`;
    const changelog = stack.topics.journeyChangelog;
    const events = makeEvents(400, 30, 17);

    // Before the engine: two journeys already on the changelog, as older engines left them.
    const journeyOf = (e: CustomerEvent) => domain.onEvent(undefined, domain.initialLearner(), e, 0).journey;
    const [olderEvent, unframedEvent] = [
      { ...events[0]!, value: { ...events[0]!.value, customerId: 'old-schema', eventId: 'pre-1' } },
      { ...events[1]!, value: { ...events[1]!.value, customerId: 'unframed', eventId: 'pre-2' } },
    ] as [CustomerEvent, CustomerEvent];
    const older = journeyOf(olderEvent);
    const unframed = journeyOf(unframedEvent);
    // The journey schema without its newest field (erasedAt, default null): an older version.
    const current = schemas['nextact.Journey'] as { fields: { name: string }[] };
    const olderSchema = { ...current, fields: current.fields.filter((f) => f.name !== 'erasedAt') };
    const olderId = await stack.codec.registerRaw(subjectFor(changelog, 'nextact.Journey'), olderSchema);
    const olderBody = Type.forSchema(olderSchema as never, { registry: {} }).toBuffer(avroType('nextact.Journey').fromBuffer(domain.serialiseJourney(older)));
    const header = Buffer.alloc(5);
    header.writeInt32BE(olderId, 1);
    const producer = await stack.kafka.producer();
    await producer.send([
      { topic: changelog, key: 'old-schema', partition: partitionForKey('old-schema', 2), value: Buffer.concat([header, olderBody]) },
      { topic: changelog, key: 'unframed', partition: partitionForKey('unframed', 2), value: domain.serialiseJourney(unframed) },
    ]);
    await producer.close();

    await produceEvents(stack, events);
    const { engine } = await startEngine(stack, domain, { groupId, instanceId: 'framed-1', store, checkpointIntervalMs: 0 });
    try {
      await waitFor('readiness', () => engine.readiness().ready);
      await waitCaughtUp(stack, groupId);
      // Restored: the older value reads as the current schema (erasedAt null), the unframed one as it was.
      const restoredOlder = engine.storeOf(partitionForKey('old-schema', 2))!.journeys.get('old-schema');
      expect(restoredOlder).toEqual({ ...older, erasedAt: null });
      expect(engine.storeOf(partitionForKey('unframed', 2))!.journeys.get('unframed')).toEqual(unframed);
    } finally {
      await engine.stop();
    }

    // Every journey and learner record the engine wrote, through a standard Confluent deserializer.
    const registry = new SchemaRegistry({ host: stack.config.schemaRegistryUrl });
    let journeys = 0;
    let learners = 0;
    for (const records of (await readTopic(stack, changelog)).values()) {
      for (const r of records) {
        if (r.value === null || r.key === STREAM_TIME_KEY || r.key === 'unframed' || r.key === 'old-schema') continue;
        const value = (await registry.decode(r.value)) as { v: number; customerId?: string; arms?: unknown };
        if (r.key === LEARNER_KEY) {
          learners++;
          expect(value.arms).toBeDefined();
        } else {
          journeys++;
          expect(value.customerId).toBe(r.key);
          expect(value.v).toBe(JOURNEY_SCHEMA_VERSION);
        }
      }
    }
    expect(journeys).toBeGreaterThanOrEqual(30);
    expect(learners).toBeGreaterThan(0);
  });
});
