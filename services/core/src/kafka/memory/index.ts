/**
 * The in-memory adapter of the Kafka port: one process-local "cluster" with partitioned logs,
 * transactions (markers, abort, read_committed up to the last stable offset), consumer groups with
 * a rebalance listener, producer-epoch fencing and, when `kip447`, generation-checked transactional
 * offset commits. It exists so that the runtime's assignment, reopen and fencing logic can be
 * tested without a broker; it passes the same conformance suite as the real adapters.
 *
 * Offsets equal indices in a partition's log (no retention, no compaction); markers take offsets,
 * so data offsets are not contiguous, as on a broker.
 */
import { ErrorCodes, NextActError } from '../../errors';
import { OPEN_TRANSACTION_WAIT_MS, openTransactionError } from '../open-transaction';
import { partitionForKey } from '../partitioner';
import type {
  Assignment,
  ConsumedRecord,
  ConsumerOptions,
  GroupDescription,
  GroupMetadata,
  KafkaAdmin,
  KafkaCapabilities,
  KafkaClient,
  OutgoingRecord,
  PartitionRange,
  ReadResult,
  RecordBatch,
  RecordConsumer,
  RecordPosition,
  RecordProducer,
  RecordTransaction,
  TopicPartition,
  TopicSpec,
  TransactionalProducer,
} from '../port';

export interface MemoryKafkaOptions {
  /** Generation-checked transactional offset commits (default true). false behaves as kafkajs does. */
  kip447?: boolean;
  /** Revoke only moving partitions (default true); false: every rebalance revokes everything first. */
  cooperativeRebalance?: boolean;
  /**
   * true (default): revocations are awaited before anything is reassigned (Java's listener).
   * false: partitions are assigned to their new owners first and the old owners learn of the
   * revocation afterwards, as clients that infer it from the join do (kafkajs, platformatic).
   */
  revokeBeforeReassign?: boolean;
  /** Most records delivered in one batch (default 500). */
  maxBatchRecords?: number;
  /** A record whose value is larger is refused, as by a broker's message.max.bytes (default 1 MiB). */
  messageMaxBytes?: number;
  /** Failures of batch handlers and rebalance callbacks (the batch is re-delivered after a short backoff). */
  onHandlerError?: (err: unknown, where: string) => void;
}

type TxnStatus = 'open' | 'committed' | 'aborted';

interface Txn {
  status: TxnStatus;
  logs: Set<PartitionLog>;
  offsets: { groupId: string; positions: RecordPosition[] }[];
}

interface Entry {
  /** Undefined for a transaction marker. */
  record?: ConsumedRecord;
  txn?: Txn;
}

class PartitionLog {
  readonly entries: Entry[] = [];
  /** First offset of each open transaction on this partition: the last stable offset is their minimum. */
  readonly openFrom = new Map<Txn, number>();

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get end(): number {
    return this.entries.length;
  }

  /** read_committed consumers see nothing at or after the first offset of a still-open transaction. */
  get stableEnd(): number {
    let lso = this.entries.length;
    for (const from of this.openFrom.values()) if (from < lso) lso = from;
    return lso;
  }

  append(r: OutgoingRecord | undefined, txn: Txn | undefined, partition: number): number {
    const offset = this.entries.length;
    if (txn && !this.openFrom.has(txn) && txn.status === 'open') {
      this.openFrom.set(txn, offset);
      txn.logs.add(this);
    }
    const record: ConsumedRecord | undefined = r && {
      topic: this.topic,
      partition,
      offset: String(offset),
      key: r.key,
      value: r.value,
      headers: { ...(r.headers ?? {}) },
      timestamp: r.timestamp ?? Date.now(),
    };
    this.entries.push({ record, txn });
    return offset;
  }

  /** Visible records from `from`, at most `max`, below `until`; `covered` is the offset after the last entry looked at. */
  read(from: number, until: number, max: number): { records: ConsumedRecord[]; covered: number } {
    const records: ConsumedRecord[] = [];
    let i = from;
    for (; i < until && records.length < max; i++) {
      const e = this.entries[i]!;
      if (e.record && (!e.txn || e.txn.status === 'committed')) records.push(e.record);
    }
    return { records, covered: i };
  }
}

