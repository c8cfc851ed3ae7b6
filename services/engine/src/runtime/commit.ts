/**
 * Exactly-once v2 (as Kafka Streams does it, KIP-447): one transactional producer per engine
 * instance, and one transaction per commit interval across every owned partition — their changelog
 * writes, decisions, dead letters and consumed offsets. A zombie is fenced by the group coordinator,
 * which refuses the offset commit of a member with a stale generation; the whole transaction aborts.
 *
 * Each partition contributes at most one batch per transaction (its handler waits for the commit
 * before the next batch of the partition is delivered), so when a transaction fails every
 * contributing task discards its state and is reopened from what was committed.
 *
 * The transaction commits at the end of the interval, after `maxRecords`, or as soon as no batch
 * is being processed any more (every batch the consumer handed out has contributed or given up):
 * the handlers wait for the commit, so waiting out the interval then only adds latency (at 1k
 * events/s it was most of the 200 ms p50). Under load the batches are large and the interval or
 * `maxRecords` still bounds a transaction.
 */
import {
  ErrorCodes,
  errorCodeOf,
  type GroupMetadata,
  type KafkaClient,
  type Logger,
  type OutgoingRecord,
  type RecordPosition,
  type TransactionalProducer,
} from '@nextact/core';
import { StaleBatchError } from './errors';
import type { EngineMetrics } from './metrics';

/** The instance producer's transaction timeout (ms). */
export const TRANSACTION_TIMEOUT_MS = 10_000;

export interface Contribution {
  partition: number;
  records: OutgoingRecord[];
  /** Consumed offset to commit (last processed + 1); undefined for a transaction without input (timers). */
  next?: RecordPosition;
}

interface Pending {
  contributions: Contribution[];
  records: number;
  done: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
  timer?: NodeJS.Timeout;
}

export interface CommitOptions {
  kafka: KafkaClient;
  transactionalId: string;
  /** The group metadata the owned partitions were assigned under: what the offset commit carries. */
  groupMetadata: () => GroupMetadata;
  /** Whether this instance still owns the partition (a contribution of one it lost must not commit). */
  owns: (partition: number) => boolean;
  intervalMs: number;
  /** Commit early once this many records wait. */
  maxRecords: number;
  logger: Logger;
  metrics: EngineMetrics;
}

export class InstanceCommitter {
  private producer?: Promise<TransactionalProducer>;
  private pending?: Pending;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Batches being processed that have neither contributed nor given up yet. */
  private active = 0;

  constructor(private readonly o: CommitOptions) {}

  /** Initialises the instance's producer (bumping its epoch fences an earlier incarnation with the same instance id). */
  async start(): Promise<void> {
    await this.producerNow();
  }

  /** Adds a task's results to the open transaction; resolves once it committed, rejects if it aborted. */
  contribute(c: Contribution): Promise<void> {
    if (this.closed) return Promise.reject(new Error('committer is closed'));
    const p = this.pending ?? this.openPending();
    p.contributions.push(c);
    p.records += c.records.length;
    if (p.records >= this.o.maxRecords) this.flush();
    return p.done;
  }

  /**
   * A batch starts being processed; the returned function says it contributed or gave up (it may
   * be called more than once). When the last active batch has, the open transaction commits.
   */
  batchStarted(): () => void {
    this.active++;
    let settled = false;
    return () => {
      if (settled) return;
      settled = true;
      this.active--;
      if (this.active === 0 && this.pending) this.flush();
    };
  }

  /** Commits what is waiting now (revocation, shutdown) instead of at the end of the interval. */
  flush(): Promise<void> {
    const p = this.pending;
    if (!p) return this.flushing;
    this.pending = undefined;
    clearTimeout(p.timer);
    this.flushing = this.flushing.then(() => this.commit(p));
    return p.done.catch(() => {});
  }

  async close(): Promise<void> {
    await this.flush();
    await this.flushing;
    this.closed = true;
    const producer = await this.producer?.catch(() => undefined);
    await producer?.close().catch((err) => this.o.logger.warn('producer close failed', { err }));
  }

  private openPending(): Pending {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => {}); // each contributor handles the rejection
    const p: Pending = { contributions: [], records: 0, done, resolve, reject };
    p.timer = setTimeout(() => {
      if (this.pending === p) this.flush();
    }, this.o.intervalMs);
    this.pending = p;
    return p;
  }

  private producerNow(): Promise<TransactionalProducer> {
    // Kafka Streams' exactly-once default, not the producer's 60 s: a killed instance's open
    // transaction blocks read_committed readers of its partitions (restores, the sink) until the
    // broker aborts it, so that wait is kept short; a commit interval is a small fraction of it.
    this.producer ??= this.o.kafka.transactionalProducer(this.o.transactionalId, { transactionTimeoutMs: TRANSACTION_TIMEOUT_MS });
    this.producer.catch(() => {
      this.producer = undefined;
    });
    return this.producer;
  }

  private async commit(p: Pending): Promise<void> {
    const { metrics, logger } = this.o;
    const startedAt = performance.now();
    try {
      const lost = p.contributions.filter((c) => !this.o.owns(c.partition)).map((c) => c.partition);
      if (lost.length > 0) throw new StaleBatchError(lost[0]!);
      const producer = await this.producerNow();
      await producer.transact(async (tx) => {
        const records = p.contributions.flatMap((c) => c.records);
        if (records.length > 0) await tx.send(records);
        const offsets = p.contributions.flatMap((c) => (c.next ? [c.next] : []));
        // The group metadata as of now: a rebalance since makes the coordinator refuse it (KIP-447).
        if (offsets.length > 0) await tx.commitConsumed(this.o.groupMetadata(), offsets);
      });
      metrics.transactions.inc({ result: 'commit' });
      metrics.transactionDuration.observe((performance.now() - startedAt) / 1000);
      metrics.transactionRecords.observe(p.records);
      p.resolve();
    } catch (err) {
      metrics.transactions.inc({ result: 'abort' });
      logger.warn('instance transaction aborted; its partitions discard their state', { partitions: p.contributions.map((c) => c.partition), err });
      if (!(err instanceof StaleBatchError) && !this.closed) {
        // Fenced, or left in an unknown state by a failure mid-transaction (e.g. a broker restart):
        // the next transaction gets a new producer, whose init aborts whatever this one left open
        // (and fences whichever other process runs with this instance id).
        const old = this.producer;
        this.producer = undefined;
        void old?.then((x) => x.close()).catch(() => {});
        if (errorCodeOf(err) !== ErrorCodes.KAFKA_FENCED) logger.info('instance producer replaced after a failed transaction', { code: errorCodeOf(err) });
      }
      p.reject(err);
    }
  }
}
