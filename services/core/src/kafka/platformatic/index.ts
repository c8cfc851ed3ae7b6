/**
 * The @platformatic/kafka adapter of the Kafka port; the only place that client is imported.
 *
 * How it maps the port:
 * - KIP-447: a transactional offset commit sends the consumer's generation and member id
 *   (TxnOffsetCommit v3+), so a member rebalanced away is refused (`kip447: true`);
 * - the consumer is the client's group membership (join, sync, heartbeats, rejoin on rebalance)
 *   plus a fetch loop of the adapter's own over the client's Fetch: positions, per-partition
 *   pause, seek and one-partition batches are the port's, not a stream's;
 * - the classic protocol with round-robin, eager: after each join every partition starts again
 *   from the group's committed offsets, and revocation is learnt at the join
 *   (`revokeBeforeReassign: false`, `cooperativeRebalance: false`);
 * - `readPartitions` fetches with a consumer that never joins a group.
 *
 * The client is ESM-only: Node 22+ loads it with require(); jest transforms it (jest.config.js).
 */
import {
  Admin,
  Consumer,
  FetchIsolationLevels,
  FindCoordinatorKeyTypes,
  type GroupAssignment,
  ListOffsetTimestamps,
  Producer,
  type SASLOptions,
} from '@platformatic/kafka';
import { ErrorCodes, NextActError } from '../../errors';
import type { Logger } from '../../logger';
import { retry } from '../../retry';
import { chunkRecords, serialised } from '../chunks';
import { OPEN_TRANSACTION_WAIT_MS, openTransactionError } from '../open-transaction';
import { partitionForKey } from '../partitioner';
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
import { hasApiId, portError } from './errors';

export const PLATFORMATIC_CAPABILITIES: KafkaCapabilities = Object.freeze({
  adapter: 'platformatic',
  kip447: true,
  cooperativeRebalance: false,
  revokeBeforeReassign: false,
});

const READ_COMMITTED = FetchIsolationLevels.READ_COMMITTED;
/** Broker wait per fetch: short, because heartbeats share the connection and a fetch holds it. */
const FETCH_WAIT_MS = 200;
const FETCH_MAX_BYTES = 10 * 1024 * 1024;

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const flatten = (a: Assignment): TopicPartition[] => Object.entries(a).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));

function toAssignment(assignments: GroupAssignment[] | Map<string, GroupAssignment> | null | undefined): Assignment {
  const out: Assignment = {};
  for (const a of assignments?.values() ?? []) out[a.topic] = [...a.partitions].sort((x, y) => x - y);
  return out;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

function headersOf(entries: [Buffer, Buffer][] | Map<Buffer, Buffer> | undefined): Record<string, string> {
  // Most records carry none or one: a shared frozen empty object saves an allocation per record.
  if (entries === undefined || (Array.isArray(entries) ? entries.length === 0 : entries.size === 0)) return NO_HEADERS as Record<string, string>;
  const out: Record<string, string> = {};
  for (const [k, v] of entries) out[k.toString()] = v.toString();
  return out;
}

/** One fetched partition: its records (markers and aborted data left out) and how far the fetch covered. */
interface FetchedPartition {
  records: ConsumedRecord[];
  /** Offset after the last log entry this fetch returned (markers included), or null when it returned none. */
  next: bigint | null;
  highWatermark: bigint;
  lastStableOffset: bigint;
}

const IS_TRANSACTIONAL = 0x10;
const IS_CONTROL = 0x20;
type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;
type ProduceResult = { offsets?: { topic: string; partition: number; offset: bigint }[] };

/**
 * read_committed: the broker returns aborted transactions' records too, with the list of aborted
 * transactions (producer id, first offset) that overlap the fetched range; the client must leave
 * them out. This is Kafka's own client rule: from its first offset on, a listed producer's
 * transactional batches are aborted until that producer's abort marker. The marker may lie beyond
 * this response (a transaction larger than one fetch), and then every batch of that producer here is
 * aborted. (@platformatic/kafka's own filter keeps such batches "for safety": a 3,000-record
 * aborted transaction came back as 2,000 records.)
 */
function abortedBatchFilter(data: FetchResponse['responses'][number]['partitions'][number]): (batch: NonNullable<typeof data.records>[number]) => boolean {
  const pending = [...((data as { abortedTransactions?: { producerId: bigint; firstOffset: bigint }[] | null }).abortedTransactions ?? [])].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  );
  const aborting = new Set<bigint>();
  return (batch) => {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    while (pending.length > 0 && pending[0]!.firstOffset <= last) aborting.add(pending.shift()!.producerId);
    if (batch.attributes & IS_CONTROL) {
      // Control record key: version (int16), type (int16: 0 abort, 1 commit).
      const type = batch.records[0]?.key?.length === 4 ? batch.records[0].key.readInt16BE(2) : -1;
      if (type === 0) aborting.delete(batch.producerId);
      return true;
    }
    return (batch.attributes & IS_TRANSACTIONAL) !== 0 && aborting.has(batch.producerId);
  };
}

