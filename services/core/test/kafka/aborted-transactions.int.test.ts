/**
 * read_committed leaves out aborted transactions of any size (found by the fault suite's engine
 * kill loop: a killed engine's open transaction is aborted by the broker, and a reader then saw its
 * decisions as committed). A transaction larger than one fetch response (1 MiB) has its abort
 * marker in a later response; the records before it are aborted all the same.
 */
import { randomBytes } from 'node:crypto';
import { type ConsumedRecord, kafkaAdapters, kafkaFromConfig, loadConfig, silentLogger } from '../../src';

jest.setTimeout(120_000);

describe.each(kafkaAdapters)('aborted transactions with %s', (adapter) => {
  const topic = `test-aborted-${adapter}-${randomBytes(4).toString('hex')}`;
  const kafka = kafkaFromConfig(loadConfig({ ...process.env, KAFKA_CLIENT: adapter }), silentLogger, `aborted-${adapter}`);

  beforeAll(async () => {
    const admin = await kafka.admin();
    try {
      await admin.ensureTopics([{ name: topic, partitions: 1, replicationFactor: 1 }]);
    } finally {
      await admin.close();
    }
    const producer = await kafka.transactionalProducer(`${topic}-tx`);
    try {
      const value = Buffer.alloc(1_000, 7);
      // 3,000 records of 1 kB: about 3 MB, over several fetch responses; then a small one; each aborted.
      for (const [label, count] of [
        ['big', 3_000],
        ['small', 20],
      ] as const) {
        await producer
          .transact(async (tx) => {
            for (let i = 0; i < count; i += 500) {
              await tx.send(Array.from({ length: Math.min(500, count - i) }, (_, j) => ({ topic, key: `aborted-${label}-${i + j}`, value })));
            }
            throw new Error('aborted on purpose');
          })
          .catch((err: Error) => {
            if (err.message !== 'aborted on purpose') throw err;
          });
        await producer.transact(async (tx) => {
          await tx.send([{ topic, key: `committed-after-${label}`, value: Buffer.from('ok') }]);
        });
      }
    } finally {
      await producer.close();
    }
  });

  afterAll(async () => {
    const admin = await kafka.admin();
    try {
      await admin.deleteTopics([topic]);
    } finally {
      await admin.close();
    }
  });

  it('readPartitions returns only the committed records', async () => {
    const read: ConsumedRecord[] = [];
    await kafka.readPartitions(topic, [{ partition: 0, from: '0' }], (records) => {
      read.push(...records);
    });
    expect(read.map((r) => r.key)).toEqual(['committed-after-big', 'committed-after-small']);
  });

  it('a group consumer receives only the committed records', async () => {
    const keys: string[] = [];
    const consumer = await kafka.consumer({ groupId: `${topic}-group`, topics: [topic], commitMarked: false });
    try {
      let done!: () => void;
      const both = new Promise<void>((resolve) => {
        done = resolve;
      });
      await consumer.run(async (batch) => {
        for (const r of batch.records) keys.push(r.key ?? '');
        if (keys.includes('committed-after-small')) done();
      });
      await Promise.race([both, new Promise((_, reject) => setTimeout(() => reject(new Error(`only got ${keys.length} records`)), 60_000))]);
    } finally {
      await consumer.close();
    }
    expect(keys).toEqual(['committed-after-big', 'committed-after-small']);
  });
});
