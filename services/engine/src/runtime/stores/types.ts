/**
 * The runtime's store layer, Kafka Streams style: a key-value store, a due-timer index and a
 * partition's small named values (learner, stream time), written durably together with the
 * changelog offset they reflect (one write transaction), so a persistent store *is* the checkpoint.
 */

/** Turns a store's values into bytes and back (the domain's changelog encoding). */
export interface ValueCodec<V> {
  encode(value: V): Buffer;
  decode(bytes: Buffer): V;
}

export interface KeyValueStore<V> {
  get(key: string): V | undefined;
  put(key: string, value: V): void;
  delete(key: string): void;
  /** Entries with from <= key < to (either bound open when omitted), in key order (UTF-8 byte order). */
  range(from?: string, to?: string): Iterable<[string, V]>;
  /** Cheap count; may count pending deletes (persistent stores). */
  approximateCount(): number;
}

/** Due time → customer: each customer has at most one pending timer. */
export interface TimerIndex {
  readonly size: number;
  dueOf(id: string): number | undefined;
  /** Sets (or clears, with undefined) a customer's pending timer. */
  set(id: string, due: number | undefined): void;
  /** The earliest pending due time, if any. */
  nextDue(): number | undefined;
  /** Removes and returns the earliest timer due at or before `time`, in (due, id) order. */
  popDue(time: number): { id: string; due: number } | undefined;
}

/** One restored changelog record of a journey: its bytes (null: tombstone), its timer, and its value if already decoded. */
export interface RestoredEntry<V> {
  key: string;
  bytes: Buffer | null;
  due: number | undefined;
  value?: V;
}

/** What a persistent store last made durable. */
export interface StoredPosition {
  /** Changelog offset from which replay brings the store up to date (everything below is in it). */
  changelogOffset: string;
}

/**
 * One partition's state on one store implementation: journeys, their timers, and named values.
 * Writes are visible at once to reads; `commit` makes everything since the last commit durable
 * together with `changelogOffset` (a no-op for the in-memory store, which has nothing durable).
 */
export interface PartitionState<V> {
  readonly kind: StoreKind;
  readonly journeys: KeyValueStore<V>;
  readonly timers: TimerIndex;
  getValue(name: string): Buffer | undefined;
  setValue(name: string, value: Buffer | undefined): void;
  /** What the last commit made durable; undefined when nothing was (or the store is in memory). */
  stored(): StoredPosition | undefined;
  /** Throws retriable NXA_STORE when it cannot write (disk full): the state is then only to be closed. */
  commit(changelogOffset: string): void;
  /**
   * Restore: changelog values written as they came (the in-memory store decodes them when first
   * read), with their timers, and — persistent — made durable with `changelogOffset` together with
   * everything else written since the last commit.
   */
  restore(entries: Iterable<RestoredEntry<V>>, changelogOffset: string): void;
  /** Removes everything, durably (a store that no longer matches its changelog). */
  wipe(): void;
  /** Drops uncommitted writes (persistent) and releases resources; the state is unusable after. */
  close(): Promise<void>;
}

export type StoreKind = 'memory' | 'lmdb';
export const storeKinds: readonly StoreKind[] = ['memory', 'lmdb'];
