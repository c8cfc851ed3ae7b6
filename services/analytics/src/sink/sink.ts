import {
  type ConsumedRecord,
  type DeadLetterReason,
  type DecodedRecord,
  deadLetterRecord,
  errorMessage,
  isRetriable,
  type KafkaAdmin,
  type KafkaClient,
  LagPoller,
  type Logger,
  nextOffset,
  type OutgoingRecord,
  type RecordBatch,
  type RecordCodec,
  type RecordConsumer,
  type RecordProducer,
  type RecordTypes,
  retry,
  type TopicNames,
} from '@nextact/core';
import type { ClickHouse } from '../store/clickhouse';
import type { DecisionRow, EventRow, SinkTable } from '../store/rows';
import { deleteCustomers, type ErasureSeen, erasedAmong, erasureSeen, lastState, recordErasures, recordState } from '../store/sink-state';
import { type Cut, PartitionBatcher } from './batcher';
import type { SinkMetrics } from './metrics';
import { decisionRow, eventRow, UnfitRecord } from './rows';

/**
 * Exactly-once Kafka -> ClickHouse, after the ClickHouse Kafka Connect sink's design:
 *   1. cut a batch per topic-partition offset range (max rows, or max wait);
 *   2. record it BEFORE in `sink_state`;
 *   3. insert with insert_deduplication_token = `<topic>/<partition>/<min>-<max>` (async_insert=0);
 *   4. record AFTER, then commit offset max + 1.
 * A crash anywhere leaves either BEFORE (re-form exactly [min, max] on restart and insert again
 * under the same token: ClickHouse drops the block if it already landed) or AFTER (skip through
 * max). Offsets are committed only after ClickHouse acknowledged, so nothing is skipped either.
 *
 * Erasure requests on the customer-events topic go the same way: after the batch's insert, their
 * records are written (same token family) and the customers' rows deleted; then any row of an
 * erased id in the batch (a late outcome, a decision still in flight, a rebuild) is deleted too.
 * Checking after the insert, not before, closes the race with a sink instance erasing the same id
 * concurrently: either this check sees its record, or its delete comes after this insert.
 */
export interface SinkOptions {
  store: ClickHouse;
  kafka: KafkaClient;
  codec: RecordCodec;
  topics: TopicNames;
  groupId: string;
  logger: Logger;
  metrics: SinkMetrics;
  /** Records per batch (size cut). */
  maxRows?: number;
  /** Longest a record waits in a partial batch (timer cut). */
  maxWaitMs?: number;
  /** How often the group's consumer lag is read from the broker. */
  lagPollMs?: number;
}

interface Slot {
  topic: string;
  partition: number;
  generation: number;
  batcher: Promise<PartitionBatcher>;
  loaded: PartitionBatcher | null;
  /** Settles after this partition's last queued flush: a replacing slot reads state only after it. */
  last: Promise<void>;
}

class Stopping extends Error {}

export class ClickHouseSink {
  private consumer: RecordConsumer | undefined;
  private dlq: RecordProducer | undefined;
  private admin: KafkaAdmin | undefined;
  private lag: LagPoller | undefined;
  private readonly slots = new Map<string, Slot>();
  /** One flush at a time across partitions: the embedded store serialises writes anyway. */
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  private assignment: Record<string, number[]> | null = null;
  private draining = false;
  private stopping = false;
  private readonly maxRows: number;
  private readonly maxWaitMs: number;
  private readonly log: Logger;

  constructor(private readonly options: SinkOptions) {
    this.maxRows = options.maxRows ?? 10_000;
    this.maxWaitMs = options.maxWaitMs ?? 1_000;
    this.log = options.logger.child({ component: 'sink', group: options.groupId });
  }

  /** True once the consumer joined its group (it may legitimately own no partition). */
  get assigned(): boolean {
    return this.assignment !== null;
  }

  get currentAssignment(): Record<string, number[]> | null {
    return this.assignment;
  }

  async start(): Promise<void> {
    const { kafka, topics, groupId } = this.options;
    this.dlq = await kafka.producer({ idempotent: true });
    this.admin = await kafka.admin();
    const { metrics, lagPollMs } = this.options;
    this.lag = new LagPoller({
      admin: this.admin,
      groupId,
      topics: [topics.customerEvents, topics.decisions],
      intervalMs: lagPollMs,
      logger: this.log,
      report: (topic, partition, lag) => metrics.consumerLag.set({ topic, partition: String(partition) }, lag),
    });
    this.lag.start();
    metrics.lag.refresh = () => this.lag?.refresh() ?? Promise.resolve();
    // Offsets are committed only by commitOffsets below, after ClickHouse acknowledged the batch.
    this.consumer = await kafka.consumer({
      groupId,
      topics: [topics.customerEvents, topics.decisions],
      fromBeginning: true,
      commitMarked: false,
      partitionsConsumedConcurrently: 1,
      rebalance: {
        assigned: (_partitions, assignment) => {
          // Kafka re-delivers from the committed offsets after every join: buffered records are dropped
          // and every partition re-reads its state once in-flight flushes have settled.
          this.generation += 1;
          this.assignment = assignment;
          this.log.info('partitions assigned', { assignment, generation: this.generation });
        },
      },
    });
    const tick = Math.max(20, Math.min(250, Math.floor(this.maxWaitMs / 2)));
    this.timer = setInterval(() => this.cutDue(), tick);
    await this.consumer.run((batch) => this.handle(batch));
  }