interface Member {
  id: string;
  consumer: MemoryConsumer;
  topics: string[];
  /** topic -> owned partitions */
  owned: Map<string, Set<number>>;
}

class Group {
  generation = 0;
  members: Member[] = [];
  readonly committed = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly id: string) {}

  /** Rebalances run one after another, each awaited by whoever caused it. */
  enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => {});
    return run;
  }
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const toAssignment = (owned: Map<string, Set<number>>): Assignment => Object.fromEntries([...owned].map(([t, ps]) => [t, [...ps].sort((a, b) => a - b)]));
const flatten = (m: Map<string, Set<number>>): TopicPartition[] =>
  [...m].flatMap(([topic, ps]) => [...ps].sort((a, b) => a - b).map((partition) => ({ topic, partition })));

function kafkaError(code: (typeof ErrorCodes)[keyof typeof ErrorCodes], message: string, retriable = false): NextActError {
  return new NextActError(code, message, { retriable });
}

/**
 * Sticky and balanced: each member keeps what it owns up to its quota, the rest goes to members
 * under quota in join order. Members holding more get the larger quotas, so little moves.
 */
function assignTopic(partitions: number, members: Member[], topic: string): Map<string, number[]> {
  const result = new Map<string, number[]>(members.map((m) => [m.id, []]));
  if (members.length === 0) return result;
  const base = Math.floor(partitions / members.length);
  const extra = partitions % members.length;
  const byHolding = [...members].sort((a, b) => (b.owned.get(topic)?.size ?? 0) - (a.owned.get(topic)?.size ?? 0));
  const quota = new Map(byHolding.map((m, i) => [m.id, base + (i < extra ? 1 : 0)]));
  const taken = new Set<number>();
  for (const m of members) {
    const mine = result.get(m.id)!;
    for (const p of [...(m.owned.get(topic) ?? [])].sort((a, b) => a - b)) {
      if (p < partitions && !taken.has(p) && mine.length < quota.get(m.id)!) {
        mine.push(p);
        taken.add(p);
      }
    }
  }
  const free = Array.from({ length: partitions }, (_, p) => p).filter((p) => !taken.has(p));
  for (const m of members) {
    const mine = result.get(m.id)!;
    while (mine.length < quota.get(m.id)! && free.length > 0) mine.push(free.shift()!);
  }
  return result;
}

export class MemoryKafka {
  readonly capabilities: KafkaCapabilities;
  private readonly topics = new Map<string, { logs: PartitionLog[]; config: Record<string, string> }>();
  private readonly groups = new Map<string, Group>();
  private readonly epochs = new Map<string, number>();
  private readonly openTxns = new Map<string, Txn>();
  private readonly watchers = new Set<() => void>();
  private memberSeq = 0;
  readonly maxBatchRecords: number;
  private readonly messageMaxBytes: number;
  readonly reportError: (err: unknown, where: string) => void;

  constructor(options: MemoryKafkaOptions = {}) {
    this.capabilities = {
      adapter: 'memory',
      kip447: options.kip447 ?? true,
      cooperativeRebalance: options.cooperativeRebalance ?? true,
      revokeBeforeReassign: options.revokeBeforeReassign ?? true,
    };
    this.maxBatchRecords = options.maxBatchRecords ?? 500;
    this.messageMaxBytes = options.messageMaxBytes ?? 1_048_576;
    this.reportError = options.onHandlerError ?? (() => {});
  }

  /** A client of this cluster (as another process would have one). */
  client(): KafkaClient {
    return new MemoryClient(this);
  }

  /**
   * A member's session runs out (a frozen or partitioned process): the group rebalances without it
   * and without calling its listener. It notices on its next fetch, treats its partitions as lost
   * and rejoins; until then whatever it commits carries a stale generation.
   */
  async expireMember(groupId: string, memberId: string): Promise<void> {
    const group = this.groups.get(groupId);
    if (!group) return;
    await group.enqueue(async () => {
      const before = group.members.length;
      group.members = group.members.filter((m) => m.id !== memberId);
      if (group.members.length !== before) await this.rebalanceLocked(group);
    });
  }

  // ---- internals used by the client, producer, consumer and admin ----

