/**
 * NextAct's Kafka port. The rest of the code speaks in records, partitions and transactions;
 * kafkajs stays behind this module so a faster client can replace it in one place.
 */
import { randomUUID } from 'node:crypto';
import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  Kafka,
  type KafkaConfig,
  logLevel as KafkaLogLevel,
  Partitioners,
  type Producer,
  type SASLOptions,
  type Transaction,
} from 'kafkajs';
import { ErrorCodes, errorMessage, NextActError } from '../errors';
import type { Logger } from '../logger';
import { retry } from '../retry';

export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

/** A record as read from a topic-partition. Offsets are strings: Kafka offsets exceed 2^53. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: number;
}

/** A record to write. Without `partition` the key decides it (murmur2, as Java clients do). */
export interface OutgoingRecord {
  topic: string;
  key: string;
  value: Buffer | null;
  headers?: Record<string, string>;
  partition?: number;
  timestamp?: number;
}

export interface RecordPosition {
  topic: string;
  partition: number;
  offset: string;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  config?: Record<string, string>;
}

/** What a batch handler gets: one topic-partition's records, in offset order. */
export interface RecordBatch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  /** Offset after the last record Kafka has for this partition (the high watermark). */
  highWatermark: string;
  /**
   * Offset of the last entry this fetch covered, transaction markers and aborted records included
   * (`records` leaves those out), so offsets after the last record up to it hold no data.
   */
  lastOffset: string;
  /** False once the partition was reassigned while the batch ran: its results must not commit. */
  stillOwned(): boolean;
  heartbeat(): Promise<void>;
  /** Marks a record done for the consumer's own (non-transactional) commits. */
  markProcessed(offset: string): void;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  /**
   * true: after each batch the consumer commits what `markProcessed` marked (at-least-once readers).
   * false: offsets are committed only explicitly, through a transaction (`commitConsumed`) or
   * `commitOffsets` after the results are safe elsewhere (exactly-once pipelines).
   */
  commitMarked: boolean;
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
}

export interface RecordConsumer {
  run(handler: (batch: RecordBatch) => Promise<void>): Promise<void>;
  /** Called after each group join with this member's partitions per topic. */
  onAssignment(listener: (assignment: Record<string, number[]>) => void): void;
  commitOffsets(positions: RecordPosition[]): Promise<void>;
  pause(topic: string, partitions?: number[]): void;
  resume(topic: string, partitions?: number[]): void;
  close(): Promise<void>;
}

export interface RecordProducer {
  send(records: OutgoingRecord[]): Promise<RecordPosition[]>;
  close(): Promise<void>;
}

/** One Kafka transaction: records and consumed offsets become visible together or not at all. */
export interface RecordTransaction {
  send(records: OutgoingRecord[]): Promise<void>;
  /** `next` offsets (last processed + 1) consumed by `groupId`. */
  commitConsumed(groupId: string, next: RecordPosition[]): Promise<void>;
}

