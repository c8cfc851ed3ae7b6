/**
 * The kafkajs adapter of the Kafka port; the only place kafkajs is imported.
 *
 * What kafkajs lacks, and how the adapter says so:
 * - no KIP-447: TxnOffsetCommit carries only the group id (`kip447: false`), so exactly-once needs
 *   one transactional id per input partition for fencing;
 * - no rebalance listener: the listener is driven from GROUP_JOIN (each join carries the member's
 *   assignment), so revocation is learnt after the rejoin (`revokeBeforeReassign: false`), and the
 *   protocol is eager round-robin (`cooperativeRebalance: false`);
 * - no groupless fetch: `readPartitions` sends Fetch requests itself on kafkajs' cluster layer.
 */
import { createRequire } from 'node:module';
import {
  type Admin,
  AssignerProtocol,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  Kafka,
  type KafkaConfig,
  logLevel as KafkaLogLevel,
  type Message,
  Partitioners,
  type Producer,
  type SASLOptions,
  type Transaction,
} from 'kafkajs';
import { ErrorCodes, NextActError } from '../../errors';
import type { Logger } from '../../logger';
import { retry } from '../../retry';
import { chunkRecords, serialised } from '../chunks';
import { OPEN_TRANSACTION_WAIT_MS, openTransactionError } from '../open-transaction';
import type {
  Assignment,
  ConsumedRecord,
  ConsumerOptions,
  GroupMetadata,
  KafkaAdmin,
  KafkaCapabilities,
  KafkaClient,
  KafkaConnection,
  OutgoingRecord,
  PartitionRange,
  ReadResult,
  RecordConsumer,
  RecordPosition,
  RecordProducer,
  RecordTransaction,
  TopicPartition,
  TransactionalProducer,
} from '../port';
import { portError } from './errors';

export const KAFKAJS_CAPABILITIES: KafkaCapabilities = Object.freeze({
  adapter: 'kafkajs',
  kip447: false,
  cooperativeRebalance: false,
  revokeBeforeReassign: false,
});

function topicMessages(records: OutgoingRecord[]) {
  const byTopic = new Map<string, OutgoingRecord[]>();
  for (const r of records) {
    const list = byTopic.get(r.topic) ?? [];
    list.push(r);
    byTopic.set(r.topic, list);
  }
  return [...byTopic].map(([topic, rs]) => ({
    topic,
    messages: rs.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers as IHeaders | undefined,
      partition: r.partition,
      timestamp: r.timestamp === undefined ? undefined : String(r.timestamp),
    })),
  }));
}

function fromHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}

const toRecord = (topic: string, partition: number, m: Pick<Message, 'key' | 'value' | 'headers'> & { offset: string; timestamp: string }): ConsumedRecord => ({
  topic,
  partition,
  offset: m.offset,
  key: m.key ? m.key.toString() : null,
  value: (m.value as Buffer | null) ?? null,
  headers: fromHeaders(m.headers),
  timestamp: Number(m.timestamp),
});

function kafkaLogger(logger: Logger) {
  return () =>
    ({ level, log }: { level: number; log: { message: string } & Record<string, unknown> }) => {
      const { message, timestamp: _t, logger: _l, ...rest } = log;
      const fields = { component: 'kafkajs', ...rest };
      if (level === KafkaLogLevel.ERROR) logger.error(message, fields);
      else if (level === KafkaLogLevel.WARN) logger.warn(message, fields);
      else if (level === KafkaLogLevel.INFO) logger.debug(message, fields);
    };
}

/** kafkajs internals used by the groupless read: the cluster layer (Metadata, Fetch) and its batch filter. */
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  findBroker(args: { nodeId: string }): Promise<{
    fetch(request: {
      isolationLevel: number;
      maxWaitTime: number;
      minBytes: number;
      maxBytes: number;
      topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
    }): Promise<{ responses: { topicName: string; partitions: KafkajsPartitionData[] }[] }>;
  }>;
}
interface KafkajsPartitionData {
  partition: number;
  highWatermark: string;
  lastStableOffset: string;
  messages: { offset: string }[];
}
interface KafkajsBatch {
  messages: (Message & { offset: string; timestamp: string })[];
  messagesWithinOffset: { offset: string }[];
}
const internal = createRequire(require.resolve('kafkajs'));
const READ_COMMITTED = 1;
const READ_UNCOMMITTED = 0;