const MAX_SAFE_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

type Callback<T> = (error: Error | null, value: T) => void;
type TxnOffsetCommitApi = (connection: unknown, ...args: unknown[]) => void;
interface ClientInternals {
  getApi(name: string, callback: Callback<TxnOffsetCommitApi>): void;
  getConnection(broker: unknown, callback: Callback<unknown>): void;
}

/**
 * The client's own pooled connections and negotiated API versions, by the symbols its base class
 * defines (pinned client version; the conformance and exactly-once tests cover the path). Needed
 * because its transaction sends one TxnOffsetCommit per partition, one round trip after another:
 * at 6 partitions that was most of a commit's time, and it grows with the partition count.
 */
function internalsOf(client: Producer): ClientInternals {
  const symbols = new Map<string, symbol>();
  for (let proto = Object.getPrototypeOf(client); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto))
    for (const sym of Object.getOwnPropertySymbols(proto)) if (sym.description && !symbols.has(sym.description)) symbols.set(sym.description, sym);
  const method = (description: string) => {
    const sym = symbols.get(description);
    const fn = sym && (client as unknown as Record<symbol, unknown>)[sym];
    if (typeof fn !== 'function') throw new Error(`@platformatic/kafka has no ${description} (client version changed?)`);
    return (fn as (...args: unknown[]) => void).bind(client);
  };
  return {
    getApi: method('plt.kafka.base.getApi') as ClientInternals['getApi'],
    getConnection: method('plt.kafka.base.getConnection') as ClientInternals['getConnection'],
  };
}

const call = <T>(work: (callback: Callback<T>) => void) =>
  new Promise<T>((resolve, reject) => work((error, value) => (error ? reject(error) : resolve(value))));

function decodeFetch(topic: string, data: FetchResponse['responses'][number]['partitions'][number], from: bigint): FetchedPartition {
  const records: ConsumedRecord[] = [];
  const fromNumber = Number(from);
  let next: bigint | null = null;
  const skip = abortedBatchFilter(data);
  for (const batch of data.records ?? []) {
    next = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
    if (skip(batch)) continue; // a marker, or aborted data
    // Per record in numbers, not bigints (a restore reads millions): offsets and epoch-ms timestamps
    // stay far below 2^53; a log past that falls back to bigint arithmetic.
    const safe = next <= MAX_SAFE_OFFSET;
    const first = Number(batch.firstOffset);
    const firstTimestamp = Number(batch.firstTimestamp);
    for (const r of batch.records) {
      const offset = safe ? first + r.offsetDelta : batch.firstOffset + BigInt(r.offsetDelta);
      if (safe ? offset < fromNumber : (offset as bigint) < from) continue; // a compressed batch starts before the requested offset
      records.push({
        topic,
        partition: data.partitionIndex,
        offset: String(offset),
        key: r.key && r.key.length > 0 ? r.key.toString() : null,
        value: r.value ?? null,
        headers: headersOf(r.headers as [Buffer, Buffer][] | undefined),
        timestamp: firstTimestamp + Number(r.timestampDelta),
      });
    }
  }
  return { records, next, highWatermark: data.highWatermark, lastStableOffset: data.lastStableOffset };
}

