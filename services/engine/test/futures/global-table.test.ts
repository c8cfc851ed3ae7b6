/** The generic global-table reader on the in-memory Kafka adapter: whole-topic reads, catch-up, tombstones, bad records. */
import { MemoryKafka, silentLogger } from '@nextact/core';
import { GlobalTable, type GlobalTableRecord } from '../../src/runtime/global-table';

const TOPIC = 'gt.models';

async function setup() {
  const kafka = new MemoryKafka().client();
  const admin = await kafka.admin();
  const seen: GlobalTableRecord<string>[] = [];
  const table = new GlobalTable<string>({
    kafka,
    admin,
    topic: TOPIC,
    logger: silentLogger,
    followMs: 0,
    decode: async (bytes) => {
      const text = bytes.toString('utf8');
      if (text.startsWith('bad')) throw new Error('undecodable');
      return text;
    },
    apply: (r) => {
      seen.push(r);
    },
  });
  const write = async (records: { key: string; value: string | null; partition?: number }[]) => {
    const producer = await kafka.producer();
    await producer.send(records.map((r) => ({ topic: TOPIC, key: r.key, partition: r.partition, value: r.value === null ? null : Buffer.from(r.value) })));
    await producer.close();
  };
  return { kafka, admin, table, seen, write };
}

describe('GlobalTable', () => {
  it('reads a topic that does not exist yet as empty, then everything written once it does', async () => {
    const { admin, table, seen, write } = await setup();
    await table.start();
    expect(seen).toEqual([]);
    await admin.ensureTopics([{ name: TOPIC, partitions: 2, replicationFactor: 1, config: { 'cleanup.policy': 'compact' } }]);
    await write([
      { key: 'v1', value: 'one', partition: 0 },
      { key: 'v2', value: 'two', partition: 1 },
    ]);
    await table.catchUp();
    expect(seen.map((r) => [r.key, r.value]).sort()).toEqual([
      ['v1', 'one'],
      ['v2', 'two'],
    ]);
    table.close();
  });

  it('applies each record once, in offset order per partition; a tombstone arrives as null; a bad record is skipped and counted', async () => {
    const { admin, table, seen, write } = await setup();
    await admin.ensureTopics([{ name: TOPIC, partitions: 1, replicationFactor: 1, config: {} }]);
    await write([
      { key: 'a', value: 'a1' },
      { key: 'b', value: 'bad bytes' },
      { key: 'a', value: 'a2' },
    ]);
    await table.start();
    await write([{ key: 'a', value: null }]);
    // Concurrent callers share reads, and each sees what was written before its call.
    await Promise.all([table.catchUp(), table.catchUp(), table.catchUp()]);
    await table.catchUp();
    expect(seen.map((r) => [r.offset, r.key, r.value])).toEqual([
      ['0', 'a', 'a1'],
      ['2', 'a', 'a2'],
      ['3', 'a', null],
    ]);
    expect(table.records).toBe(3);
    expect(table.skipped).toBe(1);
    table.close();
  });

  it('a catch-up called while another runs reads what was written after that one started', async () => {
    const { admin, table, seen, write } = await setup();
    await admin.ensureTopics([{ name: TOPIC, partitions: 1, replicationFactor: 1, config: {} }]);
    await write([{ key: 'x', value: 'x1' }]);
    const first = table.catchUp();
    await write([{ key: 'y', value: 'y1' }]);
    const second = table.catchUp();
    await Promise.all([first, second]);
    expect(seen.map((r) => r.value)).toEqual(['x1', 'y1']);
    table.close();
  });
});