function createCluster(kafka: Kafka, isolationLevel = READ_COMMITTED): KafkajsCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!symbol) throw new NextActError(ErrorCodes.KAFKA, 'this kafkajs version has no cluster layer to read partitions without a group');
  const create = (kafka as unknown as Record<symbol, (o: object) => KafkajsCluster>)[symbol]!;
  return create({ allowAutoTopicCreation: false, isolationLevel });
}

export function createKafkajsClient(connection: KafkaConnection, logger: Logger): KafkaClient {
  const config: KafkaConfig = {
    clientId: connection.clientId,
    brokers: connection.brokers,
    ssl: connection.ssl ?? false,
    sasl: connection.sasl as SASLOptions | undefined,
    logLevel: KafkaLogLevel.INFO,
    logCreator: kafkaLogger(logger),
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
  };
  const kafka = new Kafka(config);
  const Batch = internal('./src/consumer/batch') as new (topic: string, fetchedOffset: string, data: KafkajsPartitionData) => KafkajsBatch;

  return {
    capabilities: KAFKAJS_CAPABILITIES,

    async readPartitions(topic: string, ranges: PartitionRange[], onRecords, options = {}): Promise<ReadResult[]> {
      const waitMs = options.openTransactionWaitMs ?? OPEN_TRANSACTION_WAIT_MS;
      if (ranges.length === 0) return [];
      const cluster = createCluster(kafka);
      try {
        await cluster.connect();
        await cluster.addTargetTopic(topic);
        // The end is the high watermark, not the last stable offset (what kafkajs' admin answers): a
        // range covers everything written before the call, and an open transaction below it is waited for.
        const uncommitted = createCluster(kafka, READ_UNCOMMITTED);
        let ends: Map<number, string>;
        try {
          await uncommitted.connect();
          await uncommitted.addTargetTopic(topic);
          const partitions = uncommitted.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
          const [offsets] = await uncommitted.fetchTopicsOffset([{ topic, fromBeginning: false, partitions }]);
          ends = new Map((offsets?.partitions ?? []).map((o) => [o.partition, o.offset]));
        } finally {
          await uncommitted.disconnect().catch(() => {});
        }
        const state = ranges.map((r) => {
          const end = ends.get(r.partition);
          if (end === undefined) throw new NextActError(ErrorCodes.KAFKA_UNKNOWN_TOPIC, `${topic} has no partition ${r.partition}`);
          return { partition: r.partition, next: BigInt(r.from), until: BigInt(r.until ?? end), records: 0, lastProgress: Date.now() };
        });
        for (;;) {
          const pending = state.filter((s) => s.next < s.until);
          if (pending.length === 0) break;
          const leaders = cluster.findLeaderForPartitions(
            topic,
            pending.map((s) => s.partition),
          );
          let progressed = false;
          for (const [nodeId, partitions] of Object.entries(leaders)) {
            const broker = await cluster.findBroker({ nodeId });
            const response = await broker.fetch({
              isolationLevel: READ_COMMITTED,
              maxWaitTime: 100,
              minBytes: 1,
              maxBytes: 10_485_760,
              topics: [
                {
                  topic,
                  partitions: partitions.map((p) => ({
                    partition: p,
                    fetchOffset: state.find((s) => s.partition === p)!.next.toString(),
                    maxBytes: 1_048_576,
                  })),
                },
              ],
            });
            for (const data of response.responses.flatMap((r) => r.partitions)) {
              const s = state.find((x) => x.partition === data.partition)!;
              const batch = new Batch(topic, s.next.toString(), data);
              const records = batch.messages.filter((m) => BigInt(m.offset) < s.until).map((m) => toRecord(topic, s.partition, m));
              const covered = batch.messagesWithinOffset.at(-1);
              if (records.length > 0) await onRecords(records);
              s.records += records.length;
              if (covered) {
                const after = BigInt(covered.offset) + 1n;
                s.next = after < s.until ? after : s.until;
                s.lastProgress = Date.now();
                progressed = true;
              } else if (BigInt(data.lastStableOffset) >= s.until && BigInt(data.highWatermark) >= s.until && s.next >= BigInt(data.lastStableOffset)) {
                s.next = s.until;
              } else if (Date.now() - s.lastProgress > waitMs) {
                throw openTransactionError(topic, s.partition, String(data.lastStableOffset), String(s.until), waitMs);
              }
            }
          }
          if (!progressed) await new Promise((r) => setTimeout(r, 20));
        }
        return state.map((s) => ({ partition: s.partition, until: s.until.toString(), records: s.records }));
      } catch (err) {
        throw portError(err, `read ${topic}`);
      } finally {
        await cluster.disconnect().catch(() => {});
      }
    },

    async admin(): Promise<KafkaAdmin> {
      const admin: Admin = kafka.admin();
      await admin.connect().catch((e) => {
        throw portError(e, 'admin connect');
      });
      const call = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
        try {
          return await work();
        } catch (e) {
          throw portError(e, what);
        }
      };
      return {
        async ensureTopics(specs) {
          return call('ensure topics', async () => {
            const existing = new Set(await admin.listTopics());
            const missing = specs.filter((s) => !existing.has(s.name));
            if (missing.length > 0) {
              try {
                await admin.createTopics({
                  waitForLeaders: true,
                  topics: missing.map((s) => ({
                    topic: s.name,
                    numPartitions: s.partitions,
                    replicationFactor: s.replicationFactor,
                    configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
                  })),
                });
              } catch (e) {
                // Another instance may have created them concurrently; that is success.
                const again = new Set(await admin.listTopics());
                if (missing.some((s) => !again.has(s.name))) throw e;
              }
            }
            const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
            for (const spec of specs) {
              const found = metadata.topics.find((t) => t.name === spec.name);
              if (found && found.partitions.length !== spec.partitions) {
                throw new NextActError(
                  ErrorCodes.KAFKA,
                  `topic ${spec.name} has ${found.partitions.length} partitions but ${spec.partitions} are required (co-partitioning); recreate it or set NEXTACT_PARTITIONS=${found.partitions.length}`,
                );
              }
            }
            return { created: missing.map((s) => s.name) };
          });
        },
        listTopics: () => call('list topics', () => admin.listTopics()),
        async deleteTopics(names) {
          if (names.length > 0) await call('delete topics', () => admin.deleteTopics({ topics: names }));
        },
        async partitionCount(topic) {
          return call(`describe ${topic}`, async () => {
            // fetchTopicMetadata would retry an unknown topic for a minute; the topic list answers at once.
            if (!(await admin.listTopics()).includes(topic)) throw new NextActError(ErrorCodes.KAFKA_UNKNOWN_TOPIC, `unknown topic ${topic}`);
            const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
            return metadata.topics[0]!.partitions.length;
          });
        },
        async watermarks(topic) {
          const offsets = await call(`watermarks of ${topic}`, () => admin.fetchTopicOffsets(topic));
          return offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })).sort((a, b) => a.partition - b.partition);
        },
        async groupOffsets(groupId, topic) {
          const res = await call(`offsets of ${groupId}`, () => admin.fetchOffsets({ groupId, topics: [topic] }));
          return (res[0]?.partitions ?? []).map((p) => ({ partition: p.partition, offset: p.offset })).sort((a, b) => a.partition - b.partition);
        },
        async setGroupOffsets(groupId, positions) {
          const byTopic = new Map<string, RecordPosition[]>();
          for (const p of positions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
          for (const [topic, ps] of byTopic) {
            await call(`set offsets of ${groupId}`, () =>
              admin.setOffsets({ groupId, topic, partitions: ps.map((p) => ({ partition: p.partition, offset: p.offset })) }),
            );
          }
        },
        async listGroups() {
          const res = await call('list groups', () => admin.listGroups());
          return res.groups.map((g) => g.groupId);
        },
        async describeGroup(groupId) {
          const res = await call(`describe ${groupId}`, () => admin.describeGroups([groupId]));
          const g = res.groups[0];
          if (!g) return { groupId, state: 'Dead', members: [] };
          return {
            groupId,
            state: g.state,
            members: g.members.map((m) => {
              const decoded = m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
              return { memberId: m.memberId, clientId: m.clientId, assignment: (decoded?.assignment ?? {}) as Assignment };
            }),
          };
        },
        async deleteGroups(groupIds) {
          if (groupIds.length > 0) await call('delete groups', () => admin.deleteGroups(groupIds));
        },
        close: () => admin.disconnect(),
      };
    },

    async producer(options = {}): Promise<RecordProducer> {
      const idempotent = options.idempotent ?? true;
      // Idempotence needs one in-flight request per connection in kafkajs.
      const producer: Producer = kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent,
        maxInFlightRequests: idempotent ? 1 : 5,
        allowAutoTopicCreation: false,
      });
      await producer.connect().catch((e) => {
        throw portError(e, 'producer connect');
      });
      const send = serialised(async (records: OutgoingRecord[]): Promise<RecordPosition[]> => {
        if (records.length === 0) return [];
        try {
          const positions: RecordPosition[] = [];
          for (const chunk of chunkRecords(records)) {
            const res = await producer.sendBatch({ acks: -1, topicMessages: topicMessages(chunk) });
            for (const m of res) positions.push({ topic: m.topicName, partition: m.partition, offset: m.baseOffset ?? m.offset ?? '-1' });
          }
          return positions;
        } catch (e) {
          throw portError(e, 'produce');
        }
      });
      return { send, close: () => producer.disconnect() };
    },

    async transactionalProducer(transactionalId, options = {}): Promise<TransactionalProducer> {
      const producer: Producer = kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        transactionTimeout: options.transactionTimeoutMs ?? 60_000,
      });
      // The port promises that an older producer with this id is fenced once this one exists. kafkajs'
      // connect() only gets a non-transactional producer id; the transactional InitProducerId (which
      // bumps the epoch and aborts the zombie's open transaction) runs on the first transaction(), so
      // one empty transaction is begun and ended here (kafkajs sends no EndTxn for an empty one).
      try {
        await producer.connect();
        const fence = await producer.transaction();
        await fence.abort();
      } catch (e) {
        await producer.disconnect().catch(() => {});
        throw portError(e, `transactional producer ${transactionalId} init`);
      }
      // Once fenced, kafkajs' transaction state machine is stuck mid-commit; say "fenced" again, not that.
      let fenced: NextActError | undefined;
      const remember = (e: unknown): never => {
        if (e instanceof NextActError && e.code === ErrorCodes.KAFKA_FENCED) fenced = e;
        throw e;
      };
      const transact = serialised(async <T>(work: (tx: RecordTransaction) => Promise<T>): Promise<T> => {
        if (fenced) throw new NextActError(ErrorCodes.KAFKA_FENCED, `producer ${transactionalId} was fenced: ${fenced.message}`, { cause: fenced });
        let tx: Transaction;
        try {
          tx = await producer.transaction();
        } catch (e) {
          throw portError(e, `begin transaction ${transactionalId}`);
        }
        try {
          const result = await work({
            async send(records) {
              try {
                for (const chunk of chunkRecords(records)) await tx.sendBatch({ acks: -1, topicMessages: topicMessages(chunk) });
              } catch (e) {
                throw portError(e, `transactional send ${transactionalId}`);
              }
            },
            async commitConsumed(group: GroupMetadata, next) {
              const topics = new Map<string, { partition: number; offset: string }[]>();
              for (const p of next) topics.set(p.topic, [...(topics.get(p.topic) ?? []), { partition: p.partition, offset: p.offset }]);
              // kafkajs sends only the group id (no KIP-447) and does not retry CONCURRENT_TRANSACTIONS here (kafkajs#430).
              await retry(
                async () => {
                  try {
                    await tx.sendOffsets({ consumerGroupId: group.groupId, topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) });
                  } catch (e) {
                    throw portError(e, `transactional offset commit ${transactionalId}`);
                  }
                },
                {
                  retries: 8,
                  initialDelayMs: 50,
                  maxDelayMs: 2_000,
                  shouldRetry: (err) => (err as NextActError).code === ErrorCodes.KAFKA_CONCURRENT_TRANSACTIONS,
                },
              );
            },
          });
          try {
            await tx.commit();
          } catch (e) {
            throw portError(e, `commit ${transactionalId}`);
          }
          return result;
        } catch (e) {
          if (tx.isActive()) await tx.abort().catch((abortErr) => logger.debug('transaction abort failed', { err: abortErr, transactionalId }));
          return remember(e); // kafkajs failures were mapped where they happened; the work's own errors pass through
        }
      });
      return { transactionalId, transact, close: () => producer.disconnect() };
    },

    async consumer(options: ConsumerOptions): Promise<RecordConsumer> {
      const consumer: Consumer = kafka.consumer({
        groupId: options.groupId,
        sessionTimeout: options.sessionTimeoutMs ?? 10_000,
        heartbeatInterval: 1_000,
        readUncommitted: false,
        allowAutoTopicCreation: false,
        maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
      });
      let assignment: Assignment = {};
      let memberId = '';
      let running = false;
      // Listener calls run in order, and batches wait for them: a partition's records never reach the
      // handler before its `assigned` (nor after its `revoked`) has completed.
      let listening: Promise<void> = Promise.resolve();
      const listener = options.rebalance;
      const callListener = (which: 'assigned' | 'revoked', partitions: TopicPartition[], now: Assignment) => {
        const fn = listener?.[which];
        if (!fn) return;
        listening = listening.then(async () => {
          try {
            await fn(partitions, now);
          } catch (err) {
            logger.error('rebalance listener failed', { which, err });
          }
        });
      };
      const flatten = (a: Assignment): TopicPartition[] => Object.entries(a).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
      const owns = (topic: string, partition: number) => assignment[topic]?.includes(partition) ?? false;
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const next = Object.fromEntries(
          Object.entries(event.payload.memberAssignment as Assignment).map(([t, ps]) => [t, [...ps].sort((a, b) => a - b)]),
        ) as Assignment;
        const revoked = flatten(assignment).filter((tp) => !next[tp.topic]?.includes(tp.partition));
        assignment = next;
        memberId = event.payload.memberId;
        if (revoked.length > 0) callListener('revoked', revoked, next);
        // Eager protocol: after every join kafkajs starts every partition again from the committed offsets.
        callListener('assigned', flatten(next), next);
      });
      await consumer.connect().catch((e) => {
        throw portError(e, 'consumer connect');
      });
      await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true }).catch((e) => {
        throw portError(e, 'subscribe');
      });
      return {
        async run(handler) {
          running = true;
          await consumer.run({
            autoCommit: options.commitMarked,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
            eachBatch: async (payload: EachBatchPayload) => {
              const { batch } = payload;
              await listening;
              if (!owns(batch.topic, batch.partition)) return;
              await handler({
                topic: batch.topic,
                partition: batch.partition,
                highWatermark: batch.highWatermark,
                lastOffset: batch.lastOffset(),
                records: batch.messages.map((m) => toRecord(batch.topic, batch.partition, m)),
                stillOwned: () => running && payload.isRunning() && !payload.isStale() && owns(batch.topic, batch.partition),
                heartbeat: async () => {
                  try {
                    await payload.heartbeat();
                  } catch (e) {
                    throw portError(e, 'heartbeat');
                  }
                },
                markProcessed: (offset) => payload.resolveOffset(offset),
              });
            },
          });
          await listening;
        },
        assignment: () => assignment,
        groupMetadata: () => ({ groupId: options.groupId, generationId: -1, memberId }),
        async commitOffsets(positions) {
          try {
            await consumer.commitOffsets(positions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset })));
          } catch (e) {
            throw portError(e, `commit offsets of ${options.groupId}`);
          }
        },
        pause: (topic, partitions) => consumer.pause([{ topic, partitions }]),
        resume: (topic, partitions) => consumer.resume([{ topic, partitions }]),
        seek: (p) => consumer.seek({ topic: p.topic, partition: p.partition, offset: p.offset }),
        async close() {
          running = false;
          await consumer.disconnect();
          const all = flatten(assignment);
          assignment = {};
          if (all.length > 0) callListener('revoked', all, {});
          await listening;
        },
      };
    },
  };
}
