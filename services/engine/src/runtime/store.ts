/**
 * One partition's state as the processor sees it: journeys by customer id (change-logged), their
 * due-timer index, the partition's learner and its stream time, over one store implementation
 * (stores/). The changelog topic is the durable copy; a persistent store also keeps everything on
 * disk with the changelog offset it reflects, so a restart replays only the tail after it.
 */
import type { DecisionDomain } from '../domain';
import { ChangelogCodec } from './changelog';
import { ChangeLoggingStore, MemoryPartitionState, type PartitionState, type RestoredEntry, type StoredPosition, type TimerIndex } from './stores';

/** Reserved changelog keys (customer ids may not use them). */
export const LEARNER_KEY = '__learner__';
export const STREAM_TIME_KEY = '__stream_time__';
export const isReservedKey = (key: string): boolean => key === LEARNER_KEY || key === STREAM_TIME_KEY;

/**
 * Header of a journey's changelog record: its pending timer as the runtime holds it (epoch ms, or
 * empty for none), so a restore finds timers without decoding journeys.
 */
export const TIMER_HEADER = 'timer-due';
export const timerHeader = (due: number | undefined): string => (due === undefined ? '' : String(due));
/** The timer a record's header names: undefined for none, null when the record has no such header (decode to know). */
export function timerFromHeader(header: string | undefined): number | undefined | null {
  if (header === undefined) return null;
  if (header === '') return undefined;
  const due = Number(header);
  return Number.isFinite(due) ? due : null;
}

/** A restored record's value and its timer (see timerFromHeader). */
export type RestoredValue = [bytes: Buffer | null, due: number | undefined | null];

export class PartitionStore<J, L> {
  readonly journeys: ChangeLoggingStore<J>;
  readonly timers: TimerIndex;
  learner: L;
  /** Max event time seen on the partition; drives timers (never the wall clock). */
  streamTime = 0;

  constructor(
    private readonly domain: DecisionDomain<J, L>,
    readonly state: PartitionState<J> = new MemoryPartitionState<J>(new ChangelogCodec(domain).journeyValues),
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

  /** Deletes a customer's journey and its timer (change-logged: a tombstone on the next commit). */
  delete(customerId: string): void {
    this.journeys.delete(customerId);
    this.timers.set(customerId, undefined);
  }

  /** What the persistent store last made durable (undefined: nothing, or in memory). */
  stored(): StoredPosition | undefined {
    return this.state.stored();
  }

  /**
   * Applies restored changelog records (latest value per key; null is a tombstone; framed values
   * normalised to the current schema, see ChangelogCodec) — they are the changelog's already, so
   * not change-logged — and, on a persistent store, makes them durable with the changelog offset
   * the restore reached. A journey whose record carries its timer (`timer-due` header) is not
   * decoded: the in-memory store keeps its bytes until first read, lmdb writes them as they are.
   */
  applyChangelog(records: Iterable<[string, RestoredValue]>, changelogOffset: string): void {
    const entries: RestoredEntry<J>[] = [];
    for (const [key, [bytes, due]] of records) {
      if (key === LEARNER_KEY) {
        this.learner = bytes ? this.values.decodeLearner(bytes) : this.domain.initialLearner();
      } else if (key === STREAM_TIME_KEY) {
        this.streamTime = bytes ? decodeStreamTime(bytes) : 0;
      } else if (bytes === null) {
        entries.push({ key, bytes, due: undefined });
      } else if (due !== null) {
        entries.push({ key, bytes, due });
      } else {
        // Written before records carried their timer: decoded once to find it.
        const value = this.values.decodeJourney(bytes);
        entries.push({ key, bytes, due: this.domain.nextTimer(value), value });
      }
    }
    if (this.state.kind !== 'memory') this.stageValues();
    this.state.restore(entries, changelogOffset);
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
