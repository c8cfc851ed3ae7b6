/**
 * A bare `readPartitions` on the real broker, with no work per record: the ceiling of a restore
 * through the port (what the engine's restore adds on top is applying the records).
 *
 *   npx tsx services/core/bench/read-partitions.ts [--records 300000] [--partitions 4] [--rounds 3] [--client platformatic] [--keep | --topic T]
 *
 * Writes `--records` changelog-like records (key, ~280-byte value, a `timer-due` header) to a topic
 * of its own, reads them whole `--rounds` times, prints records/s and main-thread CPU per record
 * for each round, then deletes the topic (`--keep` keeps it; `--topic T` reads a kept one, so a
 * `--cpu-prof` profile, through NODE_OPTIONS, shows the reads alone).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { kafkaFromConfig, loadConfig, silentLogger } from '../src';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '300000' },
      partitions: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '3' },
      client: { type: 'string' },
      keep: { type: 'boolean', default: false },
      topic: { type: 'string' },
    },
  });
  const total = Number(values.records);
  const partitions = Number(values.partitions);
  const config = loadConfig({ ...process.env, ...(values.client ? { KAFKA_CLIENT: values.client } : {}) });
  const kafka = kafkaFromConfig(config, silentLogger, 'bench-read');
  const admin = await kafka.admin();
  const topic = values.topic ?? `bench-read-${process.pid}-${Date.now()}`;
  try {
    if (!values.topic) await write(topic);
    const ranges = Array.from({ length: partitions }, (_, partition) => ({ partition, from: '0' }));
    console.log(JSON.stringify({ client: kafka.capabilities.adapter, topic, records: total, partitions, node: process.version }));
    for (let round = 1; round <= Number(values.rounds); round++) {
      let seen = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await kafka.readPartitions(topic, ranges, (records) => {
        seen += records.length;
      });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      if (seen !== total) throw new Error(`read ${seen} records, expected ${total}`);
      console.log(
        JSON.stringify({
          round,
          recordsPerSecond: Math.round(seen / seconds),
          seconds: Number(seconds.toFixed(2)),
          cpuMicrosPerRecord: Number(((cpu.user + cpu.system) / seen).toFixed(2)),
        }),
      );
    }
  } finally {
    if (!values.keep && !values.topic) await admin.deleteTopics([topic]).catch(() => {});
    await admin.close();
  }

  async function write(topic: string): Promise<void> {
    await admin.ensureTopics([{ name: topic, partitions, replicationFactor: 1 }]);
    const producer = await kafka.producer({ idempotent: true });
    const value = randomBytes(280);
    for (let sent = 0; sent < total; ) {
      const n = Math.min(5_000, total - sent);
      await producer.send(
        Array.from({ length: n }, (_, i) => ({
          topic,
          key: `customer-${sent + i}`,
          partition: (sent + i) % partitions,
          value,
          headers: { 'timer-due': String(1_700_000_000_000 + i) },
        })),
      );
      sent += n;
    }
    await producer.close();
  }
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
