/**
 * Poison records on every input topic (issue 14): customer-events (read by the engine and the
 * sink) and decisions (read by the sink) each get records that are not Avro, carry an unknown
 * schema id, carry another topic's schema, are oversized (near the broker's 1 MiB limit), or have a
 * key that is not their customer, between valid records. Each consumer dead-letters them with the
 * reason and the source position, and carries on: every valid record is decided on and sunk once.
 */
import { type ConsumedRecord, type Decision, type OutgoingRecord, validateRecord } from '@nextact/core';
import { fakeDomain } from '../../services/engine/test/runtime/fake-domain';
import {
  decodeDecisions,
  encodeEvent,
  makeEvents,
  readTopic,
  startEngine,
  type TestStack,
  testStack,
  waitCaughtUp,
} from '../../services/engine/test/runtime/helpers';
import { recordFault, tally } from './support/record';
import { rowIds, type SinkUnderTest, startSink } from './support/sink';

const OVERSIZED = 900 * 1024;

describe('poison records on every input topic', () => {
  let stack: TestStack;
  let sink: SinkUnderTest | undefined;

  beforeAll(async () => {
    stack = await testStack('fault-poison', 2);
  });
  afterAll(async () => {
    await sink?.remove();
    await stack?.cleanup();
  });

  it('dead-letters each with its reason, and every valid record still goes through once', async () => {
    const t0 = Date.now();
    const events = makeEvents(400, 40, 5, 'p');
    const t = stack.topics;
    // A browse event (its copies below are encoded as one) that stays out of the valid list.
    const first = events.find((e) => e.name === 'nextact.BrowseEvent');
    const unknownSchemaId = (body: string) => Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), Buffer.from(body)]);
    const decision: Decision = {
      decisionId: 'poison-decision',
      customerId: 'cust-1',
      triggerEventId: 'poison-trigger',
      triggerType: 'x',
      actionId: 'x',
      channel: 'NONE',
      modelVersion: null,
      pAlive: null,
      predictedClvMinor: null,
      deliver: false,
      journeyStage: 'AWARENESS',
      experimentId: null,
      experimentArm: 'NONE',
      probability: 1,
      score: 0,
      candidates: [],
      reasonCodes: [],
      policyVersion: 'x',
      eventTime: Date.UTC(2026, 0, 1),
      decisionTime: Date.UTC(2026, 0, 1),
      schemaVersion: 1,
    };
    // A valid event whose one free-text field makes it nearly as large as the broker accepts.
    const oversizedEvent = {
      name: 'nextact.BrowseEvent',
      value: validateRecord('nextact.BrowseEvent', {
        eventId: 'poison-oversized',
        customerId: 'cust-big',
        eventTime: first!.value.eventTime,
        source: 'fault',
        schemaVersion: 1,
        kind: 'SEARCH',
        sessionId: null,
        url: null,
        productId: null,
        category: null,
        query: 'q'.repeat(OVERSIZED),
      }),
    } as (typeof events)[number];
    const eventBytes = stack.codec.encode(t.customerEvents, 'nextact.BrowseEvent', first!.value as never);
    const poison: { topic: string; kind: string; record: OutgoingRecord }[] = [
      { topic: t.customerEvents, kind: 'not Avro', record: { topic: t.customerEvents, key: 'cust-1', value: Buffer.from('{"not":"avro"}') } },
      { topic: t.customerEvents, kind: 'unknown schema id', record: { topic: t.customerEvents, key: 'cust-1', value: unknownSchemaId('body') } },
      {
        topic: t.customerEvents,
        kind: 'wrong schema',
        record: { topic: t.customerEvents, key: 'cust-1', value: stack.codec.encode(t.decisions, 'nextact.Decision', decision) },
      },
      {
        topic: t.customerEvents,
        kind: 'oversized garbage',
        record: { topic: t.customerEvents, key: 'cust-1', value: Buffer.concat([eventBytes.subarray(0, 5), Buffer.alloc(OVERSIZED, 0xff)]) },
      },
      { topic: t.customerEvents, kind: 'key is not the customer', record: { topic: t.customerEvents, key: 'someone-else', value: eventBytes } },
      { topic: t.decisions, kind: 'not Avro', record: { topic: t.decisions, key: 'cust-1', value: Buffer.from('garbage') } },
      { topic: t.decisions, kind: 'unknown schema id', record: { topic: t.decisions, key: 'cust-1', value: unknownSchemaId('decision') } },
      { topic: t.decisions, kind: 'wrong schema', record: { topic: t.decisions, key: 'cust-1', value: eventBytes } },
      {
        topic: t.decisions,
        kind: 'oversized garbage',
        record: { topic: t.decisions, key: 'cust-1', value: Buffer.concat([eventBytes.subarray(0, 5), Buffer.alloc(OVERSIZED, 0xfe)]) },
      },
    ];
    // Poison spread between the valid events, each in its own send so they land one by one.
    const producer = await stack.kafka.producer();
    const valid = [...events.filter((e) => e !== first), oversizedEvent];
    try {
      const step = Math.floor(valid.length / poison.length);
      for (let i = 0; i < poison.length; i++) {
        await producer.send(
          valid.slice(i * step, (i + 1) * step).map((e) => ({ topic: t.customerEvents, key: e.value.customerId, value: encodeEvent(stack, e) })),
        );
        await producer.send([poison[i]!.record]);
      }
      await producer.send(valid.slice(poison.length * step).map((e) => ({ topic: t.customerEvents, key: e.value.customerId, value: encodeEvent(stack, e) })));
    } finally {
      await producer.close();
    }

    const groupId = `${stack.prefix}engine`;
    const { engine } = await startEngine(stack, fakeDomain(), { groupId, instanceId: 'poison' });
    try {
      await waitCaughtUp(stack, groupId, 90_000);
    } finally {
      await engine.stop();
    }
    sink = await startSink({ kafka: stack.kafka, codec: stack.codec, topics: t, prefix: stack.prefix, logger: stack.logger });
    await sink.caughtUp(90_000);
    await sink.stop();

    // Who dead-lettered what: each dead letter names the consumer group that refused it.
    const dead = [...(await readTopic(stack, t.deadLetter)).values()].flat();
    const deadFor = (r: OutgoingRecord, topic: string) =>
      dead.filter((d: ConsumedRecord) => d.headers['dlq-source-topic'] === topic && d.value?.equals(r.value as Buffer) && d.key === r.key);
    const outcome = poison.map((p) => ({
      topic: p.topic === t.customerEvents ? 'customer-events' : 'decisions',
      kind: p.kind,
      engine: deadFor(p.record, p.topic)
        .filter((d) => d.headers['dlq-consumer'] === groupId)
        .map((d) => d.headers['dlq-reason']),
      sink: deadFor(p.record, p.topic)
        .filter((d) => d.headers['dlq-consumer'] === sink!.groupId)
        .map((d) => d.headers['dlq-reason']),
    }));
    console.log(`poison outcome ${JSON.stringify(outcome)}`);

    // The decisions topic holds the poison too: only what decodes as a decision counts.
    const decisions: Decision[] = [];
    for (const r of [...(await readTopic(stack, t.decisions)).values()].flat()) {
      decisions.push(...(await decodeDecisions(stack, [r]).catch(() => [])));
    }
    const eventRows = await rowIds(sink.store, 'events');
    const decisionRows = await rowIds(sink.store, 'decisions');
    const validIds = valid.map((e) => e.value.eventId);
    const decided = tally(
      validIds,
      decisions.filter((d) => !d.triggerEventId.startsWith('timer:')).map((d) => d.triggerEventId),
    );
    // The key-mismatched copy of the first event carries the first event's id: left out of the tally.
    const sunk = tally(
      validIds,
      eventRows.filter((id) => id !== first!.value.eventId),
    );
    const sunkDecisions = tally(
      decisions.map((d) => d.decisionId),
      decisionRows,
    );
    const engineMissed = outcome.filter((o) => o.topic === 'customer-events' && o.engine.length !== 1);
    const sinkMissed = outcome.filter((o) => o.sink.length !== 1);
    recordFault(
      {
        name: 'poison records',
        faultsInjected: poison.length,
        eventsIn: valid.length,
        decisionsOut: decisions.length,
        rowsSunk: eventRows.length + decisionRows.length,
        duplicates: decided.duplicates + sunk.duplicates + sunkDecisions.duplicates,
        lost: decided.lost + sunk.lost + sunkDecisions.lost,
        note: `not dead-lettered: engine ${engineMissed.map((o) => o.kind).join(', ') || 'none'}; sink ${sinkMissed.map((o) => `${o.topic} ${o.kind}`).join(', ') || 'none'}`,
      },
      t0,
    );

    // The engine dead-letters every poison record on its input, each once, with a reason.
    expect(outcome.filter((o) => o.topic === 'customer-events').map((o) => [o.kind, o.engine])).toEqual([
      ['not Avro', ['decode-failed']],
      ['unknown schema id', ['decode-failed']],
      ['wrong schema', ['unknown-record']],
      ['oversized garbage', ['decode-failed']],
      ['key is not the customer', ['key-mismatch']],
    ]);
    // The sink dead-letters what it cannot store, with the engine's reasons (one set: core's dead-letter.ts).
    expect(outcome.map((o) => [o.topic, o.kind, o.sink])).toEqual([
      ['customer-events', 'not Avro', ['decode-failed']],
      ['customer-events', 'unknown schema id', ['decode-failed']],
      ['customer-events', 'wrong schema', ['unknown-record']],
      ['customer-events', 'oversized garbage', ['decode-failed']],
      ['customer-events', 'key is not the customer', ['key-mismatch']],
      ['decisions', 'not Avro', ['decode-failed']],
      ['decisions', 'unknown schema id', ['decode-failed']],
      ['decisions', 'wrong schema', ['unknown-record']],
      ['decisions', 'oversized garbage', ['decode-failed']],
    ]);
    // And both carried on: every valid event (the oversized valid one too) decided and sunk once.
    expect(decided).toMatchObject({ duplicates: 0, lost: 0 });
    expect(sunk).toMatchObject({ duplicates: 0, lost: 0 });
    expect(sunkDecisions).toMatchObject({ duplicates: 0, lost: 0 });
  });
});
