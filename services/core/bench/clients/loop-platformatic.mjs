// @platformatic/kafka 2.12.1 (pure JS, ESM): a MessagesStream feeds the loop; one transactional producer;
// addOffset sends TxnOffsetCommit with the consumer's generation and member id (KIP-447).
// addOffset is one request per call and concurrent calls are deduplicated by the client (one in-flight
// 'commit' operation), so the partitions' offsets are added one after another.
import { Consumer, FetchIsolationLevels, findErrorBy, Producer } from '@platformatic/kafka';
import { args, runLoop } from './driver.mjs';

const a = args();
const bootstrapBrokers = a.brokers.split(',');
const consumer = new Consumer({ clientId: 'spike-platformatic', groupId: a.group, bootstrapBrokers, maxWaitTime: 500 });
// The broker answers CONCURRENT_TRANSACTIONS while the previous commit's markers are written; the
// client's default retry delay (250 ms) would then stall every commit cycle, so that one retries fast
// (as Java's producer does). RETRY_DELAY=default measures the client untuned.
const retryDelay =
  process.env.RETRY_DELAY === 'default'
    ? undefined
    : (_client, _operation, attempt, _retries, error) => (findErrorBy(error, 'apiId', 'CONCURRENT_TRANSACTIONS') ? Math.min(10 * attempt, 100) : 250);
const producer = new Producer({ clientId: 'spike-platformatic', bootstrapBrokers, idempotent: true, transactionalId: a.txid, retries: 20, retryDelay });
let stream = null;
let tx = null;

await runLoop(
  'platformatic',
  {
    async start(onRecords) {
      stream = await consumer.consume({
        topics: [a.input],
        mode: 'committed',
        fallbackMode: 'earliest',
        autocommit: false,
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
        maxBytesPerPartition: 1024 * 1024,
      });
      // The stream emits one message at a time; the loop takes them in batches of what arrived together.
      let pending = [];
      let scheduled = false;
      const flush = () => {
        scheduled = false;
        const batch = pending;
        pending = [];
        onRecords(batch);
      };
      stream.on('data', (m) => {
        pending.push({ partition: m.partition, offset: m.offset, key: m.key ?? null, value: m.value, timestamp: Number(m.timestamp), raw: m });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
      stream.on('error', (e) => {
        console.error(e);
        process.exit(1);
      });
    },
    pause() {
      stream.pause();
    },
    resume() {
      stream.resume();
    },
    async begin() {
      tx = await producer.beginTransaction();
    },
    async send(records) {
      await tx.send({ messages: records.map((r) => ({ topic: a.output, partition: r.partition, key: r.key ?? undefined, value: r.value })) });
    },
    async commit(lastByPartition) {
      await tx.addConsumer(consumer);
      for (const r of lastByPartition.values()) await tx.addOffset(r.raw);
      await tx.commit();
      tx = null;
    },
    async close() {
      await stream.close();
      await consumer.close(true);
      await producer.close(true);
    },
  },
  a,
);