export function createPlatformaticClient(connection: KafkaConnection, logger: Logger): KafkaClient {
  const base = {
    clientId: connection.clientId,
    bootstrapBrokers: connection.brokers,
    tls: connection.ssl ? {} : undefined,
    sasl: connection.sasl
      ? ({
          mechanism: connection.sasl.mechanism.toUpperCase() as SASLOptions['mechanism'],
          username: connection.sasl.username,
          password: connection.sasl.password,
        } satisfies SASLOptions)
      : undefined,
    retries: 8,
    // The broker answers CONCURRENT_TRANSACTIONS while the previous commit's markers are written: retried
    // at the default 250 ms, every commit interval would stall on it (measured: p50 latency ~1 s at 5k/s).
    // The markers take a few ms: the first retry waits 2 ms (10 ms put ~3% of transactions, the
    // ones that met it, at the latency p99), then doubles.
    retryDelay: (_client: unknown, _operation: string, attempt: number, _retries: number, error: Error) =>
      hasApiId(error, 'CONCURRENT_TRANSACTIONS') ? Math.min(2 * 2 ** (attempt - 1), 100) : 250,
  };
  let seq = 0;
  /** A consumer that never joins: for Fetch and ListOffsets outside any group. */
  const groupless = () => new Consumer({ ...base, groupId: `nextact-groupless-${process.pid}-${++seq}`, autocommit: false, isolationLevel: READ_COMMITTED });

  /** Fetches partitions of one topic from their leaders: the one Fetch path of reads and consumers. */
  async function fetchPartitions(
    consumer: Consumer,
    topic: string,
    positions: Map<number, bigint>,
    maxBytesPerPartition: number,
  ): Promise<Map<number, FetchedPartition>> {
    const metadata = await consumer.metadata({ topics: [topic] });
    const t = metadata.topics.get(topic);
    if (!t) throw new NextActError(ErrorCodes.KAFKA_UNKNOWN_TOPIC, `unknown topic ${topic}`, { retriable: true });
    const byLeader = new Map<number, number[]>();
    for (const p of positions.keys()) {
      const leader = t.partitions[p]?.leader;
      if (leader === undefined) throw new NextActError(ErrorCodes.KAFKA_UNKNOWN_TOPIC, `${topic} has no partition ${p}`);
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
    }
    const out = new Map<number, FetchedPartition>();
    await Promise.all(
      [...byLeader].map(async ([node, partitions]) => {
        const response = await consumer.fetch({
          node,
          isolationLevel: READ_COMMITTED,
          maxWaitTime: FETCH_WAIT_MS,
          minBytes: 1,
          maxBytes: FETCH_MAX_BYTES,
          topics: [
            {
              topicId: t.id,
              partitions: partitions.map((partition) => ({
                partition,
                fetchOffset: positions.get(partition)!,
                partitionMaxBytes: maxBytesPerPartition,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              })),
            },
          ],
        });
        for (const data of response.responses.flatMap((r) => r.partitions)) {
          const from = positions.get(data.partitionIndex);
          if (from !== undefined) out.set(data.partitionIndex, decodeFetch(topic, data, from));
        }
      }),
    );
    return out;
  }

  async function endOffsets(consumer: Consumer, topic: string, timestamp: bigint, isolationLevel: number = READ_COMMITTED): Promise<bigint[]> {
    const offsets = await consumer.listOffsets({ topics: [topic], timestamp, isolationLevel });
    return offsets.get(topic) ?? [];
  }

  /** Group coordinators, for TxnOffsetCommit (sent to the group's coordinator), found through `admin`. */
  function coordinatorLookup(admin: () => Admin) {
    const coordinators = new Map<string, number>();
    return {
      async of(groupId: string): Promise<number> {
        const known = coordinators.get(groupId);
        if (known !== undefined) return known;
        const [found] = await admin().findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: [groupId] });
        if (!found) throw new NextActError(ErrorCodes.KAFKA_COORDINATOR_MOVED, `no coordinator for group ${groupId}`, { retriable: true });
        coordinators.set(groupId, found.nodeId);
        return found.nodeId;
      },
      forget: (groupId: string) => coordinators.delete(groupId),
    };
  }

  /** Explicit partitions for keyed records (Java's murmur2), from the topics' partition counts. */
  async function placed(producer: Producer, records: OutgoingRecord[]) {
    const topics = [...new Set(records.map((r) => r.topic))];
    const metadata = await producer.metadata({ topics });
    return records.map((r) => {
      const count = metadata.topics.get(r.topic)?.partitionsCount;
      if (count === undefined) throw new NextActError(ErrorCodes.KAFKA_UNKNOWN_TOPIC, `unknown topic ${r.topic}`, { retriable: true });
      return {
        topic: r.topic,
        key: Buffer.from(r.key),
        value: r.value ?? undefined,
        headers: r.headers ? new Map(Object.entries(r.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])) : undefined,
        partition: r.partition ?? partitionForKey(r.key, count),
        timestamp: r.timestamp === undefined ? undefined : BigInt(r.timestamp),
      };
    });
  }

  return {
    capabilities: PLATFORMATIC_CAPABILITIES,

    async readPartitions(topic: string, ranges: PartitionRange[], onRecords, options = {}): Promise<ReadResult[]> {
      const waitMs = options.openTransactionWaitMs ?? OPEN_TRANSACTION_WAIT_MS;
      if (ranges.length === 0) return [];
      const consumer = groupless();
      try {
        // The end is the high watermark, not the last stable offset: a range covers everything
        // written before the call, and an open transaction below it is waited for (see the port).
        const ends = await endOffsets(consumer, topic, ListOffsetTimestamps.LATEST, FetchIsolationLevels.READ_UNCOMMITTED);
        const state = ranges.map((r) => {
          const end = ends[r.partition];
          if (end === undefined) throw new NextActError(ErrorCodes.KAFKA_UNKNOWN_TOPIC, `${topic} has no partition ${r.partition}`);
          return { partition: r.partition, next: BigInt(r.from), until: r.until === undefined ? end : BigInt(r.until), records: 0, lastProgress: Date.now() };
        });
        const fetchPending = () => {
          const pending = state.filter((s) => s.next < s.until);
          if (pending.length === 0) return undefined;
          const positions = new Map(pending.map((s) => [s.partition, s.next]));
          return fetchPartitions(consumer, topic, positions, 1_048_576).then((fetched) => ({ pending, fetched }));
        };
        let inFlight = fetchPending();
        try {
          while (inFlight) {
            const { pending, fetched } = await inFlight;
            inFlight = undefined;
            let progressed = false;
            const deliveries: ConsumedRecord[][] = [];
            for (const s of pending) {
              const f = fetched.get(s.partition);
              if (!f) {
                // Nothing returned: an open transaction holds the last stable offset below the end.
                if (Date.now() - s.lastProgress > waitMs) throw openTransactionError(topic, s.partition, String(s.next), String(s.until), waitMs);
                continue;
              }
              const last = f.records.at(-1);
              const records = last === undefined || BigInt(last.offset) < s.until ? f.records : f.records.filter((r) => BigInt(r.offset) < s.until);
              if (records.length > 0) deliveries.push(records);
              s.records += records.length;
              if (f.next !== null && f.next > s.next) {
                s.next = f.next;
                if (s.next > s.until) s.next = s.until; // bigint: no Math.min
                s.lastProgress = Date.now();
                progressed = true;
              } else if (f.lastStableOffset >= s.until && s.next >= f.lastStableOffset) {
                s.next = s.until;
              } else if (Date.now() - s.lastProgress > waitMs) {
                throw openTransactionError(topic, s.partition, String(f.lastStableOffset), String(s.until), waitMs);
              }
            }
            // The next fetch goes out before these records are handed over, so the broker reads
            // while the caller applies (a restore is otherwise fetch, apply, fetch, apply).
            if (progressed) inFlight = fetchPending();
            for (const records of deliveries) await onRecords(records);
            if (!progressed) {
              await new Promise((r) => setTimeout(r, 20));
              inFlight = fetchPending();
            }
          }
        } finally {
          // A caller's failure mid-read leaves at most one fetch out: it must not surface unhandled.
          inFlight?.catch(() => {});
        }
        return state.map((s) => ({ partition: s.partition, until: s.until.toString(), records: s.records }));
      } catch (err) {
        throw portError(err, `read ${topic}`);
      } finally {
        await consumer.close(true).catch(() => {});
      }
    },

    async admin(): Promise<KafkaAdmin> {
      const admin = new Admin(base);
      const offsets = groupless();
      const call = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
        try {
          return await work();
        } catch (e) {
          throw portError(e, what);
        }
      };
      const listTopics = () => call('list topics', () => admin.listTopics());
      return {
        async ensureTopics(specs) {
          return call('ensure topics', async () => {
            const existing = new Set(await admin.listTopics());
            const missing = specs.filter((s) => !existing.has(s.name));
            for (const s of missing) {
              try {
                await admin.createTopics({
                  topics: [s.name],
                  partitions: s.partitions,
                  replicas: s.replicationFactor,
                  configs: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
                });
              } catch (e) {
                // Another instance may have created it concurrently; that is success.
                if (!(await admin.listTopics()).includes(s.name)) throw e;
              }
            }
            const metadata = await admin.metadata({ topics: specs.map((s) => s.name), forceUpdate: true });
            for (const spec of specs) {
              const found = metadata.topics.get(spec.name);
              if (found && found.partitionsCount !== spec.partitions) {
                throw new NextActError(
                  ErrorCodes.KAFKA,
                  `topic ${spec.name} has ${found.partitionsCount} partitions but ${spec.partitions} are required (co-partitioning); recreate it or set NEXTACT_PARTITIONS=${found.partitionsCount}`,
                );
              }
            }
            return { created: missing.map((s) => s.name) };
          });
        },
        listTopics,
        async deleteTopics(names) {
          if (names.length > 0) await call('delete topics', () => admin.deleteTopics({ topics: names }));
        },
        async partitionCount(topic) {
          return call(`describe ${topic}`, async () => {
            if (!(await admin.listTopics()).includes(topic)) throw new NextActError(ErrorCodes.KAFKA_UNKNOWN_TOPIC, `unknown topic ${topic}`);
            const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
            return metadata.topics.get(topic)!.partitionsCount;
          });
        },
        async watermarks(topic) {
          return call(`watermarks of ${topic}`, async () => {
            // The high watermark, not the last stable offset: ListOffsets read_uncommitted.
            const [low, high] = await Promise.all([
              offsets.listOffsets({ topics: [topic], timestamp: ListOffsetTimestamps.EARLIEST, isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED }),
              offsets.listOffsets({ topics: [topic], timestamp: ListOffsetTimestamps.LATEST, isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED }),
            ]);
            const lows = low.get(topic) ?? [];
            const highs = high.get(topic) ?? [];
            return highs.map((h, partition) => ({ partition, low: String(lows[partition] ?? 0n), high: String(h) }));
          });
        },
        async groupOffsets(groupId, topic, options = {}) {
          return call(`offsets of ${groupId}`, async () => {
            const metadata = await admin.metadata({ topics: [topic] });
            const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
            const partitions = Array.from({ length: count }, (_, p) => p);
            const groups = [{ groupId, topics: [{ name: topic, partitionIndexes: partitions }] }];
            // require_stable: the broker answers UNSTABLE_OFFSET_COMMIT while an open transaction holds offsets.
            const [group] = await retry(() => admin.listConsumerGroupOffsets({ groups, requireStable: options.requireStable ?? false }), {
              retries: 600,
              initialDelayMs: 50,
              maxDelayMs: 200,
              shouldRetry: (err) => hasApiId(err, 'UNSTABLE_OFFSET_COMMIT'),
            });
            const found = new Map((group?.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => [p.partitionIndex, p.committedOffset]));
            return partitions.map((partition) => ({ partition, offset: String(found.get(partition) ?? -1n) }));
          });
        },
        async setGroupOffsets(groupId, positions) {
          // The broker answers a live group's admin offset commit with UNKNOWN_MEMBER_ID: say what it means.
          const live = (await call(`describe ${groupId}`, () => admin.describeGroups({ groups: [groupId] }))).get(groupId);
          if (live && live.members.size > 0) {
            throw new NextActError(ErrorCodes.KAFKA_GROUP_NOT_EMPTY, `group ${groupId} has ${live.members.size} active member(s): its offsets cannot be set`);
          }
          const byTopic = new Map<string, RecordPosition[]>();
          for (const p of positions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
          await call(`set offsets of ${groupId}`, () =>
            admin.alterConsumerGroupOffsets({
              groupId,
              topics: [...byTopic].map(([name, ps]) => ({ name, partitionOffsets: ps.map((p) => ({ partition: p.partition, offset: BigInt(p.offset) })) })),
            }),
          );
        },
        async listGroups() {
          const groups = await call('list groups', () => admin.listGroups());
          return [...groups.keys()];
        },
        async describeGroup(groupId) {
          const groups = await call(`describe ${groupId}`, () => admin.describeGroups({ groups: [groupId] }));
          const g = groups.get(groupId);
          if (!g) return { groupId, state: 'Dead', members: [] };
          return {
            groupId,
            state: String(g.state),
            members: [...g.members.values()].map((m) => ({ memberId: m.id, clientId: m.clientId, assignment: toAssignment(m.assignments) })),
          };
        },
        async deleteGroups(groupIds) {
          if (groupIds.length > 0) await call('delete groups', () => admin.deleteGroups({ groups: groupIds }));
        },
        async close() {
          await Promise.all([admin.close(), offsets.close(true)]);
        },
      };
    },

    async producer(options = {}): Promise<RecordProducer> {
      const idempotent = options.idempotent ?? true;
      const producer = new Producer({ ...base, idempotent, acks: -1, autocreateTopics: false });
      const send = serialised(async (records: OutgoingRecord[]): Promise<RecordPosition[]> => {
        if (records.length === 0) return [];
        try {
          const positions: RecordPosition[] = [];
          for (const chunk of chunkRecords(records)) {
            const result = (await producer.send({ messages: await placed(producer, chunk) })) as ProduceResult;
            for (const o of result.offsets ?? []) positions.push({ topic: o.topic, partition: o.partition, offset: String(o.offset) });
          }
          return positions;
        } catch (e) {
          throw portError(e, 'produce');
        }
      });
      return { send, close: () => producer.close(true) };
    },

    async transactionalProducer(transactionalId, options = {}): Promise<TransactionalProducer> {
      const producer = new Producer({
        ...base,
        idempotent: true,
        transactionalId,
        acks: -1,
        autocreateTopics: false,
        timeout: options.transactionTimeoutMs ?? 60_000,
      });
      // The port promises that an older producer with this id is fenced once this one exists: the
      // client's InitProducerId runs at its first beginTransaction, so one is begun and dropped here.
      // It must ask as a new producer (id -1, epoch -1): the client's default (0, 0) reads to the
      // broker as "producer 0 bumping its epoch" (KIP-360) and is refused as fenced once another
      // producer has used this transactional id, i.e. on every restart.
      try {
        const first = await producer.beginTransaction({ producerId: -1n, producerEpoch: -1 });
        await first.cancel();
      } catch (e) {
        await producer.close(true).catch(() => {});
        throw portError(e, `transactional producer ${transactionalId} init`);
      }
      const internals = internalsOf(producer);
      let lookupAdmin: Admin | undefined;
      const coordinators = coordinatorLookup(() => {
        lookupAdmin ??= new Admin(base);
        return lookupAdmin;
      });
      let fenced: NextActError | undefined;
      const transact = serialised(async <T>(work: (tx: RecordTransaction) => Promise<T>): Promise<T> => {
        if (fenced) throw new NextActError(ErrorCodes.KAFKA_FENCED, `producer ${transactionalId} was fenced: ${fenced.message}`, { cause: fenced });
        let tx: Awaited<ReturnType<Producer['beginTransaction']>>;
        try {
          tx = await producer.beginTransaction();
        } catch (e) {
          throw portError(e, `begin transaction ${transactionalId}`);
        }
        try {
          const result = await work({
            async send(records) {
              try {
                for (const chunk of chunkRecords(records)) await tx.send({ messages: await placed(producer, chunk) });
              } catch (e) {
                throw portError(e, `transactional send ${transactionalId}`);
              }
            },
            async commitConsumed(group: GroupMetadata, next) {
              if (next.length === 0) return;
              await retry(
                async () => {
                  try {
                    const coordinatorId = await coordinators.of(group.groupId);
                    await tx.addConsumer({ groupId: group.groupId } as Consumer);
                    // Every partition's offset in one TxnOffsetCommit (KIP-447: generation and member id).
                    const topics = [...new Set(next.map((p) => p.topic))];
                    const metadata = await producer.metadata({ topics });
                    const broker = metadata.brokers.get(coordinatorId);
                    if (!broker)
                      throw new NextActError(ErrorCodes.KAFKA_COORDINATOR_MOVED, `coordinator ${coordinatorId} is not a known broker`, { retriable: true });
                    const connection = await call<unknown>((cb) => internals.getConnection(broker, cb));
                    const api = await call<TxnOffsetCommitApi>((cb) => internals.getApi('TxnOffsetCommit', cb));
                    const request = topics.map((name) => ({
                      name,
                      partitions: next
                        .filter((p) => p.topic === name)
                        .map((p) => ({
                          partitionIndex: p.partition,
                          committedOffset: BigInt(p.offset),
                          committedLeaderEpoch: metadata.topics.get(name)?.partitions[p.partition]?.leaderEpoch ?? -1,
                          committedMetadata: null,
                        })),
                    }));
                    await call<unknown>((cb) =>
                      api(
                        connection,
                        transactionalId,
                        group.groupId,
                        producer.producerId,
                        producer.producerEpoch,
                        group.generationId,
                        group.memberId,
                        null,
                        request,
                        cb,
                      ),
                    );
                  } catch (e) {
                    const err = portError(e, `transactional offset commit ${transactionalId}`);
                    if (err.code === ErrorCodes.KAFKA_COORDINATOR_MOVED) coordinators.forget(group.groupId);
                    throw err;
                  }
                },
                {
                  retries: 8,
                  initialDelayMs: 50,
                  maxDelayMs: 2_000,
                  shouldRetry: (err) =>
                    [ErrorCodes.KAFKA_CONCURRENT_TRANSACTIONS, ErrorCodes.KAFKA_COORDINATOR_MOVED, ErrorCodes.KAFKA_UNAVAILABLE].includes(
                      (err as NextActError).code as never,
                    ),
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
          const err = e instanceof NextActError ? e : e;
          if (err instanceof NextActError && err.code === ErrorCodes.KAFKA_FENCED) {
            fenced = err;
            await tx.cancel().catch(() => {});
          } else if (!tx.completed) {
            await tx.abort().catch(async (abortErr) => {
              logger.debug('transaction abort failed', { err: abortErr, transactionalId });
              await tx.cancel().catch(() => {});
            });
          }
          throw err;
        }
      });
      return {
        transactionalId,
        transact,
        async close() {
          await Promise.all([producer.close(true), lookupAdmin?.close()]);
        },
      };
    },

    async consumer(options: ConsumerOptions): Promise<RecordConsumer> {
      const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
      const consumer = new Consumer({
        ...base,
        groupId: options.groupId,
        autocommit: false,
        isolationLevel: READ_COMMITTED,
        sessionTimeout,
        heartbeatInterval: Math.min(1_000, Math.floor(sessionTimeout / 3)),
        rebalanceTimeout: Math.max(sessionTimeout, 30_000),
      });
      const maxBytesPerPartition = options.maxBytesPerPartition ?? 1_048_576;
      let assignment: Assignment = {};
      /** Bumped at every rebalance: batches fetched in an older one are stale. */
      let generation = 0;
      let running = false;
      let closed = false;
      const positions = new Map<string, bigint>();
      const paused = new Set<string>();
      const inFlight = new Set<string>();
      const marked = new Map<string, RecordPosition>();
      let listening: Promise<void> = Promise.resolve();
      const listener = options.rebalance;
      const callListener = async (which: 'assigned' | 'revoked', partitions: TopicPartition[], now: Assignment) => {
        try {
          await listener?.[which]?.(partitions, now);
        } catch (err) {
          logger.error('rebalance listener failed', { which, err });
        }
      };
      const owns = (topic: string, partition: number) => assignment[topic]?.includes(partition) ?? false;

      /** Fetch positions of newly assigned partitions: the group's committed offsets, else earliest or latest. */
      async function initialPositions(next: Assignment) {
        const topics = Object.entries(next).filter(([, ps]) => ps.length > 0);
        if (topics.length === 0) return;
        const committed = await consumer.listCommittedOffsets({ topics: topics.map(([topic, partitions]) => ({ topic, partitions })) });
        for (const [topic, ps] of topics) {
          const reset = await endOffsets(consumer, topic, options.fromBeginning === false ? ListOffsetTimestamps.LATEST : ListOffsetTimestamps.EARLIEST);
          const mine = committed.get(topic) ?? [];
          for (const p of ps) {
            const c = mine[p];
            positions.set(key(topic, p), c !== undefined && c >= 0n ? c : (reset[p] ?? 0n));
          }
        }
      }

      consumer.on('consumer:group:rebalance', () => {
        // Eager protocol: everything this member holds is given up at the rejoin; batches in flight must not commit.
        generation++;
      });
      consumer.on('consumer:group:join', (event) => {
        generation++;
        const joined = generation;
        const next = toAssignment(event.assignments ?? []);
        // In order with the listener: revoked, then positions, then assigned; `assignment()` shows the
        // new partitions only once `assigned` has completed, and no batch runs before that.
        listening = listening.then(async () => {
          const revoked = flatten(assignment).filter((tp) => !next[tp.topic]?.includes(tp.partition));
          if (revoked.length > 0) await callListener('revoked', revoked, next);
          positions.clear();
          try {
            await initialPositions(next);
          } catch (err) {
            logger.error('reading committed offsets after a join failed', { err, groupId: options.groupId });
            if (joined === generation) generation++; // nothing of this join is fetched; the next join retries
          }
          await callListener('assigned', flatten(next), next);
          assignment = next;
        });
      });

      consumer.topics.trackAll(...options.topics);
      try {
        await consumer.joinGroup({
          sessionTimeout,
          heartbeatInterval: Math.min(1_000, Math.floor(sessionTimeout / 3)),
          rebalanceTimeout: Math.max(sessionTimeout, 30_000),
        });
      } catch (e) {
        await consumer.close(true).catch(() => {});
        throw portError(e, `join group ${options.groupId}`);
      }

      const concurrency = Math.max(1, options.partitionsConsumedConcurrently ?? 1);
      let loop: Promise<void> | undefined;

      async function fetchLoop(handler: Parameters<RecordConsumer['run']>[0]) {
        while (running) {
          await listening;
          const gen = generation;
          const byTopic = new Map<string, Map<number, bigint>>();
          for (const { topic, partition } of flatten(assignment)) {
            const k = key(topic, partition);
            const at = positions.get(k);
            if (at === undefined || paused.has(k) || inFlight.has(k)) continue;
            const m = byTopic.get(topic) ?? new Map<number, bigint>();
            byTopic.set(topic, m);
            m.set(partition, at);
          }
          if (byTopic.size === 0) {
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          let fetched: [string, Map<number, FetchedPartition>][];
          try {
            fetched = await Promise.all(
              [...byTopic].map(
                async ([topic, ps]) => [topic, await fetchPartitions(consumer, topic, ps, maxBytesPerPartition)] as [string, Map<number, FetchedPartition>],
              ),
            );
          } catch (err) {
            if (!running) return;
            logger.warn('fetch failed; retrying', { err, groupId: options.groupId });
            await new Promise((r) => setTimeout(r, 250));
            continue;
          }
          if (gen !== generation || !running) continue; // a rebalance happened meanwhile: positions were reset
          const batches: { topic: string; partition: number; f: FetchedPartition; from: bigint }[] = [];
          for (const [topic, ps] of fetched) {
            for (const [partition, f] of ps) {
              const k = key(topic, partition);
              const from = byTopic.get(topic)!.get(partition)!;
              if (positions.get(k) !== from || paused.has(k)) continue; // sought or paused while fetching
              if (f.next !== null && f.next > from) positions.set(k, f.next);
              if (f.records.length > 0) batches.push({ topic, partition, f, from });
            }
          }
          // Batches of different partitions run `concurrency` at a time; one partition's never overlap.
          for (let i = 0; i < batches.length; i += concurrency) {
            await Promise.all(
              batches.slice(i, i + concurrency).map(async ({ topic, partition, f }) => {
                const k = key(topic, partition);
                inFlight.add(k);
                try {
                  await handler({
                    topic,
                    partition,
                    records: f.records,
                    highWatermark: f.highWatermark.toString(),
                    lastOffset: ((f.next ?? 1n) - 1n).toString(),
                    stillOwned: () => running && gen === generation && owns(topic, partition),
                    heartbeat: async () => {
                      // The client heartbeats on its own timer; a rebalance shows up as a new generation.
                      if (gen !== generation) throw new NextActError(ErrorCodes.KAFKA_REBALANCE_IN_PROGRESS, 'the group rebalanced', { retriable: true });
                    },
                    markProcessed: (offset) => {
                      const after = BigInt(offset) + 1n;
                      if (gen === generation && (positions.get(k) ?? 0n) < after) positions.set(k, after);
                      marked.set(k, { topic, partition, offset: after.toString() });
                    },
                  });
                } catch (err) {
                  logger.error('batch handler failed; the partition is read again from its position', { err, topic, partition });
                  if (gen === generation) positions.set(k, f.records[0] ? BigInt(f.records[0].offset) : positions.get(k)!);
                } finally {
                  inFlight.delete(k);
                }
              }),
            );
          }
          if (options.commitMarked && marked.size > 0 && gen === generation) {
            const commit = [...marked.values()];
            marked.clear();
            try {
              await consumer.commit({ offsets: commit.map((p) => ({ topic: p.topic, partition: p.partition, offset: BigInt(p.offset), leaderEpoch: -1 })) });
            } catch (err) {
              logger.warn('offset commit failed', { err, groupId: options.groupId });
            }
          }
        }
      }

      return {
        async run(handler) {
          running = true;
          await listening;
          loop = fetchLoop(handler).catch((err) => logger.error('consumer loop stopped', { err, groupId: options.groupId }));
        },
        assignment: () => assignment,
        groupMetadata: () => ({ groupId: options.groupId, generationId: consumer.generationId, memberId: consumer.memberId ?? '' }),
        async commitOffsets(positionsToCommit) {
          try {
            await consumer.commit({
              offsets: positionsToCommit.map((p) => ({ topic: p.topic, partition: p.partition, offset: BigInt(p.offset), leaderEpoch: -1 })),
            });
          } catch (e) {
            throw portError(e, `commit offsets of ${options.groupId}`);
          }
        },
        pause: (topic, partitions) => {
          for (const p of partitions ?? assignment[topic] ?? []) paused.add(key(topic, p));
        },
        resume: (topic, partitions) => {
          for (const p of partitions ?? [...paused].filter((k) => k.startsWith(`${topic}\u0000`)).map((k) => Number(k.split('\u0000')[1])))
            paused.delete(key(topic, p));
        },
        seek: (p) => {
          positions.set(key(p.topic, p.partition), BigInt(p.offset));
        },
        async close() {
          if (closed) return;
          closed = true;
          running = false;
          await loop;
          await listening;
          const all = flatten(assignment);
          assignment = {};
          if (all.length > 0) await callListener('revoked', all, {});
          await consumer.close(true).catch(() => {});
        },
      };
    },
  };
}