  private stopped: Promise<void> | undefined;

  /** Flushes what is buffered, waits for in-flight inserts, then leaves the group. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= this.drainAndClose();
    return this.stopped;
  }

  private async drainAndClose(): Promise<void> {
    this.draining = true;
    if (this.timer) clearInterval(this.timer);
    for (const slot of this.slots.values()) {
      if (slot.generation !== this.generation || !slot.loaded) continue;
      const cut = slot.loaded.cutAll();
      if (cut) this.enqueue(slot, cut).catch(() => {});
    }
    await this.queue;
    this.stopping = true;
    await this.consumer?.close().catch((err) => this.log.warn('consumer close failed', { err }));
    await this.dlq?.close().catch((err) => this.log.warn('dead-letter producer close failed', { err }));
    await this.lag?.stop();
    await this.admin?.close().catch(() => {});
    this.log.info('sink stopped');
  }

  private slotFor(topic: string, partition: number): Slot {
    const key = `${topic}\u0000${partition}`;
    const existing = this.slots.get(key);
    if (existing && existing.generation === this.generation) return existing;
    const after = existing ? existing.last : Promise.resolve();
    const slot: Slot = { topic, partition, generation: this.generation, loaded: null, last: after, batcher: Promise.resolve(null as never) };
    slot.batcher = after.then(async () => {
      const batcher = await this.step('read sink state', () => this.loadBatcher(topic, partition));
      slot.loaded = batcher;
      return batcher;
    });
    this.slots.set(key, slot);
    return slot;
  }

  private async loadBatcher(topic: string, partition: number): Promise<PartitionBatcher> {
    const state = await lastState(this.options.store, this.options.groupId, topic, partition);
    if (!state) return new PartitionBatcher(topic, partition, this.maxRows);
    if (state.state === 'AFTER') {
      // A crash between AFTER and the commit leaves the committed offset behind: catch it up.
      await this.consumer
        ?.commitOffsets([{ topic, partition, offset: nextOffset(state.maxOffset) }])
        .catch((err) => this.log.warn('catch-up commit failed', { err, topic, partition }));
      return new PartitionBatcher(topic, partition, this.maxRows, { skipThrough: state.maxOffset });
    }
    this.options.metrics.recoveredBatches.inc();
    this.log.info('recovering batch', { topic, partition, minOffset: state.minOffset, maxOffset: state.maxOffset });
    return new PartitionBatcher(topic, partition, this.maxRows, { recovery: { minOffset: state.minOffset, maxOffset: state.maxOffset } });
  }

  private async handle(batch: RecordBatch): Promise<void> {
    if (this.draining) return;
    const slot = this.slotFor(batch.topic, batch.partition);
    const batcher = await slot.batcher;
    if (slot.generation !== this.generation || this.draining) return;
    const last = batch.records[batch.records.length - 1];
    const cuts = batcher.add(batch.records, Date.now(), batch.lastOffset);
    if (last) {
      // Advances the fetch position only: auto-commit is off, the commit waits for ClickHouse.
      batch.markProcessed(last.offset);
    }
    // Awaiting size cuts here is the back-pressure: at most one full batch buffered per partition.
    await Promise.all(cuts.map((cut) => this.enqueue(slot, cut)));
  }

  private cutDue(): void {
    const now = Date.now();
    for (const slot of this.slots.values()) {
      if (slot.generation !== this.generation || !slot.loaded) continue;
      const cut = slot.loaded.cutIfDue(now, this.maxWaitMs);
      if (cut) this.enqueue(slot, cut).catch((err) => this.log.error('timed flush failed', { err }));
    }
  }

  private enqueue(slot: Slot, cut: Cut): Promise<void> {
    const run = this.queue.then(() => this.flush(slot, cut));
    const settled = run.catch((err) => {
      if (!(err instanceof Stopping)) this.log.error('flush failed', { err, token: cut.token });
    });
    this.queue = settled;
    slot.last = settled;
    return settled;
  }

  /**
   * Retries a step until it works or the sink stops: the sink never drops a batch. A ClickHouse
   * error that is not transient blocks the partition (visible in the error metric) rather than
   * losing rows.
   */
  private step<T>(what: string, op: () => Promise<T>, options: { onError?: (err: unknown) => void; retriable?: (err: unknown) => boolean } = {}): Promise<T> {
    return retry(
      async () => {
        if (this.stopping) throw new Stopping(what);
        try {
          return await op();
        } catch (err) {
          options.onError?.(err);
          throw err;
        }
      },
      {
        retries: Number.MAX_SAFE_INTEGER,
        initialDelayMs: 200,
        maxDelayMs: 5_000,
        shouldRetry: (err) => !(err instanceof Stopping) && !this.stopping && (options.retriable?.(err) ?? true),
        onRetry: (err, attempt, delayMs) => this.log.warn(`${what} failed; retrying`, { err, attempt, delayMs }),
      },
    );
  }

