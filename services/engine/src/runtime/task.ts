/**
 * One owned input partition: its store and its part of the instance's transaction (changelog
 * writes + decisions + dead letters + consumed offset, all or nothing; see commit.ts).
 *
 * State is changed in the store while a batch is applied and only becomes durable with the
 * commit: first the Kafka transaction, then (persistent store) the store's own write with the
 * changelog offset it reflects. If the transaction fails for any reason the task is released (its
 * uncommitted state discarded) and the batch re-delivered; the next task for the partition restores
 * from what the store made durable and the changelog after it, which hold exactly what was committed.
 */
import {
  type ConsumedRecord,
  type CustomerEvent,
  customerEventNames,
  type Decision,
  deadLetterRecord,
  ErrorCodes,
  errorMessage,
  type KafkaAdmin,
  type KafkaClient,
  type Logger,
  NextActError,
  type OutgoingRecord,
  type RecordBatch,
  type RecordCodec,
  type TopicNames,
} from '@nextact/core';
import type { DecisionDomain } from '../domain';
import type { ChangelogCodec } from './changelog';
import type { Contribution } from './commit';
import { StaleBatchError, TaskReleasedError } from './errors';
import { type EngineMetrics, gateResults } from './metrics';
import { type BatchEffects, emptyEffects, Processor } from './processor';
import { encodeStreamTime, isReservedKey, LEARNER_KEY, PartitionStore, STREAM_TIME_KEY, TIMER_HEADER, timerHeader } from './store';
import type { PartitionState } from './stores';

export interface TaskContext<J, L> {
  kafka: KafkaClient;
  admin: KafkaAdmin;
  codec: RecordCodec;
  domain: DecisionDomain<J, L>;
  logger: Logger;
  metrics: EngineMetrics;
  groupId: string;
  topics: TopicNames;
  /** Journey and learner values as the changelog carries them (registry-framed). */
  changelog: ChangelogCodec<J, L>;
  /** Opens the partition's state on the configured store (ENGINE_STORE). */
  openState(partition: number): Promise<PartitionState<J>>;
  /** Least time between moves of a persistent store's changelog offset (each costs a watermark read). */
  checkpointIntervalMs: number;
  /** Adds this task's results to the instance's transaction (commit.ts); resolves once it committed. */
  commit: (c: Contribution) => Promise<void>;
}

export type DeadLetterReason = 'decode-failed' | 'unknown-record' | 'key-mismatch' | 'reserved-key' | 'processing-failed' | 'decision-invalid';

type Item = { record: ConsumedRecord; event: CustomerEvent } | { record: ConsumedRecord; dead: DeadLetterReason; error: string };

const eventNames = new Set<string>(customerEventNames);

export class PartitionTask<J, L> {
  private opened?: { store: PartitionStore<J, L>; processor: Processor<J, L> };
  private readonly log: Logger;
  /** Next input offset to process: everything below is reflected in the store. */
  private next = 0n;
  /**
   * The changelog offset a persistent store records with its contents: everything below it is in
   * the store. It is the changelog's end read before a transaction of ours that then committed
   * (see docs/stores.md), or the end the restore reached.
   */
  private safeChangelogOffset = '0';
  private candidateChangelogOffset?: string;
  private lastCheckpointAt = Date.now();
  /** Wall clock of the last input record applied (for idle stream-time advance). */
  private lastInputAt = Date.now();
  private chain: Promise<unknown> = Promise.resolve();
  private state: 'opening' | 'ready' | 'released' = 'opening';
  private releaseReason = '';
  onReleased: (task: PartitionTask<J, L>, reason: string) => void = () => {};

  constructor(
    private readonly ctx: TaskContext<J, L>,
    readonly partition: number,
  ) {
    this.log = ctx.logger.child({ partition });
  }

  /** The partition's store (once opened). */
  get store(): PartitionStore<J, L> {
    if (!this.opened) throw new TaskReleasedError(this.partition, 'store not open');
    return this.opened.store;
  }

  get storeOpen(): boolean {
    return this.opened !== undefined && this.state !== 'released';
  }

  private get processor(): Processor<J, L> {
    return this.opened!.processor;
  }