export interface TransactionalProducer {
  readonly transactionalId: string;
  /** Runs `work` in a transaction; commits if it resolves, aborts if it throws. */
  transact<T>(work: (tx: RecordTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface KafkaAdmin {
  ensureTopics(specs: TopicSpec[]): Promise<{ created: string[] }>;
  listTopics(): Promise<string[]>;
  deleteTopics(names: string[]): Promise<void>;
  /** Low and high watermarks per partition. */
  watermarks(topic: string): Promise<{ partition: number; low: string; high: string }[]>;
  /** Committed offsets of a group per partition (-1 when none). */
  groupOffsets(groupId: string, topic: string): Promise<{ partition: number; offset: string }[]>;
  close(): Promise<void>;
}

export interface PartitionRange {
  partition: number;
  /** First offset to read. */
  from: string;
}

export interface ReadResult {
  partition: number;
  /** End offset (exclusive) the read went up to: the partition's end at the start of the read. */
  until: string;
  records: number;
}

export interface KafkaClient {
  admin(): Promise<KafkaAdmin>;
  /**
   * Reads partitions from given offsets up to their end offsets as of the call (read_committed),
   * outside any consumer group's offsets: for state restores, rebuilds and replay.
   * Transaction markers occupy offsets that are never delivered, so a partition also counts as
   * read once it has been idle for `idleMs` with nothing more delivered below its end.
   */
  readPartitions(
    topic: string,
    ranges: PartitionRange[],
    onRecords: (records: ConsumedRecord[]) => Promise<void> | void,
    options?: { idleMs?: number },
  ): Promise<ReadResult[]>;
  producer(options?: { idempotent?: boolean }): Promise<RecordProducer>;
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  consumer(options: ConsumerOptions): Promise<RecordConsumer>;
}

/**
 * kafkajs puts all of a partition's records of one call into one record batch, which the broker
 * refuses above message.max.bytes (1 MiB by default). Sends are cut into chunks well below it.
 */
const MAX_CHUNK_BYTES = 512 * 1024;
const MAX_CHUNK_RECORDS = 2_000;

export function chunkRecords(records: OutgoingRecord[], maxBytes = MAX_CHUNK_BYTES, maxRecords = MAX_CHUNK_RECORDS): OutgoingRecord[][] {
  const chunks: OutgoingRecord[][] = [];
  let current: OutgoingRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    let size = Buffer.byteLength(r.key) + (r.value?.length ?? 0) + 64;
    for (const [k, v] of Object.entries(r.headers ?? {})) size += k.length + Buffer.byteLength(v);
    if (current.length > 0 && (bytes + size > maxBytes || current.length >= maxRecords)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

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
      headers: toHeaders(r.headers),
      partition: r.partition,
      timestamp: r.timestamp === undefined ? undefined : String(r.timestamp),
    })),
  }));
}

const toHeaders = (headers: Record<string, string> | undefined): IHeaders | undefined => headers;

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

/** kafkajs errors carry `retriable`; keep it so the retry module can decide. */
function wrap(err: unknown, what: string): NextActError {
  if (err instanceof NextActError) return err;
  const retriable = typeof err === 'object' && err !== null && Boolean((err as { retriable?: boolean }).retriable);
  const type = typeof err === 'object' && err !== null ? (err as { type?: string }).type : undefined;
  return new NextActError(ErrorCodes.KAFKA, `${what}: ${errorMessage(err)}`, { retriable, cause: err, details: type ? { type } : undefined });
}

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

