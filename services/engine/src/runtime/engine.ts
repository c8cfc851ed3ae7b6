/**
 * Group membership and task lifecycle, driven by the port's rebalance listener: revoked partitions
 * are released (their pending transaction committed, their store closed) before the listener
 * returns, new ones are opened (stable committed offsets, then restore) before any of their events
 * are processed. Exactly-once is v2 only (commit.ts): one transactional producer per instance,
 * zombies fenced by KIP-447, so an adapter without `kip447` is refused at start.
 */
import { join } from 'node:path';
import {
  type DecodedRecord,
  ErrorCodes,
  errorCodeOf,
  errorMessage,
  type GroupMetadata,
  type KafkaAdmin,
  type KafkaCapabilities,
  type KafkaClient,
  LagPoller,
  type Logger,
  NextActError,
  type Readiness,
  type RecordBatch,
  type RecordCodec,
  type RecordConsumer,
  sleep,
  type TopicNames,
  type TopicPartition,
  topicNames,
} from '@nextact/core';
import type { DecisionDomain } from '../domain';
import { ChangelogCodec } from './changelog';
import { InstanceCommitter } from './commit';
import { isFenced } from './errors';
import { GlobalTable } from './global-table';
import type { EngineMetrics } from './metrics';
import { restorePartitions } from './restore';
import { openPartitionState, type StoreKind } from './stores';
import { PartitionTask, type TaskContext } from './task';

export interface EngineOptions<J, L> {
  kafka: KafkaClient;
  codec: RecordCodec;
  domain: DecisionDomain<J, L>;
  logger: Logger;
  metrics: EngineMetrics;
  topicPrefix: string;
  groupId: string;
  instanceId: string;
  /** Folder of the persistent stores (`<stateDir>/<group>/<partition>/`); needed by `store: 'lmdb'`. */
  stateDir?: string;
  /** The store implementation (ENGINE_STORE); default memory. */
  store?: StoreKind;
  /** lmdb: decoded journeys kept on the heap per partition. */
  storeCacheEntries?: number;
  /** Least time between moves of a persistent store's changelog offset. */
  checkpointIntervalMs: number;
  /** Partitions processed in parallel by this instance. */
  concurrency: number;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  /** Wait after a fenced transaction before reopening the partition (a rebalance usually arrives first). */
  fencedBackoffMs?: number;
  /** How often the group's consumer lag is read from the broker. */
  lagPollMs?: number;
  /** Wall-clock stream time for partitions without input this long (see PartitionTask.advanceIdle); undefined: off. */
  idleAdvanceMs?: number;
  /** v2: the shared transaction commits this often (default 100 ms)... */
  commitIntervalMs?: number;
  /** ...or once this many output records wait (default 5,000). */
  commitMaxRecords?: number;
}

/**
 * Exactly-once v2 needs KIP-447 (the offset commit carries the consumer's group metadata, so the
 * coordinator fences a zombie). Without it nothing would stop a zombie's late commit: refused.
 */
export function requireKip447(capabilities: KafkaCapabilities): void {
  if (capabilities.kip447) return;
  throw new NextActError(
    ErrorCodes.CONFIG_INVALID,
    `the engine runs exactly-once v2, which needs a Kafka client with KIP-447 (group-fenced transactional offset commits); KAFKA_CLIENT=${capabilities.adapter} lacks it, so zombies would not be fenced. Set KAFKA_CLIENT=platformatic (the default); the gateway, sink and simulator run on either client.`,
  );
}

interface Slot<J, L> {
  task: PartitionTask<J, L>;
  ready: Promise<void>;
  restored: boolean;
}

export interface EngineStatus {
  instanceId: string;
  groupId: string;
  joined: boolean;
  owned: number[];
  partitions: { partition: number; restored: boolean; journeys: number; nextOffset: string; streamTime: number }[];
}

