/**
 * The ONE adapter between replay and the engine's state layer: a partition's journeys folded
 * through the engine's own `Processor` (timers by stream time, exactly as the live engine fires
 * them) over today's `PartitionStore`. When the store API changes, this file is what moves.
 */
import type { CustomerEvent, Decision, KafkaAdmin, KafkaClient, Logger } from '@nextact/core';
import {
  type BatchEffects,
  type Checkpoint,
  type DecisionDomain,
  emptyEffects,
  isReservedKey,
  PartitionStore,
  Processor,
  restorePartitions,
} from '@nextact/engine';

/** A partition's state as saved for a resume (today: the engine's checkpoint format). */
export type FoldSnapshot = Checkpoint;
/** Changelog keys the store reserves (learner, stream time): never customer ids. */
export { isReservedKey };

export class PartitionFold<J, L> {
  private readonly store: PartitionStore<J, L>;
  private readonly processor: Processor<J, L>;
  private readonly fx: BatchEffects = emptyEffects();

  constructor(
    private readonly domain: DecisionDomain<J, L>,
    onTimerError: (customerId: string, err: unknown) => void = () => {},
  ) {
    this.store = new PartitionStore(domain);
    this.processor = new Processor(domain, this.store, onTimerError);
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
    fx.changed.clear();
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

  /** The state as a resumable snapshot (the engine's checkpoint format). */
  snapshot(topic: string, partition: number, inputOffset: string): FoldSnapshot {
    return this.store.snapshot({ topic, partition, changelogOffset: inputOffset });
  }

  load(cp: FoldSnapshot): void {
    this.store.loadSnapshot(cp);
  }

  /** Every journey's serialised bytes, by customer id, plus the learner and stream time under reserved names. */
  contents(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [id, j] of this.store.journeys) out.set(id, this.domain.serialiseJourney(j).toString('base64'));
    out.set('__learner__', this.domain.serialiseLearner(this.store.learner).toString('base64'));
    out.set('__stream_time__', String(this.store.streamTime));
    return out;
  }

  /** Loads a partition's live state from the engine's changelog (read_committed, up to its end now). */
  async restoreFromChangelog(kafka: KafkaClient, admin: KafkaAdmin, changelogTopic: string, partition: number, logger: Logger): Promise<{ records: number }> {
    const [outcome] = await restorePartitions({ kafka, admin, changelogTopic, items: [{ partition, store: this.store }], logger });
    return { records: outcome?.records ?? 0 };
  }
}

const NONE: Decision[] = [];