  watch(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  notify(): void {
    for (const w of [...this.watchers]) w();
  }

  /** Resolves on the next change of any log, or after `ms`. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const unwatch = this.watch(done);
      function done() {
        clearTimeout(timer);
        unwatch();
        resolve();
      }
    });
  }

  log(topic: string, partition: number): PartitionLog {
    const t = this.topics.get(topic);
    const log = t?.logs[partition];
    if (!log) throw kafkaError(ErrorCodes.KAFKA_UNKNOWN_TOPIC, `unknown topic or partition ${topic}[${partition}]`, true);
    return log;
  }

  partitionCount(topic: string): number | undefined {
    return this.topics.get(topic)?.logs.length;
  }

  topicNames(): string[] {
    return [...this.topics.keys()].sort();
  }

  createTopic(spec: TopicSpec): boolean {
    const existing = this.topics.get(spec.name);
    if (existing) {
      if (existing.logs.length !== spec.partitions) {
        throw kafkaError(
          ErrorCodes.KAFKA,
          `topic ${spec.name} has ${existing.logs.length} partitions but ${spec.partitions} are required (co-partitioning); recreate it or set NEXTACT_PARTITIONS=${existing.logs.length}`,
        );
      }
      return false;
    }
    this.topics.set(spec.name, {
      logs: Array.from({ length: spec.partitions }, (_, p) => new PartitionLog(spec.name, p)),
      config: { ...(spec.config ?? {}) },
    });
    // Subscribers of a topic that did not exist yet get its partitions now.
    for (const group of this.groups.values()) {
      if (group.members.some((m) => m.topics.includes(spec.name)))
        void group.enqueue(() => this.rebalanceLocked(group)).catch((err) => this.reportError(err, 'rebalance'));
    }
    return true;
  }

  deleteTopic(name: string): void {
    this.topics.delete(name);
    for (const group of this.groups.values()) for (const key of [...group.committed.keys()]) if (key.startsWith(`${name}\u0000`)) group.committed.delete(key);
  }

  group(groupId: string): Group {
    let g = this.groups.get(groupId);
    if (!g) {
      g = new Group(groupId);
      this.groups.set(groupId, g);
    }
    return g;
  }

  existingGroup(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  groupIds(): string[] {
    return [...this.groups.values()].filter((g) => g.members.length > 0 || g.committed.size > 0).map((g) => g.id);
  }

  deleteGroup(groupId: string): void {
    const g = this.groups.get(groupId);
    if (g && g.members.length > 0) throw kafkaError(ErrorCodes.KAFKA_GROUP_NOT_EMPTY, `group ${groupId} has active members`);
    this.groups.delete(groupId);
  }

  resolvePartition(r: OutgoingRecord): PartitionLog {
    const count = this.partitionCount(r.topic);
    if (count === undefined) throw kafkaError(ErrorCodes.KAFKA_UNKNOWN_TOPIC, `unknown topic ${r.topic}`, true);
    const partition = r.partition ?? partitionForKey(r.key, count);
    if ((r.value?.length ?? 0) > this.messageMaxBytes) {
      throw kafkaError(
        ErrorCodes.KAFKA_RECORD_TOO_LARGE,
        `record of ${r.value?.length} bytes for ${r.topic} is over message.max.bytes (${this.messageMaxBytes})`,
      );
    }
    return this.log(r.topic, partition);
  }

  /** InitProducerId: a new epoch for the id; the previous epoch's open transaction is aborted. */
  initTransactions(transactionalId: string): number {
    const epoch = (this.epochs.get(transactionalId) ?? -1) + 1;
    this.epochs.set(transactionalId, epoch);
    const open = this.openTxns.get(transactionalId);
    if (open) this.endTxn(transactionalId, open, 'aborted');
    return epoch;
  }

  /** Every transactional id a producer was initialised with (tests check which protocol ran). */
  transactionalIds(): string[] {
    return [...this.epochs.keys()].sort();
  }

  currentEpoch(transactionalId: string): number | undefined {
    return this.epochs.get(transactionalId);
  }

  beginTxn(transactionalId: string): Txn {
    const txn: Txn = { status: 'open', logs: new Set(), offsets: [] };
    this.openTxns.set(transactionalId, txn);
    return txn;
  }

  endTxn(transactionalId: string, txn: Txn, status: 'committed' | 'aborted'): void {
    if (txn.status !== 'open') return;
    txn.status = status;
    for (const log of txn.logs) {
      log.openFrom.delete(txn);
      log.append(undefined, undefined, log.partition); // the marker takes an offset
    }
    if (status === 'committed') {
      for (const { groupId, positions } of txn.offsets) {
        const g = this.group(groupId);
        for (const p of positions) g.committed.set(tpKey(p.topic, p.partition), Number(p.offset));
      }
    }
    if (this.openTxns.get(transactionalId) === txn) this.openTxns.delete(transactionalId);
    this.notify();
  }

  /** Whether an open transaction holds offsets of the group for the topic (OffsetFetch's UNSTABLE_OFFSET_COMMIT). */
  pendingOffsets(groupId: string, topic: string): boolean {
    for (const txn of this.openTxns.values()) if (txn.offsets.some((o) => o.groupId === groupId && o.positions.some((p) => p.topic === topic))) return true;
    return false;
  }

  /** TxnOffsetCommit's group check (KIP-447): a member rebalanced away may not commit. */
  checkGroupMetadata(gm: GroupMetadata): void {
    if (!this.capabilities.kip447 || gm.generationId < 0) return;
    const group = this.groups.get(gm.groupId);
    if (!group?.members.some((m) => m.id === gm.memberId)) {
      throw kafkaError(ErrorCodes.KAFKA_STALE_MEMBER, `member ${gm.memberId} is not in group ${gm.groupId} (UNKNOWN_MEMBER_ID)`);
    }
    if (group.generation !== gm.generationId) {
      throw kafkaError(
        ErrorCodes.KAFKA_STALE_MEMBER,
        `generation ${gm.generationId} of group ${gm.groupId} is stale, the group is at ${group.generation} (ILLEGAL_GENERATION)`,
      );
    }
  }

  nextMemberId(clientId: string): string {
    this.memberSeq += 1;
    return `${clientId}-member-${this.memberSeq}`;
  }

  /** Join, leave and topic creation end here: revocations are awaited before anything is reassigned. */
  async rebalanceLocked(group: Group): Promise<void> {
    group.generation += 1;
    const targets = new Map<string, Map<string, Set<number>>>(group.members.map((m) => [m.id, new Map()]));
    const topics = new Set(group.members.flatMap((m) => m.topics));
    for (const topic of topics) {
      const count = this.partitionCount(topic) ?? 0;
      const subscribers = group.members.filter((m) => m.topics.includes(topic));
      for (const [memberId, ps] of assignTopic(count, subscribers, topic)) targets.get(memberId)!.set(topic, new Set(ps));
    }
    const cooperative = this.capabilities.cooperativeRebalance;
    for (const m of group.members) m.consumer.learnGeneration(group.generation);
    const lostOf = (m: Member) => {
      const target = targets.get(m.id)!;
      const lost = new Map<string, Set<number>>();
      for (const [topic, ps] of m.owned) {
        const gone = new Set([...ps].filter((p) => !target.get(topic)?.has(p)));
        if (gone.size > 0) lost.set(topic, gone);
      }
      return lost;
    };
    const addedOf = (m: Member) => {
      const added = new Map<string, Set<number>>();
      for (const [topic, ps] of targets.get(m.id)!) {
        const fresh = new Set([...ps].filter((p) => !m.owned.get(topic)?.has(p)));
        if (fresh.size > 0) added.set(topic, fresh);
      }
      return added;
    };
    if (this.capabilities.revokeBeforeReassign) {
      // 1. Revoke — the moving partitions (cooperative) or all (eager) — every member before any assignment.
      await Promise.all(
        group.members.map(async (m) => {
          const revoked = cooperative ? lostOf(m) : new Map([...m.owned].map(([t, ps]) => [t, new Set(ps)]));
          if (revoked.size > 0) await m.consumer.revoke(revoked);
        }),
      );
      // 2. Assign: positions start at the committed offsets as they are after the revocations.
      await Promise.all(group.members.map((m) => m.consumer.assign(addedOf(m), targets.get(m.id)!, group)));
      return;
    }
    // Revocation learnt after the join: the new owners start first (eager: every partition is
    // re-initialised), then the old owners are told what they lost.
    const lost = new Map(group.members.map((m) => [m.id, lostOf(m)]));
    await Promise.all(
      group.members.map((m) => {
        const added = cooperative ? addedOf(m) : new Map([...targets.get(m.id)!].map(([t, ps]) => [t, new Set(ps)]));
        return m.consumer.assign(added, targets.get(m.id)!, group);
      }),
    );
    await Promise.all(group.members.map((m) => (lost.get(m.id)!.size > 0 ? m.consumer.revoke(lost.get(m.id)!) : undefined)));
  }
}

class MemoryClient implements KafkaClient {
  readonly capabilities: KafkaCapabilities;