export class Engine<J, L> {
  readonly topics: TopicNames;
  private readonly log: Logger;
  private consumer?: RecordConsumer;
  private admin?: KafkaAdmin;
  private lag?: LagPoller;
  private readonly slots = new Map<number, Slot<J, L>>();
  private owned = new Set<number>();
  private joined = false;
  private stopping = false;
  private readonly blockedUntil = new Map<number, number>();
  private idleTicker?: NodeJS.Timeout;
  /** Consecutive failed opens per partition (backoff of the retry). */
  private readonly openFailures = new Map<number, number>();
  /** The last failed open's error per partition (code and message), until an open succeeds. */
  private readonly openErrors = new Map<number, string>();
  private committer!: InstanceCommitter;
  private readonly changelog: ChangelogCodec<J, L>;
  /** The consumer's group metadata when the current assignment was learnt. */
  private assignedGroup?: GroupMetadata;
  /** Assignments and revocations, applied one at a time in the order the consumer reported them. */
  private rebalancing: Promise<void> = Promise.resolve();
  /** The domain's side inputs (global tables), loaded before the group is joined. */
  private sideInputs: GlobalTable<DecodedRecord>[] = [];

  constructor(private readonly options: EngineOptions<J, L>) {
    this.topics = topicNames(options.topicPrefix);
    this.changelog = new ChangelogCodec(
      options.domain,
      { codec: options.codec, topic: this.topics.journeyChangelog },
      { reuseEncoded: (options.store ?? 'memory') !== 'memory' },
    );
    this.log = options.logger.child({ component: 'engine', instance: options.instanceId, group: options.groupId });
  }

  async start(): Promise<void> {
    const o = this.options;
    // Before anything starts: an unsafe combination is refused, not run.
    requireKip447(o.kafka.capabilities);
    if ((o.store ?? 'memory') === 'lmdb' && !o.stateDir) {
      throw new NextActError(
        ErrorCodes.CONFIG_INVALID,
        'ENGINE_STORE=lmdb keeps its stores in ENGINE_STATE_DIR, which is off: set a folder, or ENGINE_STORE=memory',
      );
    }
    await this.changelog.register();
    this.admin = await o.kafka.admin();
    // The group's lag on every input partition, owned or not: any instance shows the whole group.
    this.lag = new LagPoller({
      admin: this.admin,
      groupId: o.groupId,
      topics: [this.topics.customerEvents],
      intervalMs: o.lagPollMs,
      logger: this.log,
      report: (_topic, partition, lag) => o.metrics.consumerLag.set({ partition: String(partition) }, lag),
    });
    this.lag.start();
    this.committer = new InstanceCommitter({
      kafka: o.kafka,
      transactionalId: `${o.groupId}-${o.instanceId}`,
      groupMetadata: () => this.commitGroupMetadata(),
      owns: (p) => this.owned.has(p),
      intervalMs: o.commitIntervalMs ?? 100,
      maxRecords: o.commitMaxRecords ?? 5_000,
      logger: this.log,
      metrics: o.metrics,
    });
    await this.committer.start();
    this.log.info('exactly-once v2', { adapter: o.kafka.capabilities.adapter });
    await this.startSideInputs();
    o.metrics.refreshLag = () => this.lag?.refresh() ?? Promise.resolve();
    const consumer = await o.kafka.consumer({
      groupId: o.groupId,
      topics: [this.topics.customerEvents],
      fromBeginning: true,
      commitMarked: false,
      partitionsConsumedConcurrently: o.concurrency,
      sessionTimeoutMs: o.sessionTimeoutMs,
      maxBytesPerPartition: o.maxBytesPerPartition,
      rebalance: {
        assigned: (_added, assignment) => this.onAssigned(assignment),
        revoked: (partitions) => this.onRevoked(partitions),
      },
    });
    this.consumer = consumer;
    // Resolves once the first assignment is known; batches then arrive on the consumer's fetch loop.
    await consumer.run((batch) => this.handle(batch));
    const idleMs = o.idleAdvanceMs;
    if (idleMs !== undefined) {
      this.idleTicker = setInterval(() => this.advanceIdle(idleMs), Math.min(1_000, idleMs / 4));
      this.idleTicker.unref();
    }
    this.log.info('engine started', { input: this.topics.customerEvents, concurrency: o.concurrency });
  }

