/**
 * One partition's state as the processor sees it: journeys by customer id (change-logged), their
 * due-timer index, the partition's learner and its stream time, over one store implementation
 * (stores/). The changelog topic is the durable copy; a persistent store also keeps everything on
 * disk with the changelog offset it reflects, so a restart replays only the tail after it.
 */
import type { DecisionDomain } from '../domain';
import { ChangelogCodec } from './changelog';
import { ChangeLoggingStore, LmdbPartitionState, MemoryPartitionState, type PartitionState, type StoredPosition, type TimerIndex } from './stores';

/** Reserved changelog keys (customer ids may not use them). */
export const LEARNER_KEY = '__learner__';
export const STREAM_TIME_KEY = '__stream_time__';
export const isReservedKey = (key: string): boolean => key === LEARNER_KEY || key === STREAM_TIME_KEY;

export class PartitionStore<J, L> {
  readonly journeys: ChangeLoggingStore<J>;
  readonly timers: TimerIndex;
  learner: L;
  /** Max event time seen on the partition; drives timers (never the wall clock). */
  streamTime = 0;

  constructor(
    private readonly domain: DecisionDomain<J, L>,
    readonly state: PartitionState<J> = new MemoryPartitionState<J>(),
    /** How journey and learner values are framed on the changelog (and in a persistent store). */
    readonly values: ChangelogCodec<J, L> = new ChangelogCodec(domain),
  ) {
    this.journeys = new ChangeLoggingStore(state.journeys);
    this.timers = state.timers;
    const learner = state.getValue(LEARNER_KEY);
    this.learner = learner ? values.decodeLearner(learner) : domain.initialLearner();
    const streamTime = state.getValue(STREAM_TIME_KEY);
    this.streamTime = streamTime ? decodeStreamTime(streamTime) : 0;
  }

  get size(): number {
    return this.journeys.approximateCount();
  }

  /** Sets a customer's journey and its timer (change-logged). */
  put(customerId: string, journey: J): void {
    this.journeys.put(customerId, journey);
    this.timers.set(customerId, this.domain.nextTimer(journey));
  }

  /** What the persistent store last made durable (undefined: nothing, or in memory). */
  stored(): StoredPosition | undefined {
    return this.state.stored();
  }

  /**
   * Applies restored changelog records (latest value per key; null is a tombstone; framed values
   * normalised to the current schema, see ChangelogCodec) — they are the changelog's already, so
   * not change-logged — and, on a persistent store, makes them durable with the changelog offset
   * the restore reached.
   */
  applyChangelog(records: Iterable<[string, Buffer | null]>, changelogOffset: string): void {
    const persistent = this.state instanceof LmdbPartitionState ? this.state : undefined;
    const raw: [string, Buffer | null, number | undefined][] = [];
    for (const [key, value] of records) {
      if (key === LEARNER_KEY) {
        this.learner = value ? this.values.decodeLearner(value) : this.domain.initialLearner();
      } else if (key === STREAM_TIME_KEY) {
        this.streamTime = value ? decodeStreamTime(value) : 0;
      } else if (value === null) {
        if (persistent) raw.push([key, null, undefined]);
        else {
          this.state.journeys.delete(key);
          this.timers.set(key, undefined);
        }
      } else {
        const journey = this.values.decodeJourney(value);
        // The bytes as they came: the persistent store decodes them again on a cache miss.
        if (persistent) raw.push([key, value, this.domain.nextTimer(journey)]);
        else {
          this.state.journeys.put(key, journey);
          this.timers.set(key, this.domain.nextTimer(journey));
        }
      }
    }
    if (persistent) {
      this.stageValues();
      persistent.commitRestored(raw, changelogOffset);
    }
  }

  /** After a committed transaction: what changed since the last commit becomes durable with `changelogOffset`. */
  commit(changelogOffset: string): void {
    if (this.state.kind === 'memory') return; // nothing durable to write
    this.stageValues();
    this.state.commit(changelogOffset);
  }

  /** Forgets everything, durably (the store no longer matches its changelog). */
  clear(): void {
    this.state.wipe();
    this.journeys.clearChanges();
    this.learner = this.domain.initialLearner();
    this.streamTime = 0;
  }

  close(): Promise<void> {
    return this.state.close();
  }

  private stageValues(): void {
    this.state.setValue(LEARNER_KEY, this.values.learner(this.learner));
    this.state.setValue(STREAM_TIME_KEY, encodeStreamTime(this.streamTime));
  }
}

export const encodeStreamTime = (t: number): Buffer => Buffer.from(JSON.stringify({ streamTime: t }));
export function decodeStreamTime(value: Buffer): number {
  const parsed = JSON.parse(value.toString('utf8')) as { streamTime?: unknown };
  return typeof parsed.streamTime === 'number' ? parsed.streamTime : 0;
}
