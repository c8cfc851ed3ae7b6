import { provisioned, testConfig } from '../../../../test/support/kit';
import { type ConsumedRecord, subjectFor, topicNames, validateRecord } from '../../src';

describe('Avro over the real broker and registry', () => {
  const config = testConfig('core');
  const topics = topicNames(config.topicPrefix);
  let env: Awaited<ReturnType<typeof provisioned>>;

  beforeAll(async () => {
    env = await provisioned(config, 'avro-it');
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  it('produces and consumes a record in Confluent wire format, decoded through the registry', async () => {
    const events = Array.from({ length: 20 }, (_, i) =>
      validateRecord('nextact.BrowseEvent', {
        eventId: `e-${i}`,
        customerId: `c-${i % 4}`,
        eventTime: Date.UTC(2026, 0, 1, 0, 0, i),
        source: 'it',
        kind: 'PRODUCT_VIEW',
        productId: `p-${i}`,
      }),
    );
    const producer = await env.kafka.producer();
    await producer.send(
      events.map((value) => ({
        topic: topics.customerEvents,
        key: value.customerId,
        value: env.codec.encode(topics.customerEvents, 'nextact.BrowseEvent', value),
      })),
    );
    await producer.close();

    const received: ConsumedRecord[] = [];
    const results = await env.kafka.readPartitions(
      topics.customerEvents,
      [0, 1, 2].map((partition) => ({ partition, from: '0' })),
      (records) => void received.push(...records),
    );
    expect(results.reduce((n, r) => n + r.records, 0)).toBe(20);
    expect(received).toHaveLength(20);

    // Wire format: magic byte 0, then the id the registry holds for this subject.
    const registryResponse = await fetch(
      `${config.schemaRegistryUrl}/subjects/${encodeURIComponent(subjectFor(topics.customerEvents, 'nextact.BrowseEvent'))}/versions/latest`,
    );
    expect(registryResponse.status).toBe(200);
    const latest = (await registryResponse.json()) as { id: number };
    for (const record of received) {
      expect(record.value?.readUInt8(0)).toBe(0);
      expect(record.value?.readInt32BE(1)).toBe(latest.id);
    }

    const decoded = await Promise.all(received.map((r) => env.codec.decode(r.value)));
    const byId = new Map(decoded.map((d) => [(d.value as { eventId: string }).eventId, d]));
    for (const event of events) {
      const d = byId.get(event.eventId);
      expect(d?.name).toBe('nextact.BrowseEvent');
      expect(d?.value).toEqual(event);
    }
    // One customer's events stay on one partition, in order.
    for (const customer of ['c-0', 'c-1', 'c-2', 'c-3']) {
      const mine = received.filter((r) => r.key === customer);
      expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
      const times = await Promise.all(mine.map(async (r) => ((await env.codec.decode(r.value)).value as { eventTime: number }).eventTime));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
  });

  it('rejects bytes that are not in the wire format with a clear error', async () => {
    await expect(env.codec.decode(Buffer.from('{"json":true}'))).rejects.toThrow(/unknown magic byte 123/);
    await expect(env.codec.decode(Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1]))).rejects.toThrow(/schema id 2147483632 not found/);
  });
});
