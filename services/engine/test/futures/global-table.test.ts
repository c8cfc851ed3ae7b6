/** The generic global-table reader on the in-memory Kafka adapter: whole-topic reads, catch-up, tombstones, bad records. */
import { ErrorCodes, type KafkaAdmin, MemoryKafka, NextActError, silentLogger } from '@nextact/core';
import { Registry } from 'prom-client';
import { GlobalTable, GlobalTableMetrics, type GlobalTableRecord } from '../../src/runtime/global-table';
import { EngineMetrics } from '../../src/runtime/metrics';

const TOPIC = 'gt.models';

async function setup(options: { metrics?: GlobalTableMetrics; admin?: (admin: KafkaAdmin) => KafkaAdmin } = {}) {
  const kafka = new MemoryKafka().client();
  const admin = await kafka.admin();
  const seen: GlobalTableRecord<string>[] = [];
  const table = new GlobalTable<string>({
    kafka,
    admin: options.admin ? options.admin(admin) : admin,
    topic: TOPIC,
    name: 'models',
    metrics: options.metrics,
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

  describe('metrics', () => {
    async function series(registry: Registry, name: string): Promise<Record<string, number>> {
      const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
      return Object.fromEntries((metric?.values ?? []).map((v) => [Object.values(v.labels).join(','), v.value]));
    }

    it('count applied and skipped records, and report the lag as the broker sees it, per table', async () => {
      const registry = new Registry();
      const metrics = new EngineMetrics(registry).globalTables;
      const { admin, table, write } = await setup({ metrics });
      // Present from the start at 0, before anything was read.
      expect(await series(registry, 'nextact_engine_global_table_records_total')).toEqual({ 'models,applied': 0, 'models,skipped': 0 });
      expect(await series(registry, 'nextact_engine_global_table_lag')).toEqual({ models: 0 }); // no topic yet
      await admin.ensureTopics([{ name: TOPIC, partitions: 2, replicationFactor: 1, config: {} }]);
      await write([
        { key: 'a', value: 'a1', partition: 0 },
        { key: 'b', value: 'bad bytes', partition: 1 },
        { key: 'c', value: 'c1', partition: 1 },
      ]);
      expect(await series(registry, 'nextact_engine_global_table_lag')).toEqual({ models: 3 });
      const before = Date.now() / 1000;
      await table.start();
      expect(await series(registry, 'nextact_engine_global_table_records_total')).toEqual({ 'models,applied': 2, 'models,skipped': 1 });
      expect(await series(registry, 'nextact_engine_global_table_lag')).toEqual({ models: 0 });
      expect((await series(registry, 'nextact_engine_global_table_last_read_timestamp_seconds')).models).toBeGreaterThanOrEqual(before);
      await write([
        { key: 'a', value: 'a2', partition: 0 },
        { key: 'a', value: null, partition: 0 },
      ]);
      expect(await series(registry, 'nextact_engine_global_table_lag')).toEqual({ models: 2 });
      await table.catchUp();
      expect(await series(registry, 'nextact_engine_global_table_lag')).toEqual({ models: 0 });
      expect(await series(registry, 'nextact_engine_global_table_records_total')).toEqual({ 'models,applied': 4, 'models,skipped': 1 });
      expect(await series(registry, 'nextact_engine_global_table_read_errors_total')).toEqual({ models: 0 });
      table.close();
    });

    it('count failed read passes; the last read time moves with the pass that reaches the end', async () => {
      const registry = new Registry();
      const metrics = new GlobalTableMetrics(registry);
      let failures = 0;
      const { admin, table, write } = await setup({
        metrics,
        admin: (real) =>
          Object.assign(Object.create(real) as KafkaAdmin, {
            watermarks: async (topic: string) => {
              if (failures > 0) {
                failures--;
                throw new NextActError(ErrorCodes.KAFKA_UNAVAILABLE, 'broker away (test)', { retriable: true });
              }
              return real.watermarks(topic);
            },
          }),
      });
      await admin.ensureTopics([{ name: TOPIC, partitions: 1, replicationFactor: 1, config: {} }]);
      await write([{ key: 'a', value: 'a1' }]);
      await table.catchUp();
      const firstRead = (await series(registry, 'nextact_engine_global_table_last_read_timestamp_seconds')).models!;
      await write([{ key: 'a', value: 'a2' }]);
      failures = 2;
      await new Promise((r) => setTimeout(r, 20));
      await table.catchUp(); // two failed attempts, retried, then a pass to the end
      expect(await series(registry, 'nextact_engine_global_table_read_errors_total')).toEqual({ models: 2 });
      expect((await series(registry, 'nextact_engine_global_table_last_read_timestamp_seconds')).models).toBeGreaterThan(firstRead);
      // A scrape while the broker cannot answer keeps the last lag rather than failing the scrape.
      await write([{ key: 'a', value: 'a3' }]);
      expect(await series(registry, 'nextact_engine_global_table_lag')).toEqual({ models: 1 });
      failures = 1;
      expect(await series(registry, 'nextact_engine_global_table_lag')).toEqual({ models: 1 });
      table.close();
    });
  });
});
