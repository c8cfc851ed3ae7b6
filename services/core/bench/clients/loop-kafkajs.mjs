// kafkajs 2.2.4: eachBatch feeds the loop; one transactional producer; sendOffsets carries only the
// group id (TxnOffsetCommit v0/v1: no KIP-447 generation check).
import kafkajs from 'kafkajs';
import { args, runLoop } from './driver.mjs';

const { Kafka, logLevel } = kafkajs;
const a = args();
const kafka = new Kafka({ clientId: 'spike-kafkajs', brokers: a.brokers.split(','), logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId: a.group, maxBytesPerPartition: 1024 * 1024, maxWaitTimeInMs: 500 });
const producer = kafka.producer({ transactionalId: a.txid, idempotent: true, maxInFlightRequests: 1 });
let tx = null;
let paused = false;
let resumeWaiters = [];

await runLoop(
  'kafkajs',
  {
    async start(onRecords) {
      await Promise.all([consumer.connect(), producer.connect()]);
      await consumer.subscribe({ topic: a.input, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
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
      // kafkajs puts one call's records for a partition into one batch, which the broker refuses above
      // message.max.bytes (1 MiB): send in chunks, as the project's client.ts does.
      for (let i = 0; i < records.length; i += 2000) {
        const messages = records.slice(i, i + 2000).map((r) => ({ partition: r.partition, key: r.key, value: r.value }));
        await tx.send({ topic: a.output, messages });
      }
    },
    async commit(lastByPartition) {
      const partitions = [...lastByPartition].map(([partition, r]) => ({ partition, offset: String(r.offset + 1n) }));
      await tx.sendOffsets({ consumerGroupId: a.group, topics: [{ topic: a.input, partitions }] });
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