  /** Step 1 of opening: the store as the previous task of this partition left it durable (persistent) or empty. */
  async openStore(): Promise<void> {
    const state = await this.ctx.openState(this.partition);
    if (this.state === 'released') {
      await state.close();
      return;
    }
    const store = new PartitionStore(this.ctx.domain, state, this.ctx.changelog);
    this.opened = {
      store,
      processor: new Processor(this.ctx.domain, store, (customerId, err) => this.log.error('timer failed; timer dropped', { customerId, err })),
    };
  }

  get nextOffset(): string {
    return this.next.toString();
  }

  get released(): boolean {
    return this.state === 'released';
  }

  /** This partition's results as its part of the instance's transaction. */
  private async commitResults(records: OutgoingRecord[], next: string | undefined, stillOwned: () => boolean, contributed?: () => void): Promise<void> {
    const { ctx } = this;
    const position = next === undefined ? undefined : { topic: ctx.topics.customerEvents, partition: this.partition, offset: next };
    if (!stillOwned()) throw new StaleBatchError(this.partition);
    const committed = ctx.commit({ partition: this.partition, records, next: position });
    contributed?.();
    await committed;
  }

  /** Step 3 (after restore): the store reflects the changelog up to `changelogUntil`; `committedNext` is the group's position. */
  markRestored(changelogUntil: string, committedNext: string): void {
    this.safeChangelogOffset = changelogUntil;
    const n = BigInt(committedNext);
    this.next = n > 0n ? n : 0n;
    this.lastCheckpointAt = Date.now();
    if (this.state === 'opening') this.state = 'ready';
    this.ctx.metrics.stateJourneys.set({ partition: String(this.partition) }, this.store.size);
  }

  /**
   * Processes one batch in one transaction. Serialised with release. `contributed` is called once
   * the batch is part of the open transaction (the committer may then commit it early).
   */
  process(batch: RecordBatch, contributed?: () => void): Promise<void> {
    return this.exclusive(() => this.processLocked(batch, contributed));
  }

  /**
   * Wall-clock punctuation (ENGINE_IDLE_ADVANCE_MS): after `idleMs` without input, stream time moves
   * to `now - idleMs` when a timer is due by then, and the timers fire in a transaction of their own
   * (changelog + decisions, no input offset). Serialised with batches and release.
   */
  advanceIdle(now: number, idleMs: number): Promise<void> {
    return this.exclusive(() => this.advanceIdleLocked(now, idleMs));
  }