  constructor(private readonly cluster: MemoryKafka) {
    this.capabilities = cluster.capabilities;
  }

  async admin(): Promise<KafkaAdmin> {
    const c = this.cluster;
    return {
      async ensureTopics(specs) {
        const created: string[] = [];
        for (const s of specs) if (c.createTopic(s)) created.push(s.name);
        return { created };
      },
      listTopics: async () => c.topicNames(),
      async deleteTopics(names) {
        for (const n of names) c.deleteTopic(n);
      },
      async partitionCount(topic) {
        const n = c.partitionCount(topic);
        if (n === undefined) throw kafkaError(ErrorCodes.KAFKA_UNKNOWN_TOPIC, `unknown topic ${topic}`);
        return n;
      },
      async watermarks(topic) {
        const n = c.partitionCount(topic);
        if (n === undefined) throw kafkaError(ErrorCodes.KAFKA_UNKNOWN_TOPIC, `unknown topic ${topic}`);
        return Array.from({ length: n }, (_, p) => ({ partition: p, low: '0', high: String(c.log(topic, p).end) }));
      },
      async groupOffsets(groupId, topic, options = {}) {
        while (options.requireStable && c.pendingOffsets(groupId, topic)) await c.changed(100);
        const n = c.partitionCount(topic) ?? 0;
        const g = c.existingGroup(groupId);
        return Array.from({ length: n }, (_, p) => ({ partition: p, offset: String(g?.committed.get(tpKey(topic, p)) ?? -1) }));
      },
      async setGroupOffsets(groupId, positions) {
        const g = c.group(groupId);
        if (g.members.length > 0)
          throw kafkaError(ErrorCodes.KAFKA_GROUP_NOT_EMPTY, `group ${groupId} has active members; stop them before setting its offsets`);
        for (const p of positions) g.committed.set(tpKey(p.topic, p.partition), Number(p.offset));
      },
      listGroups: async () => c.groupIds(),
      async describeGroup(groupId): Promise<GroupDescription> {
        const g = c.existingGroup(groupId);
        if (!g || (g.members.length === 0 && g.committed.size === 0)) return { groupId, state: 'Dead', members: [] };
        return {
          groupId,
          state: g.members.length > 0 ? 'Stable' : 'Empty',
          members: g.members.map((m) => ({ memberId: m.id, clientId: m.consumer.clientId, assignment: toAssignment(m.owned) })),
        };
      },
      async deleteGroups(ids) {
        for (const id of ids) c.deleteGroup(id);
      },
      close: async () => {},
    };
  }

