// @confluentinc/kafka-javascript 1.10.1 (librdkafka), its KafkaJS-style API: eachBatch feeds the loop;
// one transactional producer; sendOffsets takes the consumer, so the commit carries its group metadata
// (KIP-447). eachBatch delivers 32 records unless js.consumer.max.batch.size is raised.
import confluent from '@confluentinc/kafka-javascript';
import { args, runLoop } from './driver.mjs';

const { Kafka, logLevel } = confluent.KafkaJS;
const a = args();
const kafka = new Kafka({ kafkaJS: { clientId: 'spike-confluent', brokers: a.brokers.split(','), logLevel: logLevel.NOTHING } });
const consumer = kafka.consumer({
  kafkaJS: { groupId: a.group, fromBeginning: true, autoCommit: false, maxBytesPerPartition: 1024 * 1024 },
  'js.consumer.max.batch.size': 2000,
  'isolation.level': 'read_committed',
});
const producer = kafka.producer({ kafkaJS: { transactionalId: a.txid, idempotent: true }, 'linger.ms': 5 });
let tx = null;
let paused = false;
let resumeWaiters = [];

await runLoop(
  'confluent',
  {
    async start(onRecords) {
      await Promise.all([consumer.connect(), producer.connect()]);
      await consumer.subscribe({ topics: [a.input] });
      await consumer.run({
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 6,
        eachBatch: async ({ batch, resolveOffset }) => {
          const records = batch.messages.map((m) => ({
            partition: batch.partition,
            offset: BigInt(m.offset),
            key: m.key,
            value: m.value,
            timestamp: Number(m.timestamp),
          }));
          await onRecords(records);
          // Advances the fetch position only (autoCommit is off): offsets commit through the transaction.
          if (batch.messages.length > 0) resolveOffset(batch.messages.at(-1).offset);
          while (paused) await new Promise((r) => resumeWaiters.push(r));
        },
      });
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      for (const r of resumeWaiters) r();
      resumeWaiters = [];
    },
    async begin() {
      tx = await producer.transaction();
    },
    async send(records) {
      await tx.send({ topic: a.output, messages: records.map((r) => ({ partition: r.partition, key: r.key, value: r.value })) });
    },
    async commit(lastByPartition) {
      const partitions = [...lastByPartition].map(([partition, r]) => ({ partition, offset: String(r.offset + 1n) }));
      await tx.sendOffsets({ consumer, topics: [{ topic: a.input, partitions }] });
      await tx.commit();
      tx = null;
    },
    async close() {
      await consumer.disconnect();
      await producer.disconnect();
    },
  },
  a,
);