  /** Gives the partition up: the store closes, dropping what no transaction committed. */
  release(reason: string): Promise<void> {
    return this.exclusive(() => this.releaseLocked(reason));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => {});
    return run;
  }

  private async releaseLocked(reason: string): Promise<void> {
    if (this.state === 'released') return;
    this.state = 'released';
    this.releaseReason = reason;
    const journeys = this.opened?.store.size;
    await this.opened?.store.close().catch((err) => this.log.warn('store close failed', { err }));
    this.ctx.metrics.dropPartition(this.partition);
    this.log.info('partition released', { reason, nextOffset: this.nextOffset, journeys });
    this.onReleased(this, reason);
  }

  private async advanceIdleLocked(now: number, idleMs: number): Promise<void> {
    if (this.state !== 'ready' || now - this.lastInputAt < idleMs) return;
    const target = now - idleMs;
    const due = this.store.timers.nextDue();
    // Only when something fires: an idle partition must not write a transaction per tick.
    if (due === undefined || due > target || target <= this.store.streamTime) return;
    this.store.streamTime = target;
    const fx = emptyEffects();
    fx.streamTimeChanged = true;
    this.processor.fireDue({ decisionTime: now, triggerTimestamp: now }, fx);
    const out = this.outgoing(fx, []);
    try {
      await this.commitResults(out.records, undefined, () => true);
    } catch (err) {
      this.log.warn('idle timer transaction aborted; state discarded', { streamTime: target, err });
      await this.releaseLocked('transaction aborted');
      throw err;
    }
    this.persist();
    this.log.debug('stream time advanced on an idle partition', { streamTime: target, timersFired: fx.timersFired });
    this.recordMetrics(fx, out.decisions, [], new Map(), Date.now());
  }

  private async processLocked(batch: RecordBatch, contributed?: () => void): Promise<void> {
    if (this.state !== 'ready') throw new TaskReleasedError(this.partition, this.releaseReason || this.state);
    const { ctx } = this;
    const last = batch.records.at(-1);
    // Records below the committed position were already applied: a previous owner committed them
    // after our consumer fetched its positions. Still needed with KIP-447: the default adapter
    // (platformatic) reads a new assignment's fetch positions without require_stable, so they can
    // predate the previous owner's last transaction; the task's position is read stable (engine.ts).
    const fresh = batch.records.filter((r) => BigInt(r.offset) >= this.next);
    if (!last || fresh.length === 0) {
      if (last) batch.markProcessed(last.offset);
      return;
    }

    // 1. Decode everything before touching state: a registry outage throws here and leaves the store clean.
    const items: Item[] = [];
    for (const r of fresh) items.push(await this.decode(r));
    if (!batch.stillOwned()) {
      await this.releaseLocked('stale batch');
      throw new StaleBatchError(this.partition);
    }
    if (this.store.state.kind !== 'memory' && this.candidateChangelogOffset === undefined && this.checkpointDue()) {
      const mark = (await ctx.admin.watermarks(ctx.topics.journeyChangelog)).find((w) => w.partition === this.partition);
      this.candidateChangelogOffset = mark?.high;
    }

    // 2. Apply (mutates the store; discarded by release if the transaction fails).
    const decisionTime = Date.now();
    this.lastInputAt = decisionTime;
    const fx = emptyEffects();
    const dead: { record: ConsumedRecord; reason: DeadLetterReason; error: string }[] = [];
    const eventCounts = new Map<string, number>();
    for (const item of items) {
      if ('dead' in item) {
        dead.push({ record: item.record, reason: item.dead, error: item.error });
        continue;
      }
      try {
        this.processor.applyEvent(item.event, { decisionTime, triggerTimestamp: item.record.timestamp }, fx);
        eventCounts.set(item.event.name, (eventCounts.get(item.event.name) ?? 0) + 1);
      } catch (err) {
        this.log.error('domain failed on a record; sent to dead letters', { offset: item.record.offset, err });
        dead.push({ record: item.record, reason: 'processing-failed', error: errorMessage(err) });
      }
    }
    const out = this.outgoing(fx, dead);

    // 3. One transaction: changelog + decisions + dead letters + consumed offset.
    const nextOffset = (BigInt(last.offset) + 1n).toString();
    try {
      await this.commitResults(out.records, nextOffset, () => batch.stillOwned(), contributed);
    } catch (err) {
      this.log.warn('batch transaction aborted; state discarded, batch will be re-delivered', { firstOffset: fresh[0]!.offset, lastOffset: last.offset, err });
      await this.releaseLocked('transaction aborted');
      throw err;
    }

    // Committed: the store now matches the changelog, the decisions are visible, the offset moved.
    const committedAt = Date.now();
    this.next = BigInt(nextOffset);
    batch.markProcessed(last.offset);
    if (this.candidateChangelogOffset !== undefined) {
      this.safeChangelogOffset = this.candidateChangelogOffset;
      this.candidateChangelogOffset = undefined;
      this.lastCheckpointAt = committedAt;
    }
    this.persist();
    this.recordMetrics(fx, out.decisions, dead, eventCounts, committedAt);
  }

  private async decode(record: ConsumedRecord): Promise<Item> {
    let decoded: Awaited<ReturnType<RecordCodec['decode']>>;
    try {
      decoded = await this.ctx.codec.decode(record.value);
    } catch (err) {
      // Retriable (registry unreachable): fail the batch so it is retried, never dead-letter it.
      if (err instanceof NextActError && err.code === ErrorCodes.DECODE && !err.retriable) return { record, dead: 'decode-failed', error: err.message };
      throw err;
    }
    if (!eventNames.has(decoded.name)) return { record, dead: 'unknown-record', error: `${decoded.name} is not a customer event` };
    const event = { name: decoded.name, value: decoded.value } as CustomerEvent;
    const customerId = event.value.customerId;
    if (isReservedKey(customerId)) return { record, dead: 'reserved-key', error: `customer id ${customerId} is reserved by the engine` };
    // Co-partitioning needs key = customer id; state for another key's partition must not live here.
    if (record.key !== customerId) return { record, dead: 'key-mismatch', error: `record key ${JSON.stringify(record.key)} is not customerId ${customerId}` };
    return { record, event };
  }

  private outgoing(fx: BatchEffects, dead: { record: ConsumedRecord; reason: DeadLetterReason; error: string }[]) {
    const { ctx, partition } = this;
    const records: OutgoingRecord[] = [];
    // Changelog: the latest value of each key changed in this batch, on the co-partitioned partition.
    const journeys = this.store.journeys;
    for (const [id, journey] of journeys.changes()) {
      records.push(
        journey === undefined
          ? { topic: ctx.topics.journeyChangelog, key: id, partition, value: null }
          : {
              topic: ctx.topics.journeyChangelog,
              key: id,
              partition,
              value: ctx.changelog.journey(journey),
              headers: { [TIMER_HEADER]: timerHeader(this.store.timers.dueOf(id)) },
            },
      );
    }
    journeys.clearChanges();
    if (fx.learnerChanged) records.push({ topic: ctx.topics.journeyChangelog, key: LEARNER_KEY, partition, value: ctx.changelog.learner(this.store.learner) });
    if (fx.streamTimeChanged)
      records.push({ topic: ctx.topics.journeyChangelog, key: STREAM_TIME_KEY, partition, value: encodeStreamTime(this.store.streamTime) });

    const decisions: { decision: Decision; triggerTimestamp: number }[] = [];
    for (const emitted of fx.decisions) {
      const d = emitted.decision;
      let value: Buffer;
      try {
        value = ctx.codec.encode(ctx.topics.decisions, 'nextact.Decision', d);
      } catch (err) {
        this.log.error('decision does not encode; sent to dead letters', { decisionId: d.decisionId, err });
        dead.push({
          record: { topic: ctx.topics.decisions, partition, offset: '-1', key: d.customerId, value: Buffer.from(JSON.stringify(d)), headers: {}, timestamp: 0 },
          reason: 'decision-invalid',
          error: errorMessage(err),
        });
        continue;
      }
      decisions.push(emitted);
      records.push({
        topic: ctx.topics.decisions,
        key: d.customerId,
        partition,
        value,
        headers: { 'decision-id': d.decisionId, action: d.actionId, deliver: String(d.deliver), 'policy-version': d.policyVersion },
      });
    }
    for (const { record, reason, error } of dead) records.push(deadLetterRecord(ctx.topics.deadLetter, record, reason, error, ctx.groupId, partition));
    return { records, decisions };
  }

  private recordMetrics(
    fx: BatchEffects,
    decisions: { decision: Decision; triggerTimestamp: number }[],
    dead: { reason: DeadLetterReason }[],
    eventCounts: Map<string, number>,
    committedAt: number,
  ): void {
    const m = this.ctx.metrics;
    const p = String(this.partition);
    for (const [type, n] of eventCounts) m.events.inc({ type }, n);
    for (const { decision, triggerTimestamp } of decisions) {
      m.decisions.inc({ action: decision.actionId, arm: decision.experimentArm, deliver: String(decision.deliver) });
      for (const g of gateResults(decision.reasonCodes)) m.gateResults.inc(g);
      m.decisionLatency.observe(Math.max(0, committedAt - triggerTimestamp) / 1000);
    }
    for (const d of dead) m.deadLetters.inc({ reason: d.reason });
    if (fx.timersFired > 0) m.timersFired.inc(fx.timersFired);
    m.stateJourneys.set({ partition: p }, this.store.size);
  }

  private checkpointDue(): boolean {
    return Date.now() - this.lastCheckpointAt >= this.ctx.checkpointIntervalMs;
  }

  /**
   * After a committed transaction: a persistent store writes what changed with the safe changelog
   * offset. A failure here loses nothing (the changelog has it): the task is released and reopens
   * from what the store holds.
   */
  private persist(): void {
    try {
      this.store.commit(this.safeChangelogOffset);
    } catch (err) {
      this.log.error('store commit failed; the partition reopens from its store and the changelog', { err });
      void this.releaseLocked('store commit failed');
    }
  }
}