  readiness = (): Readiness => {
    if (this.stopping) return { ready: false, reason: 'stopping' };
    if (!this.joined) return { ready: false, reason: 'consumer has not joined its group yet' };
    const pending = [...this.owned].filter((p) => !this.slots.get(p)?.restored).sort((a, b) => a - b);
    // Why an open keeps failing (a full disk, an unreachable changelog) is what an operator needs.
    const failed = pending.filter((p) => this.openErrors.has(p)).map((p) => `partition ${p}: ${this.openErrors.get(p)}`);
    if (pending.length > 0)
      return { ready: false, reason: `restoring partitions ${pending.join(', ')}${failed.length > 0 ? `; opening failed: ${failed.join('; ')}` : ''}` };
    return { ready: true };
  };

  status(): EngineStatus {
    return {
      instanceId: this.options.instanceId,
      groupId: this.options.groupId,
      joined: this.joined,
      owned: [...this.owned].sort((a, b) => a - b),
      partitions: [...this.slots]
        .sort(([a], [b]) => a - b)
        .map(([partition, s]) => ({
          partition,
          restored: s.restored,
          journeys: s.restored && s.task.storeOpen ? s.task.store.size : 0,
          nextOffset: s.task.nextOffset,
          streamTime: s.restored && s.task.storeOpen ? s.task.store.streamTime : 0,
        })),
    };
  }

  /** Live store of an owned partition (tests and diagnostics). */
  storeOf(partition: number) {
    const slot = this.slots.get(partition);
    return slot?.restored && slot.task.storeOpen ? slot.task.store : undefined;
  }

  /** Graceful: the current batches finish, then every partition is released (its store closed). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info('engine stopping');
    clearInterval(this.idleTicker);
    await this.consumer?.close().catch((err) => this.log.warn('consumer close failed', { err }));
    for (const table of this.sideInputs) table.close();
    await Promise.all([...this.slots].map(([p, slot]) => this.releaseSlot(p, slot, 'shutdown')));
    await this.committer?.close(); // undefined when start was refused
    await this.lag?.stop();
    await this.admin?.close().catch(() => {});
    this.options.metrics.ownedPartitions.set(0);
    this.log.info('engine stopped');
  }

  private advanceIdle(idleMs: number): void {
    if (this.stopping) return;
    const now = Date.now();
    for (const slot of this.slots.values()) {
      if (!slot.restored || slot.task.released) continue;
      // A failed transaction releases the task, which reopens itself (see open).
      slot.task.advanceIdle(now, idleMs).catch((err) => this.log.warn('idle timer advance failed', { partition: slot.task.partition, err }));
    }
  }

  /**
   * What v2's offset commit carries. Where revocation is learnt only after the rejoin, the member's
   * generation can move before this instance knows which partitions it lost: committing under the
   * generation of the assignment the work was done for makes the coordinator refuse it then, instead
   * of accepting offsets of a partition that already moved. Where `revoked` runs before
   * reassignment (Java's listener semantics), the current metadata is right.
   */
  private commitGroupMetadata(): GroupMetadata {
    const current = this.consumer!.groupMetadata();
    if (this.options.kafka.capabilities.revokeBeforeReassign) return current;
    return this.assignedGroup ?? current;
  }

  /** Revoked partitions are given up before the listener returns: their pending transaction committed, their stores closed. */
  private onRevoked(partitions: TopicPartition[]): Promise<void> {
    const run = this.rebalancing.then(async () => {
      const gone = partitions.filter((tp) => tp.topic === this.topics.customerEvents).map((tp) => tp.partition);
      // v2: what the revoked partitions processed commits now, before another member gets them.
      if (gone.length > 0) void this.committer.flush();
      for (const p of gone) this.owned.delete(p);
      this.options.metrics.ownedPartitions.set(this.owned.size);
      if (gone.length > 0) this.log.info('partitions revoked', { partitions: gone });
      await Promise.all(
        gone.map((p) => {
          const slot = this.slots.get(p);
          return slot ? this.releaseSlot(p, slot, this.stopping ? 'shutdown' : 'revoked') : undefined;
        }),
      );
    });
    this.rebalancing = run.catch((err) => this.log.error('revocation failed', { err }));
    return run;
  }