  async readPartitions(
    topic: string,
    ranges: PartitionRange[],
    onRecords: (records: ConsumedRecord[]) => Promise<void> | void,
    options: { openTransactionWaitMs?: number } = {},
  ): Promise<ReadResult[]> {
    const c = this.cluster;
    const waitMs = options.openTransactionWaitMs ?? OPEN_TRANSACTION_WAIT_MS;
    const state = ranges.map((r) => {
      const log = c.log(topic, r.partition);
      return { log, partition: r.partition, next: Number(r.from), until: r.until === undefined ? log.end : Number(r.until), records: 0 };
    });
    for (const s of state) {
      let lastProgress = Date.now();
      while (s.next < s.until) {
        const { records, covered } = s.log.read(s.next, Math.min(s.until, s.log.stableEnd), c.maxBatchRecords);
        if (covered > s.next) {
          s.next = covered;
          lastProgress = Date.now();
          s.records += records.length;
          if (records.length > 0) await onRecords(records);
          continue;
        }
        // Blocked by an open transaction below the end: wait for it, as a read_committed fetch does.
        if (Date.now() - lastProgress > waitMs) throw openTransactionError(topic, s.partition, String(s.log.stableEnd), String(s.until), waitMs);
        await c.changed(Math.max(10, waitMs - (Date.now() - lastProgress)));
      }
    }
    return state.map((s) => ({ partition: s.partition, until: String(s.until), records: s.records }));
  }

