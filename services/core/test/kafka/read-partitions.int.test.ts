import { provisioned, testConfig } from '../../../../test/support/kit';
import { type ConsumedRecord, topicNames } from '../../src';

describe('readPartitions over the real broker', () => {
  const config = testConfig('core');
  const topic = topicNames(config.topicPrefix).journeyChangelog;
  let env: Awaited<ReturnType<typeof provisioned>>;

  beforeAll(async () => {
    env = await provisioned(config, 'read-it');
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  it('reads a partition larger than one fetch exactly once, skipping aborted data and markers', async () => {
    const value = Buffer.alloc(2_000, 7);
    const producer = await env.kafka.transactionalProducer(`${config.topicPrefix}read-it`);
    let committed = 0;
    // 12 transactions of 150 records of ~2 KB: ~3.6 MB on partition 1, well over one 1 MiB fetch.
    for (let t = 0; t < 12; t++) {
      const records = Array.from({ length: 150 }, (_, i) => ({ topic, key: `k-${t}-${i}`, value, partition: 1 }));
      if (t === 5) {
        await expect(
          producer.transact(async (tx) => {
            await tx.send(records.map((r) => ({ ...r, key: `aborted-${r.key}` })));
            throw new Error('abort on purpose');
          }),
        ).rejects.toThrow('abort on purpose');
        continue;
      }
      await producer.transact((tx) => tx.send(records));
      committed += records.length;
    }
    await producer.close();

    const seen: ConsumedRecord[] = [];
    const [result] = await env.kafka.readPartitions(topic, [{ partition: 1, from: '0' }], (records) => void seen.push(...records));
    expect(seen).toHaveLength(committed);
    expect(new Set(seen.map((r) => r.key)).size).toBe(committed);
    expect(seen.some((r) => r.key?.startsWith('aborted-'))).toBe(false);
    const offsets = seen.map((r) => BigInt(r.offset));
    expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(result?.records).toBe(committed);

    // From the middle: only the tail, and nothing from other partitions.
    const middle = seen[800]!.offset;
    const tail: ConsumedRecord[] = [];
    await env.kafka.readPartitions(topic, [{ partition: 1, from: middle }], (records) => void tail.push(...records));
    expect(tail).toHaveLength(committed - 800);
    expect(tail[0]?.offset).toBe(middle);
  });
});
