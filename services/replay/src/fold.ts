/**
 * The ONE adapter between replay and the engine's state layer: a partition's journeys folded
 * through the engine's own `Processor` (timers by stream time, exactly as the live engine fires
 * them) over an in-memory `PartitionStore`. When the store API changes, this file is what moves.
 */
import type { CustomerEvent, Decision, KafkaAdmin, KafkaClient, Logger, RecordCodec } from '@nextact/core';
import {
  type BatchEffects,
  ChangelogCodec,
  type DecisionDomain,
  emptyEffects,
  isReservedKey,
  MemoryPartitionState,
  PartitionStore,
  Processor,
  type RestoredValue,
  restorePartitions,
} from '@nextact/engine';

/**
 * A partition's state as saved for a resume: each journey's bytes (the domain's own encoding,
 * unframed) with its pending timer, the learner and stream time, and the input offset it reflects.
 */
export interface FoldSnapshot {
  format: 2;
  topic: string;
  partition: number;
  /** Next input offset to read. */
  next: string;
  streamTime: number;
  learner: string;
  journeys: [id: string, base64: string, due: number | null][];
}
/** Changelog keys the store reserves (learner, stream time): never customer ids. */
export { isReservedKey };

export class PartitionFold<J, L> {
  private store: PartitionStore<J, L>;
  private processor: Processor<J, L>;
  private readonly fx: BatchEffects = emptyEffects();

  constructor(
    private readonly domain: DecisionDomain<J, L>,
    private readonly onTimerError: (customerId: string, err: unknown) => void = () => {},
  ) {
    this.store = this.freshStore();
    this.processor = new Processor(domain, this.store, onTimerError);
  }

  private freshStore(values: ChangelogCodec<J, L> = new ChangelogCodec(this.domain)): PartitionStore<J, L> {
    return new PartitionStore(this.domain, new MemoryPartitionState<J>(values.journeyValues), values);
  }

  /**
   * Applies one event (firing the timers its event time makes due first) and returns the decisions
   * it led to. `decisionTime` is stamped on them: replay passes the record's own time, never the clock.
   * When the domain throws on the event, `onError` hears it and the decisions of the timers fired
   * before it are still returned, as the engine still commits them (it dead-letters the event).
   */
  apply(event: CustomerEvent, decisionTime: number, triggerTimestamp: number, onError: (err: unknown) => void): Decision[] {
    const fx = this.fx;
    fx.decisions.length = 0;
    // A fold keeps no changelog: what changed is of no interest once applied.
    this.store.journeys.clearChanges();
    try {
      this.processor.applyEvent(event, { decisionTime, triggerTimestamp }, fx);
    } catch (err) {
      onError(err);
    }
    return fx.decisions.length === 0 ? NONE : fx.decisions.map((e) => e.decision);
  }

  get journeys(): number {
    return this.store.size;
  }

  get streamTime(): number {
    return this.store.streamTime;
  }

  /** The state as a resumable snapshot. */
  snapshot(topic: string, partition: number, inputOffset: string): FoldSnapshot {
    const journeys: FoldSnapshot['journeys'] = [];
    for (const [id, j] of this.store.journeys.range())
      journeys.push([id, this.domain.serialiseJourney(j).toString('base64'), this.store.timers.dueOf(id) ?? null]);
    return {
      format: 2,
      topic,
      partition,
      next: inputOffset,
      streamTime: this.store.streamTime,
      learner: this.domain.serialiseLearner(this.store.learner).toString('base64'),
      journeys,
    };
  }

  /** Replaces the state with a snapshot's (a resume). */
  load(cp: FoldSnapshot): void {
    if (cp.format !== 2)
      throw new Error(
        `replay snapshot of ${cp.topic}[${cp.partition}] has format ${String(cp.format)}, not 2: delete it (and the progress file) to start over`,
      );
    this.store = this.freshStore();
    this.processor = new Processor(this.domain, this.store, this.onTimerError);
    const entries: [string, RestoredValue][] = cp.journeys.map(([id, b64, due]) => [id, [Buffer.from(b64, 'base64'), due ?? undefined]]);
    this.store.applyChangelog(entries, cp.next);
    this.store.learner = this.domain.deserialiseLearner(Buffer.from(cp.learner, 'base64'));
    this.store.streamTime = cp.streamTime;
  }

  /** Every journey's serialised bytes, by customer id, plus the learner and stream time under reserved names. */
  contents(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [id, j] of this.store.journeys.range()) out.set(id, this.domain.serialiseJourney(j).toString('base64'));
    out.set('__learner__', this.domain.serialiseLearner(this.store.learner).toString('base64'));
    out.set('__stream_time__', String(this.store.streamTime));
    return out;
  }

  /**
   * Loads a partition's live state from the engine's changelog (read_committed, up to its end now);
   * its values are registry-framed, so the codec resolves their schemas.
   */
  async restoreFromChangelog(
    kafka: KafkaClient,
    admin: KafkaAdmin,
    codec: RecordCodec,
    changelogTopic: string,
    partition: number,
    logger: Logger,
  ): Promise<{ records: number }> {
    const values = new ChangelogCodec(this.domain, { codec, topic: changelogTopic });
    await values.register();
    this.store = this.freshStore(values);
    this.processor = new Processor(this.domain, this.store, this.onTimerError);
    const [outcome] = await restorePartitions({ kafka, admin, changelogTopic, items: [{ partition, store: this.store }], logger });
    return { records: outcome?.records ?? 0 };
  }
}

const NONE: Decision[] = [];