  async producer(): Promise<RecordProducer> {
    const c = this.cluster;
    let closed = false;
    let queue: Promise<unknown> = Promise.resolve();
    return {
      send(records) {
        const turn = queue.then(async () => {
          if (closed) throw kafkaError(ErrorCodes.KAFKA, 'producer is closed');
          const logs = records.map((r) => c.resolvePartition(r)); // all or nothing: validate first
          const first = new Map<PartitionLog, number>();
          for (const [i, r] of records.entries()) {
            const log = logs[i]!;
            const offset = log.append(r, undefined, log.partition);
            if (!first.has(log)) first.set(log, offset);
          }
          c.notify();
          return [...first].map(([log, offset]) => ({ topic: log.topic, partition: log.partition, offset: String(offset) }));
        });
        queue = turn.catch(() => undefined);
        return turn;
      },
      close: async () => {
        closed = true;
      },
    };
  }

  async transactionalProducer(transactionalId: string, options: { transactionTimeoutMs?: number } = {}): Promise<TransactionalProducer> {
    const c = this.cluster;
    const timeoutMs = options.transactionTimeoutMs ?? 60_000;
    const epoch = c.initTransactions(transactionalId);
    let closed = false;
    let queue: Promise<unknown> = Promise.resolve();
    const checkFenced = () => {
      if (closed) throw kafkaError(ErrorCodes.KAFKA, `transactional producer ${transactionalId} is closed`);
      if (c.currentEpoch(transactionalId) !== epoch) {
        throw kafkaError(ErrorCodes.KAFKA_FENCED, `producer ${transactionalId} (epoch ${epoch}) was fenced by a newer producer with the same transactional id`);
      }
    };
    return {
      transactionalId,
      transact<T>(work: (tx: RecordTransaction) => Promise<T>): Promise<T> {
        const run = queue.then(async () => {
          checkFenced();
          const txn = c.beginTxn(transactionalId);
          // As the coordinator does: a transaction open too long is aborted and its producer fenced.
          const expiry = setTimeout(() => {
            if (txn.status === 'open' && c.currentEpoch(transactionalId) === epoch) c.initTransactions(transactionalId);
          }, timeoutMs);
          expiry.unref();
          const tx: RecordTransaction = {
            async send(records) {
              checkFenced();
              const logs = records.map((r) => c.resolvePartition(r));
              for (const [i, r] of records.entries()) logs[i]!.append(r, txn, logs[i]!.partition);
            },
            async commitConsumed(group, next) {
              checkFenced();
              c.checkGroupMetadata(group);
              txn.offsets.push({ groupId: group.groupId, positions: next.map((p) => ({ ...p })) });
            },
          };
          let result: T;
          try {
            result = await work(tx);
            checkFenced(); // a newer epoch aborted this transaction meanwhile
          } catch (err) {
            clearTimeout(expiry);
            c.endTxn(transactionalId, txn, 'aborted');
            throw err;
          }
          clearTimeout(expiry);
          c.endTxn(transactionalId, txn, 'committed');
          return result;
        });
        queue = run.catch(() => undefined);
        return run;
      },
      close: async () => {
        closed = true;
      },
    };
  }

  async consumer(options: ConsumerOptions): Promise<RecordConsumer> {
    return new MemoryConsumer(this.cluster, options, `memory-${options.groupId}`);
  }
}

interface Owned {
  topic: string;
  partition: number;
  /** Bumped on every (re)assignment: a batch started under an older one is stale. */
  epoch: number;
}

class MemoryConsumer implements RecordConsumer {
  private member?: Member;
  private group: Group;
  private generation = -1;
  private handler?: (batch: RecordBatch) => Promise<void>;
  private state: 'created' | 'running' | 'closing' | 'closed' = 'created';
  private readonly owned = new Map<string, Owned>();
  private readonly positions = new Map<string, number>();
  private readonly marked = new Map<string, number>();
  private readonly paused = new Set<string>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly retryAt = new Map<string, number>();
  private ownershipSeq = 0;
  private unwatch?: () => void;
  private scheduled = false;
  private rejoining = false;

