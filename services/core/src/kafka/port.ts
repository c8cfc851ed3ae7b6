/**
 * NextAct's Kafka port: what the services ask of Kafka, in our terms. Adapters (`memory/`,
 * `kafkajs/`, `platformatic/`) implement it; they are the only places a client library is imported
 * or its error text read. Every adapter passes one suite (`test/kafka/conformance.ts`).
 *
 * Conventions every adapter keeps:
 * - offsets are decimal strings (Kafka offsets exceed 2^53) and a committed offset is the *next*
 *   offset to read (last processed + 1);
 * - consumers and partition reads are read_committed: aborted and still-open transactional data is
 *   never delivered, so offsets are not contiguous (transaction markers take offsets too);
 * - a record without `partition` goes where Java's default partitioner puts its key (murmur2,
 *   see `partitioner.ts`), so every client and the memory adapter agree on co-partitioning;
 * - sends on one producer are applied in call order, cut in chunks below message.max.bytes;
 * - every failure is a `NextActError` with a stable `NXA_*` code and `retriable` (see `errors.ts`):
 *   callers branch on `code`, never on a message.
 *
 * An adapter folder `kafka/<name>/` has an `index.ts` exporting `create<Name>Client(connection,
 * logger): KafkaClient` (what `client.ts` loads when KAFKA_CLIENT=<name>) and its capabilities as
 * a constant, e.g. `KAFKAJS_CAPABILITIES`, for its conformance test.
 */

/** Where the brokers are and how to reach them (TLS and SASL passed through to the client). */
export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A record as read from a topic-partition. */
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

/** Partitions per topic, e.g. a member's assignment. */
export type Assignment = Record<string, number[]>;

/**
 * What an adapter can do. The port never pretends: code that needs a capability checks it and
 * refuses clearly (naming KAFKA_CLIENT) instead of running unsafely.
 */
export interface KafkaCapabilities {
  /** Adapter name, as KAFKA_CLIENT selects it: `memory`, `kafkajs`, `platformatic`. */
  readonly adapter: string;
  /**
   * Transactional offset commits carry the consumer's group metadata (generation, member id), so
   * the group coordinator refuses a commit from a member that was rebalanced away (KIP-447). Without
   * it, fencing needs one transactional id per input partition.
   */
  readonly kip447: boolean;
  /** Incremental rebalancing: only the partitions that move are revoked (KIP-429 or KIP-848). */
  readonly cooperativeRebalance: boolean;
  /**
   * `revoked` runs (and is awaited) before the partitions can be assigned to another member, as
   * Java's rebalance listener does. false: revocation is learnt after this member rejoined, when
   * another member may already own the partitions (their batches are stale by then).
   */
  readonly revokeBeforeReassign: boolean;
}

/** This member's identity in its group as of the last rebalance: what a KIP-447 commit sends. */
export interface GroupMetadata {
  groupId: string;
  /** -1 when the adapter does not know it (no KIP-447: it is not sent anyway). */
  generationId: number;
  /** '' before the first join, or when the adapter does not know it. */
  memberId: string;
  groupInstanceId?: string;
}

/**
 * Rebalance listener. Each callback is awaited before records of the partitions it names are
 * delivered again, and a rebalance's `revoked` runs before its `assigned`.
 */
export interface RebalanceListener {
  /**
   * Called after every rebalance this member took part in (possibly with no partitions) with the
   * partitions whose fetch position was (re)initialised from the group's committed offsets: on an
   * eager protocol every partition the member holds after the join, on a cooperative one only the
   * new ones. `assignment` is the member's whole assignment now.
   */
  assigned?(partitions: TopicPartition[], assignment: Assignment): void | Promise<void>;
  /** Partitions this member no longer owns: stop work on them and commit nothing more for them. */
  revoked?(partitions: TopicPartition[], assignment: Assignment): void | Promise<void>;
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
  /** False once the partition was revoked (or the consumer stopped) while the batch ran: its results must not commit. */
  stillOwned(): boolean;
  /** Keeps the membership alive during long work, for clients that do not heartbeat on their own; a no-op elsewhere. Throws when a rebalance is in progress. */
  heartbeat(): Promise<void>;
  /** Moves the fetch position past `offset` and marks it for the consumer's own commits (`commitMarked`). */
  markProcessed(offset: string): void;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** Where a partition without a committed offset starts: earliest (true, default) or latest. */
  fromBeginning?: boolean;
  /**
   * true: after each batch the consumer commits what `markProcessed` marked (at-least-once readers).
   * false: offsets are committed only explicitly, through a transaction (`commitConsumed`) or
   * `commitOffsets` after the results are safe elsewhere (exactly-once pipelines).
   */
  commitMarked: boolean;
  /** Batches of different partitions handled at once (default 1). Batches of one partition never overlap. */
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  /** Registered before the first join, so no assignment is missed. */
  rebalance?: RebalanceListener;
}

export interface RecordConsumer {
  /** Joins the group and starts fetching; resolves once the first assignment is known. */
  run(handler: (batch: RecordBatch) => Promise<void>): Promise<void>;
  /** The member's partitions as of the last rebalance. */
  assignment(): Assignment;
  /** For `RecordTransaction.commitConsumed`: the group metadata a KIP-447 commit carries. */
  groupMetadata(): GroupMetadata;
  /** Non-transactional commit of `next` offsets (at-least-once readers, sinks). */
  commitOffsets(positions: RecordPosition[]): Promise<void>;
  /** Stops fetching the given partitions (all of the topic's when omitted) until resumed; positions are kept. */
  pause(topic: string, partitions?: number[]): void;
  resume(topic: string, partitions?: number[]): void;
  /** The next fetch of an owned partition starts at `offset`. */
  seek(position: RecordPosition): void;
  /** Leaves the group (revoking every partition through the listener first). */
  close(): Promise<void>;
}