  /** The member's whole assignment after a rebalance: what is not in it is released, what is new is opened. */
  private onAssigned(assignment: Record<string, number[]>): Promise<void> {
    const run = this.rebalancing.then(() => this.applyAssignment(assignment));
    this.rebalancing = run.catch((err) => this.log.error('assignment failed', { err }));
    return run;
  }

  private applyAssignment(assignment: Record<string, number[]>): void {
    if (this.stopping) return;
    const mine = new Set(assignment[this.topics.customerEvents] ?? []);
    this.assignedGroup = this.consumer?.groupMetadata();
    this.joined = true;
    this.owned = mine;
    this.blockedUntil.clear(); // the group says these are ours now
    this.options.metrics.ownedPartitions.set(mine.size);
    for (const [p, slot] of this.slots) if (!mine.has(p)) void this.releaseSlot(p, slot, 'revoked');
    const added = [...mine].filter((p) => !this.slots.has(p)).sort((a, b) => a - b);
    this.log.info('assignment', { partitions: [...mine].sort((a, b) => a - b), opening: added });
    if (added.length > 0) this.open(added);
  }

  private async releaseSlot(partition: number, slot: Slot<J, L>, reason: string): Promise<void> {
    if (this.slots.get(partition) === slot) this.slots.delete(partition);
    await slot.ready.catch(() => {});
    await slot.task.release(reason);
  }

  /** Opens tasks: their stores opened and the group's offsets read stable, then one restore pass over their changelog partitions. */
  private open(partitions: number[]): void {
    const o = this.options;
    const ctx: TaskContext<J, L> = {
      kafka: o.kafka,
      admin: this.admin!,
      codec: o.codec,
      domain: o.domain,
      logger: this.log,
      metrics: o.metrics,
      groupId: o.groupId,
      topics: this.topics,
      changelog: this.changelog,
      openState: (p) =>
        openPartitionState(
          { kind: o.store ?? 'memory', dir: o.stateDir ? join(o.stateDir, o.groupId) : undefined, cacheEntries: o.storeCacheEntries },
          p,
          this.changelog.journeyValues,
        ),
      checkpointIntervalMs: o.checkpointIntervalMs,
      commit: (c) => this.committer.contribute(c),
    };
    const tasks = partitions.map((p) => new PartitionTask(ctx, p));
    const ready = (async () => {
      await Promise.all(tasks.map((t) => t.openStore()));
      // A previous owner's transaction still holding offsets of these partitions must end first (it
      // commits or is aborted), so the committed offsets are read stable, before the restore.
      const committed = new Map(
        (await this.admin!.groupOffsets(o.groupId, this.topics.customerEvents, { requireStable: true })).map((g) => [g.partition, g.offset]),
      );
      const outcomes = await restorePartitions({
        kafka: o.kafka,
        admin: this.admin!,
        changelogTopic: this.topics.journeyChangelog,
        items: tasks.map((t) => ({ partition: t.partition, store: t.store })),
        logger: this.log,
        metrics: o.metrics,
      });
      for (const t of tasks) {
        const outcome = outcomes.find((x) => x.partition === t.partition)!;
        t.markRestored(outcome.until, committed.get(t.partition) ?? '0');
      }
    })();
    for (const task of tasks) {
      const slot: Slot<J, L> = { task, ready, restored: false };
      task.onReleased = (t) => {
        if (this.slots.get(t.partition)?.task === t) this.slots.delete(t.partition);
        this.reopenLater(t.partition);
      };
      this.slots.set(task.partition, slot);
      ready.then(
        () => {
          slot.restored = true;
          this.openFailures.delete(task.partition);
          this.openErrors.delete(task.partition);
        },
        async (err) => {
          const failures = (this.openFailures.get(task.partition) ?? 0) + 1;
          this.openFailures.set(task.partition, failures);
          this.openErrors.set(task.partition, `${errorCodeOf(err) ?? 'error'} ${errorMessage(err)}`.slice(0, 300));
          this.log.error('opening partition failed; retrying', { partition: task.partition, failures, err });
          if (this.slots.get(task.partition) === slot) this.slots.delete(task.partition);
          await task.release('open failed');
        },
      );
    }
  }