  constructor(
    private readonly cluster: MemoryKafka,
    private readonly options: ConsumerOptions,
    readonly clientId: string,
  ) {
    this.group = cluster.group(options.groupId);
  }

  async run(handler: (batch: RecordBatch) => Promise<void>): Promise<void> {
    if (this.state !== 'created') throw kafkaError(ErrorCodes.KAFKA, 'consumer already running');
    this.handler = handler;
    this.state = 'running';
    this.unwatch = this.cluster.watch(() => this.kick());
    await this.join();
    this.kick();
  }

  private async join(): Promise<void> {
    const member: Member = { id: this.cluster.nextMemberId(this.clientId), consumer: this, topics: [...this.options.topics], owned: new Map() };
    this.member = member;
    await this.group.enqueue(async () => {
      this.group.members.push(member);
      await this.cluster.rebalanceLocked(this.group);
    });
  }

  assignment(): Assignment {
    return this.member ? toAssignment(this.member.owned) : {};
  }

  groupMetadata(): GroupMetadata {
    return { groupId: this.options.groupId, generationId: this.generation, memberId: this.member?.id ?? '' };
  }

  learnGeneration(generation: number): void {
    this.generation = generation;
  }

  /** Called by the group's rebalance; awaited before the partitions go elsewhere. */
  async revoke(revoked: Map<string, Set<number>>): Promise<void> {
    const m = this.member!;
    for (const [topic, ps] of revoked) {
      for (const p of ps) {
        m.owned.get(topic)?.delete(p);
        const key = tpKey(topic, p);
        this.owned.delete(key);
        this.positions.delete(key);
        this.marked.delete(key);
      }
      if (m.owned.get(topic)?.size === 0) m.owned.delete(topic);
    }
    await this.callListener('revoked', flatten(revoked));
  }

  async assign(added: Map<string, Set<number>>, target: Map<string, Set<number>>, group: Group): Promise<void> {
    const m = this.member!;
    m.owned = new Map([...target].map(([t, ps]) => [t, new Set(ps)]));
    for (const [topic, ps] of added) {
      for (const p of ps) {
        const key = tpKey(topic, p);
        this.ownershipSeq += 1;
        this.owned.set(key, { topic, partition: p, epoch: this.ownershipSeq });
        const committed = group.committed.get(key);
        const start = committed !== undefined && committed >= 0 ? committed : this.options.fromBeginning === false ? this.cluster.log(topic, p).end : 0;
        this.positions.set(key, start);
        this.retryAt.delete(key);
      }
    }
    await this.callListener('assigned', flatten(added));
    this.kick();
  }

  private async callListener(which: 'assigned' | 'revoked', partitions: TopicPartition[]): Promise<void> {
    const listener = this.options.rebalance?.[which];
    if (!listener) return;
    try {
      await listener(partitions, this.assignment());
    } catch (err) {
      this.cluster.reportError(err, `rebalance listener ${which}`);
    }
  }

  async commitOffsets(positions: RecordPosition[]): Promise<void> {
    if (!this.member || !this.group.members.includes(this.member)) {
      throw kafkaError(ErrorCodes.KAFKA_STALE_MEMBER, `consumer is not a member of group ${this.options.groupId}; commit refused`);
    }
    for (const p of positions) this.group.committed.set(tpKey(p.topic, p.partition), Number(p.offset));
  }

  pause(topic: string, partitions?: number[]): void {
    for (const p of partitions ?? Array.from({ length: this.cluster.partitionCount(topic) ?? 0 }, (_, i) => i)) this.paused.add(tpKey(topic, p));
  }

  resume(topic: string, partitions?: number[]): void {
    for (const key of [...this.paused]) {
      const [t, p] = key.split('\u0000') as [string, string];
      if (t === topic && (partitions === undefined || partitions.includes(Number(p)))) this.paused.delete(key);
    }
    this.kick();
  }