export function createKafkaClient(connection: KafkaConnection, logger: Logger): KafkaClient {
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

  const client: KafkaClient = {
    async readPartitions(topic, ranges, onRecords, options = {}) {
      const idleMs = options.idleMs ?? 750;
      const admin = kafka.admin();
      await admin.connect();
      const ends = new Map<number, string>();
      try {
        for (const o of await admin.fetchTopicOffsets(topic)) ends.set(o.partition, o.high);
      } finally {
        await admin.disconnect();
      }
      const state = new Map<number, { until: bigint; next: bigint; records: number; lastProgress: number }>();
      for (const r of ranges) {
        const end = ends.get(r.partition);
        if (end === undefined) throw new NextActError(ErrorCodes.KAFKA, `${topic} has no partition ${r.partition}`);
        state.set(r.partition, { until: BigInt(end), next: BigInt(r.from), records: 0, lastProgress: Date.now() });
      }
      const pending = () => [...state].filter(([, s]) => s.next < s.until);
      const results = () => [...state].map(([partition, s]) => ({ partition, until: s.until.toString(), records: s.records }));
      if (pending().length === 0) return results();

      const consumer = kafka.consumer({
        groupId: `${connection.clientId}-reader-${randomUUID()}`,
        readUncommitted: false,
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: 100,
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
      });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        let failure: unknown;
        let finish!: () => void;
        const finished = new Promise<void>((resolve) => {
          finish = resolve;
        });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, heartbeat, resolveOffset, pause }) => {
            // Without autoResolve the fetch position only moves with resolveOffset: resolve every
            // batch, or the same fetch comes back forever.
            resolveOffset(batch.lastOffset());
            const s = state.get(batch.partition);
            if (!s || s.next >= s.until) {
              pause();
              return;
            }
            const records: ConsumedRecord[] = [];
            for (const m of batch.messages) {
              const offset = BigInt(m.offset);
              if (offset < s.next || offset >= s.until) continue;
              records.push({
                topic,
                partition: batch.partition,
                offset: m.offset,
                key: m.key ? m.key.toString() : null,
                value: m.value,
                headers: fromHeaders(m.headers),
                timestamp: Number(m.timestamp),
              });
            }
            try {
              if (records.length > 0) await onRecords(records);
            } catch (err) {
              failure = err;
              finish();
              return;
            }
            s.records += records.length;
            const last = BigInt(batch.lastOffset());
            if (last + 1n > s.next) s.next = last + 1n;
            s.lastProgress = Date.now();
            await heartbeat();
            if (pending().length === 0) finish();
          },
        });
        for (const [partition, s] of state) consumer.seek({ topic, partition, offset: s.next.toString() });
        const idle = setInterval(
          () => {
            const now = Date.now();
            for (const [, s] of state) if (s.next < s.until && now - s.lastProgress > idleMs) s.next = s.until;
            if (pending().length === 0) finish();
          },
          Math.max(50, Math.floor(idleMs / 3)),
        );
        try {
          await finished;
        } finally {
          clearInterval(idle);
        }
        if (failure) throw failure;
      } finally {
        await consumer.disconnect();
      }
      return results();
    },

    async admin() {
      const admin: Admin = kafka.admin();
      await admin.connect().catch((e) => {
        throw wrap(e, 'admin connect');
      });
      return {
        async ensureTopics(specs) {
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
              if (missing.some((s) => !again.has(s.name))) throw wrap(e, 'create topics');
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
        },
        listTopics: () => admin.listTopics(),
        async deleteTopics(names) {
          if (names.length > 0) await admin.deleteTopics({ topics: names });
        },
        async watermarks(topic) {
          const offsets = await admin.fetchTopicOffsets(topic);
          return offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })).sort((a, b) => a.partition - b.partition);
        },
        async groupOffsets(groupId, topic) {
          const res = await admin.fetchOffsets({ groupId, topics: [topic] });
          return (res[0]?.partitions ?? []).map((p) => ({ partition: p.partition, offset: p.offset })).sort((a, b) => a.partition - b.partition);
        },
        close: () => admin.disconnect(),
      };
    },

    async producer(options = {}) {
      const idempotent = options.idempotent ?? true;
      // Idempotence needs one in-flight request per connection in kafkajs.
      const producer: Producer = kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent,
        maxInFlightRequests: idempotent ? 1 : 5,
        allowAutoTopicCreation: false,
      });
      await producer.connect().catch((e) => {
        throw wrap(e, 'producer connect');
      });
      let queue: Promise<void> = Promise.resolve();
      return {
        async send(records) {
          if (records.length === 0) return [];
          // kafkajs lets concurrent sends race for the broker and reorders them; one customer's
          // events must keep their order, so sends on one producer run one after another.
          const turn = queue.then(() => sendInOrder(records));
          queue = turn.then(
            () => undefined,
            () => undefined,
          );
          return turn;
        },
        close: () => producer.disconnect(),
      };
      async function sendInOrder(records: OutgoingRecord[]): Promise<RecordPosition[]> {
        try {
          const positions: RecordPosition[] = [];
          for (const chunk of chunkRecords(records)) {
            const res = await producer.sendBatch({ acks: -1, topicMessages: topicMessages(chunk) });
            for (const m of res) positions.push({ topic: m.topicName, partition: m.partition, offset: m.baseOffset ?? m.offset ?? '-1' });
          }
          return positions;
        } catch (e) {
          throw wrap(e, 'produce');
        }
      }
    },

    async transactionalProducer(transactionalId) {
      const producer: Producer = kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        transactionTimeout: 60_000,
      });
      // connect() runs InitProducerId, which bumps the epoch and fences any zombie with this id.
      await producer.connect().catch((e) => {
        throw wrap(e, `transactional producer ${transactionalId} connect`);
      });
      return {
        transactionalId,
        async transact(work) {
          let tx: Transaction;
          try {
            tx = await producer.transaction();
          } catch (e) {
            throw wrap(e, 'begin transaction');
          }
          try {
            const result = await work({
              async send(records) {
                for (const chunk of chunkRecords(records)) await tx.sendBatch({ acks: -1, topicMessages: topicMessages(chunk) });
              },
              async commitConsumed(groupId, next) {
                const topics = new Map<string, { partition: number; offset: string }[]>();
                for (const p of next) {
                  const list = topics.get(p.topic) ?? [];
                  list.push({ partition: p.partition, offset: p.offset });
                  topics.set(p.topic, list);
                }
                // kafkajs does not retry CONCURRENT_TRANSACTIONS here (kafkajs#430).
                await retry(
                  () =>
                    tx.sendOffsets({
                      consumerGroupId: groupId,
                      topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
                    }),
                  {
                    retries: 8,
                    initialDelayMs: 50,
                    maxDelayMs: 2_000,
                    shouldRetry: (err) => /CONCURRENT_TRANSACTIONS|concurrent/i.test(String((err as { type?: string }).type ?? errorMessage(err))),
                  },
                );
              },
            });
            await tx.commit();
            return result;
          } catch (e) {
            await tx.abort().catch((abortErr) => logger.warn('transaction abort failed', { err: abortErr, transactionalId }));
            throw wrap(e, `transaction ${transactionalId}`);
          }
        },
        close: () => producer.disconnect(),
      };
    },

    async consumer(options) {
      const consumer: Consumer = kafka.consumer({
        groupId: options.groupId,
        sessionTimeout: options.sessionTimeoutMs ?? 10_000,
        heartbeatInterval: 1_000,
        readUncommitted: false,
        allowAutoTopicCreation: false,
        maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
      });
      const listeners: ((assignment: Record<string, number[]>) => void)[] = [];
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const assignment = event.payload.memberAssignment as Record<string, number[]>;
        for (const l of listeners) l(assignment);
      });
      await consumer.connect().catch((e) => {
        throw wrap(e, 'consumer connect');
      });
      await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true });
      return {
        onAssignment(listener) {
          listeners.push(listener);
        },
        async run(handler) {
          await consumer.run({
            autoCommit: options.commitMarked,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
            eachBatch: async (payload: EachBatchPayload) => {
              const { batch } = payload;
              await handler({
                topic: batch.topic,
                partition: batch.partition,
                highWatermark: batch.highWatermark,
                lastOffset: batch.lastOffset(),
                records: batch.messages.map((m) => ({
                  topic: batch.topic,
                  partition: batch.partition,
                  offset: m.offset,
                  key: m.key ? m.key.toString() : null,
                  value: m.value,
                  headers: fromHeaders(m.headers),
                  timestamp: Number(m.timestamp),
                })),
                stillOwned: () => payload.isRunning() && !payload.isStale(),
                heartbeat: () => payload.heartbeat(),
                markProcessed: (offset) => payload.resolveOffset(offset),
              });
            },
          });
        },
        async commitOffsets(positions) {
          await consumer.commitOffsets(positions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset })));
        },
        pause: (topic, partitions) => consumer.pause([{ topic, partitions }]),
        resume: (topic, partitions) => consumer.resume([{ topic, partitions }]),
        close: () => consumer.disconnect(),
      };
    },
  };
  return client;
}

/** Kafka offsets as bigint arithmetic, since positions (not counts) are what can be compared. */
export const nextOffset = (offset: string): string => (BigInt(offset) + 1n).toString();