  private tableOf(topic: string): SinkTable {
    return topic === this.options.topics.decisions ? 'decisions' : 'events';
  }

  private async flush(slot: Slot, cut: Cut): Promise<void> {
    if (slot.generation !== this.generation) {
      // Revoked or re-joined: Kafka hands these records out again from the committed offset.
      this.log.debug('dropping cut of a re-assigned partition', { token: cut.token });
      return;
    }
    const { store, metrics, groupId } = this.options;
    const table = this.tableOf(cut.topic);
    const base = { topic: cut.topic, partition: cut.partition, minOffset: cut.minOffset, maxOffset: cut.maxOffset };
    await this.step('record BEFORE', () => recordState(store, groupId, { ...base, state: 'BEFORE', rows: cut.records.length }));
    this.log.debug('batch before', { ...base, records: cut.records.length, recovery: cut.recovery, token: cut.token });

    const { rows, dead, erasures } = await this.convert(cut, table);
    if (dead.length > 0) {
      // At-least-once for dead letters: a crash before the commit sends them again on restart.
      await this.step('send dead letters', () => this.dlq!.send(dead));
      for (const d of dead) metrics.deadLetters.inc({ reason: d.headers!['dlq-reason']! });
      this.log.warn('records dead-lettered', { ...base, count: dead.length, reasons: [...new Set(dead.map((d) => d.headers!['dlq-reason']))] });
    }
    if (rows.length > 0) {
      await this.step(
        `insert into ${table}`,
        async () => {
          const end = metrics.insertDuration.startTimer();
          await store.insert(table, rows, cut.token);
          end();
        },
        { onError: () => metrics.insertErrors.inc({ table }) },
      );
      metrics.rows.inc({ table }, rows.length);
      metrics.batchRows.observe(rows.length);
    }
    if (erasures.length > 0) await this.step('record erasures', () => recordErasures(store, erasures, cut.token));
    const customers = [...rows.map((r) => r.customer_id), ...erasures.map((e) => e.customerId)];
    const erased = await this.step('check erasures', () => erasedAmong(store, customers));
    if (erased.length > 0) {
      await this.step('delete erased customers', () => deleteCustomers(store, erased));
      // Counts and erasure ids only: customer ids stay out of logs.
      this.log.info('erased customers deleted', { ...base, customers: erased.length, requests: erasures.map((e) => e.erasureId) });
    }
    await this.step('record AFTER', () => recordState(store, groupId, { ...base, state: 'AFTER', rows: rows.length }));
    this.log.debug('batch after', { ...base, rows: rows.length, deadLetters: dead.length });
    try {
      await this.consumer!.commitOffsets([{ topic: cut.topic, partition: cut.partition, offset: cut.commitOffset }]);
    } catch (err) {
      // The AFTER state already says the range is done; the next owner skips it and commits.
      this.log.warn('offset commit failed', { err, ...base });
    }
  }

  private async convert(cut: Cut, table: SinkTable): Promise<{ rows: (EventRow | DecisionRow)[]; dead: OutgoingRecord[]; erasures: ErasureSeen[] }> {
    const rows: (EventRow | DecisionRow)[] = [];
    const dead: OutgoingRecord[] = [];
    const erasures: ErasureSeen[] = [];
    for (const record of cut.records) {
      let decoded: DecodedRecord;
      try {
        // Only registry trouble is retriable; a body that does not decode never will.
        decoded = await this.step('decode', () => this.options.codec.decode(record.value), { retriable: isRetriable });
      } catch (err) {
        if (err instanceof Stopping) throw err;
        dead.push(this.deadLetter(record, 'decode-failed', errorMessage(err)));
        continue;
      }
      if (table === 'events' && decoded.name === 'nextact.ErasureRequest') {
        erasures.push(erasureSeen(decoded.value as RecordTypes['nextact.ErasureRequest'], record.partition, record.offset));
        continue;
      }
      try {
        rows.push(table === 'decisions' ? decisionRow(decoded, record) : eventRow(decoded, record));
      } catch (err) {
        const reason: DeadLetterReason = err instanceof UnfitRecord ? err.reason : 'unmappable';
        dead.push(this.deadLetter(record, reason, errorMessage(err)));
      }
    }
    return { rows, dead, erasures };
  }

  private deadLetter(record: ConsumedRecord, reason: DeadLetterReason, error: string): OutgoingRecord {
    return deadLetterRecord(this.options.topics.deadLetter, record, reason, error, this.options.groupId);
  }
}