  seek(position: RecordPosition): void {
    const key = tpKey(position.topic, position.partition);
    if (!this.owned.has(key)) throw kafkaError(ErrorCodes.KAFKA, `cannot seek ${position.topic}[${position.partition}]: not assigned to this consumer`);
    this.positions.set(key, Number(position.offset));
    this.retryAt.delete(key);
    this.kick();
  }

  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    const wasRunning = this.state === 'running';
    this.state = 'closing';
    this.unwatch?.();
    await Promise.all([...this.inflight.values()]);
    const member = this.member;
    if (wasRunning && member) {
      await this.group.enqueue(async () => {
        if (!this.group.members.includes(member)) return;
        await this.revoke(new Map([...member.owned].map(([t, ps]) => [t, new Set(ps)])));
        this.group.members = this.group.members.filter((m) => m !== member);
        if (this.group.members.length > 0) await this.cluster.rebalanceLocked(this.group);
      });
    }
    this.state = 'closed';
  }

  private kick(): void {
    if (this.scheduled || this.state !== 'running') return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Starts a batch for every owned, unpaused partition with deliverable data, up to the concurrency. */
  private pump(): void {
    if (this.state !== 'running' || this.rejoining) return;
    const member = this.member;
    if (member && !this.group.members.includes(member)) {
      void this.rejoinAfterExpiry();
      return;
    }
    const concurrency = this.options.partitionsConsumedConcurrently ?? 1;
    const now = Date.now();
    let nextRetry = Number.POSITIVE_INFINITY;
    for (const [key, own] of this.owned) {
      if (this.inflight.size >= concurrency) break;
      if (this.inflight.has(key) || this.paused.has(key)) continue;
      const retryAt = this.retryAt.get(key) ?? 0;
      if (retryAt > now) {
        nextRetry = Math.min(nextRetry, retryAt);
        continue;
      }
      let log: PartitionLog;
      try {
        log = this.cluster.log(own.topic, own.partition);
      } catch {
        continue; // topic deleted
      }
      const from = this.positions.get(key) ?? 0;
      const { records, covered } = log.read(from, log.stableEnd, this.cluster.maxBatchRecords);
      if (covered === from) continue;
      if (records.length === 0) {
        this.positions.set(key, covered); // only markers and aborted data: nothing to deliver
        continue;
      }
      const work = this.deliver(key, own, log, records, covered).finally(() => {
        this.inflight.delete(key);
        this.kick();
      });
      this.inflight.set(key, work);
    }
    if (nextRetry !== Number.POSITIVE_INFINITY) setTimeout(() => this.kick(), Math.max(1, nextRetry - now));
  }

  private async deliver(key: string, own: Owned, log: PartitionLog, records: ConsumedRecord[], covered: number): Promise<void> {
    const stillOwned = () => this.state === 'running' && this.owned.get(key)?.epoch === own.epoch;
    const batch: RecordBatch = {
      topic: own.topic,
      partition: own.partition,
      records,
      highWatermark: String(log.end),
      lastOffset: String(covered - 1),
      stillOwned,
      heartbeat: async () => {},
      markProcessed: (offset) => {
        if (!stillOwned()) return;
        const next = Number(offset) + 1;
        if (next > (this.positions.get(key) ?? 0)) this.positions.set(key, next);
        this.marked.set(key, next);
      },
    };
    try {
      await this.handler!(batch);
      if (this.options.commitMarked && stillOwned()) {
        const next = this.marked.get(key);
        if (next !== undefined) await this.commitOffsets([{ topic: own.topic, partition: own.partition, offset: String(next) }]);
      }
    } catch (err) {
      this.cluster.reportError(err, `batch ${own.topic}[${own.partition}]`);
      // Re-delivered from the last processed offset, as a client's fetch loop does after a failed batch.
      this.retryAt.set(key, Date.now() + 50);
    }
  }

  /** The session expired while this consumer was away: its partitions are lost (listener told), then it rejoins. */
  private async rejoinAfterExpiry(): Promise<void> {
    this.rejoining = true;
    try {
      await Promise.all([...this.inflight.values()]);
      const member = this.member!;
      const lost = new Map([...member.owned].map(([t, ps]) => [t, new Set(ps)]));
      if (lost.size > 0) await this.revoke(lost);
      if (this.state === 'running') await this.join();
    } finally {
      this.rejoining = false;
      this.kick();
    }
  }
}

/** A cluster and a client of it, for tests and for running services without a broker. */
export function createMemoryKafka(options: MemoryKafkaOptions = {}): { cluster: MemoryKafka; client: KafkaClient } {
  const cluster = new MemoryKafka(options);
  return { cluster, client: cluster.client() };
}