  /**
   * Reopens a partition this instance still owns after its task was released (a failed open or
   * transaction), on a timer rather than only on the partition's next batch: a partition without
   * input, or one whose engine is not ready yet so nobody sends input (right after topic creation
   * the changelog may have no leader), would otherwise stay closed. Backs off on repeated failed opens.
   */
  private reopenLater(partition: number): void {
    if (this.stopping || !this.owned.has(partition)) return;
    const delayMs = Math.min(10_000, 250 * 2 ** Math.min(this.openFailures.get(partition) ?? 0, 6));
    setTimeout(() => {
      const blocked = (this.blockedUntil.get(partition) ?? 0) > Date.now(); // fenced: the next batch handles it
      if (!this.stopping && this.owned.has(partition) && !this.slots.has(partition) && !blocked) this.open([partition]);
    }, delayMs).unref();
  }

  private async handle(batch: RecordBatch): Promise<void> {
    const p = batch.partition;
    if (this.stopping) return; // not processed, not marked: the next owner gets it
    if (this.joined && !this.owned.has(p)) return; // fetched before a rebalance took it away
    // Counted from the start (synchronously), so a batch handed out with others is waited for
    // before their transaction commits early; settled on every way out.
    let settle = this.committer.batchStarted();
    try {
      if (this.blockedUntil.has(p)) {
        settle(); // fenced backoff: seconds, which the other partitions' commits do not wait for
        await this.waitUnblocked(p);
        settle = this.committer.batchStarted();
      }
      if (this.stopping || (this.joined && !this.owned.has(p))) return;
      let slot = this.slots.get(p);
      if (!slot) {
        this.open([p]);
        slot = this.slots.get(p)!;
      }
      if (!slot.restored) {
        // A restore can take seconds: the other partitions' batches commit without waiting for it.
        settle();
        await slot.ready;
        settle = this.committer.batchStarted();
      }
      await slot.task.process(batch, settle);
    } catch (err) {
      if (isFenced(err)) {
        this.log.warn('fenced: another instance owns this partition now', { partition: p, code: errorCodeOf(err) });
        this.blockedUntil.set(p, Date.now() + (this.options.fencedBackoffMs ?? 5_000));
      }
      throw err;
    } finally {
      settle();
    }
  }

  /** Every side input of the domain read whole before any partition is processed, then followed. */
  private async startSideInputs(): Promise<void> {
    const o = this.options;
    this.sideInputs = (o.domain.sideInputs ?? []).map(
      (input) =>
        new GlobalTable<DecodedRecord>({
          kafka: o.kafka,
          admin: this.admin!,
          topic: input.topic(o.topicPrefix),
          name: input.name,
          metrics: o.metrics.globalTables,
          logger: this.log.child({ sideInput: input.name }),
          decode: (bytes) => o.codec.decode(bytes),
          apply: (r) => input.apply(r),
        }),
    );
    await Promise.all(this.sideInputs.map((t) => t.start()));
  }

  private async waitUnblocked(partition: number): Promise<void> {
    for (let until = this.blockedUntil.get(partition); until !== undefined && Date.now() < until; until = this.blockedUntil.get(partition)) {
      await sleep(Math.min(500, until - Date.now()));
      if (!this.owned.has(partition)) return;
    }
    this.blockedUntil.delete(partition);
  }
}
