/**
 * Poison records: anything that cannot be decoded or applied goes to the dead-letter topic in the
 * same transaction, with its reason and source position in headers; processing continues.
 */
import type { Decision } from '@nextact/core';
import { fakeDomain } from './fake-domain';
import { counterTotal, decodeDecisions, encodeEvent, makeEvents, readTopic, startEngine, useTestStack, waitCaughtUp } from './helpers';

jest.setTimeout(60_000);

describe('engine runtime: poison records', () => {
  const stack = useTestStack('poison', 1);

  it('dead-letters bad records with their reason and keeps going', async () => {
    const domain = fakeDomain();
    const groupId = `${stack.prefix}engine`;
    const [e0, e1, e2, e3, e4] = makeEvents(5, 3, 3);
    const boom = { ...e3!, value: { ...e3!.value, eventId: 'boom-1' } } as typeof e3 & {};
    const unknownSchema = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x00]), Buffer.from('body')]);
    const decision: Decision = {
      decisionId: 'x',
      customerId: 'cust-1',
      triggerEventId: 'x',
      triggerType: 'x',
      actionId: 'x',
      channel: 'NONE',
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
      modelVersion: null,
      pAlive: null,
      predictedClvMinor: null,
    };
    const t = stack.topics.customerEvents;
    const producer = await stack.kafka.producer();
    try {
      await producer.send([
        { topic: t, key: e0!.value.customerId, value: encodeEvent(stack, e0!) },
        { topic: t, key: 'cust-9', value: Buffer.from('definitely not avro') },
        { topic: t, key: e1!.value.customerId, value: encodeEvent(stack, e1!) },
        { topic: t, key: 'cust-9', value: unknownSchema },
        { topic: t, key: 'cust-1', value: stack.codec.encode(stack.topics.decisions, 'nextact.Decision', decision) },
        { topic: t, key: 'someone-else', value: encodeEvent(stack, e2!) },
        { topic: t, key: boom.value.customerId, value: encodeEvent(stack, boom) },
        { topic: t, key: e4!.value.customerId, value: encodeEvent(stack, e4!) },
      ]);
    } finally {
      await producer.close();
    }
    const { engine, metrics } = await startEngine(stack, domain, { groupId, instanceId: 'poison-1' });
    try {
      await waitCaughtUp(stack, groupId);
    } finally {
      await engine.stop();
    }

    const dead = (await readTopic(stack, stack.topics.deadLetter)).get(0)!;
    expect(dead.map((r) => [r.headers['dlq-reason'], r.headers['dlq-source-offset']])).toEqual([
      ['decode-failed', '1'],
      ['decode-failed', '3'],
      ['unknown-record', '4'],
      ['key-mismatch', '5'],
      ['processing-failed', '6'],
    ]);
    for (const r of dead) {
      expect(r.headers['dlq-source-topic']).toBe(t);
      expect(r.headers['dlq-source-partition']).toBe('0');
      expect(r.headers['dlq-error']?.length).toBeGreaterThan(0);
    }
    expect(dead[0]!.value!.toString()).toBe('definitely not avro');
    expect(dead[0]!.key).toBe('cust-9');

    const decisions = await decodeDecisions(stack, (await readTopic(stack, stack.topics.decisions)).get(0)!);
    const triggers = decisions.map((d) => d.triggerEventId).filter((id) => !id.startsWith('timer:'));
    expect(triggers).toEqual([e0!.value.eventId, e1!.value.eventId, e4!.value.eventId]);
    expect(await counterTotal(metrics, 'nextact_dead_letters_total', { reason: 'decode-failed' })).toBe(2);
    expect(await counterTotal(metrics, 'nextact_dead_letters_total')).toBe(5);
  });
});