/** An idempotent (or plain) producer: records land once and in call order. */
export interface RecordProducer {
  /** Positions of the written records' first offsets, one per topic-partition written. */
  send(records: OutgoingRecord[]): Promise<RecordPosition[]>;
  close(): Promise<void>;
}

/** One Kafka transaction: records and consumed offsets become visible together or not at all. */
export interface RecordTransaction {
  send(records: OutgoingRecord[]): Promise<void>;
  /**
   * Commits `next` offsets (last processed + 1) for the consumer described by `group`, inside the
   * transaction. With `kip447` the coordinator checks the generation and member id, and refuses
   * a stale member's commit (`KAFKA_STALE_MEMBER`); without it only the group id is sent.
   */
  commitConsumed(group: GroupMetadata, next: RecordPosition[]): Promise<void>;
}

export interface TransactionalProducer {
  readonly transactionalId: string;
  /**
   * Runs `work` in a transaction; commits if it resolves, aborts if it throws (the error is
   * rethrown). A producer fenced by a newer one with the same transactional id throws
   * `KAFKA_FENCED` and can do nothing more but close.
   */
  transact<T>(work: (tx: RecordTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PartitionWatermarks {
  partition: number;
  /** First offset still in the log. */
  low: string;
  /** Offset the next record will get (the end offset). */
  high: string;
}

export interface GroupDescription {
  groupId: string;
  /** Broker's group state, e.g. `Stable`, `PreparingRebalance`, `Empty`, `Dead`. */
  state: string;
  members: { memberId: string; clientId: string; assignment: Assignment }[];
}

export interface KafkaAdmin {
  /** Creates the missing topics; an existing topic with another partition count is an error (co-partitioning). */
  ensureTopics(specs: TopicSpec[]): Promise<{ created: string[] }>;
  listTopics(): Promise<string[]>;
  deleteTopics(names: string[]): Promise<void>;
  /** Number of partitions of a topic (`KAFKA_UNKNOWN_TOPIC` if it does not exist). */
  partitionCount(topic: string): Promise<number>;
  /** Low and high watermarks per partition, sorted by partition. */
  watermarks(topic: string): Promise<PartitionWatermarks[]>;
  /**
   * Committed offsets of a group per partition (-1 when none), sorted by partition. `requireStable`
   * (KIP-447's require_stable): waits while an open transaction holds offsets of the group for the
   * topic, so what is read is final. Adapters without KIP-447 may ignore it.
   */
  groupOffsets(groupId: string, topic: string, options?: { requireStable?: boolean }): Promise<{ partition: number; offset: string }[]>;
  /** Sets a group's committed offsets (the group must have no active member). */
  setGroupOffsets(groupId: string, positions: RecordPosition[]): Promise<void>;
  listGroups(): Promise<string[]>;
  describeGroup(groupId: string): Promise<GroupDescription>;
  deleteGroups(groupIds: string[]): Promise<void>;
  close(): Promise<void>;
}

export interface PartitionRange {
  partition: number;
  /** First offset to read. */
  from: string;
  /** End offset (exclusive); default: the partition's end offset at the start of the read. */
  until?: string;
}

export interface ReadResult {
  partition: number;
  /** End offset (exclusive) the read went up to. */
  until: string;
  records: number;
}

export interface KafkaClient {
  readonly capabilities: KafkaCapabilities;
  admin(): Promise<KafkaAdmin>;
  /**
   * Reads partition ranges (read_committed) with no consumer group: no group offsets are read or
   * written and no membership is joined. For state restores, rebuilds and replay. `onRecords` is
   * awaited before more is delivered; records arrive in offset order per partition. Resolves once
   * every range is read up to its end (markers and aborted data below it count as read).
   *
   * An open transaction below the end is waited for: what it wrote is decided only when it commits
   * or is aborted, and the records other producers committed after it become readable only then.
   * Stopping at it would silently cut the range short (a restore would miss committed state), so
   * after `openTransactionWaitMs` (default 75 s: longer than a transaction timeout, after which the
   * broker aborts it) the read fails with retriable NXA_KAFKA_OPEN_TRANSACTION instead.
   */
  readPartitions(
    topic: string,
    ranges: PartitionRange[],
    onRecords: (records: ConsumedRecord[]) => Promise<void> | void,
    options?: { openTransactionWaitMs?: number },
  ): Promise<ReadResult[]>;
  producer(options?: { idempotent?: boolean }): Promise<RecordProducer>;
  /** Its initialisation bumps the id's epoch: an older producer with the same id is fenced. */
  transactionalProducer(transactionalId: string, options?: { transactionTimeoutMs?: number }): Promise<TransactionalProducer>;
  consumer(options: ConsumerOptions): Promise<RecordConsumer>;
}

/** Kafka offsets as bigint arithmetic, since positions (not counts) are what can be compared. */
export const nextOffset = (offset: string): string => (BigInt(offset) + 1n).toString();
