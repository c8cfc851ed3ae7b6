/**
 * The in-memory store: journeys as objects in a Map, nothing durable (a restart restores the whole
 * changelog). Restored values stay encoded until first read: a restore then parses nothing, and a
 * journey no event touches costs its bytes on the heap rather than its object graph. They are held
 * as one-byte strings: smaller than a Buffer each, and counted on the heap, where they are.
 */
import { MemoryTimerIndex } from './memory-timers';
import type { KeyValueStore, PartitionState, RestoredEntry, StoredPosition, ValueCodec } from './types';

export class MemoryKeyValueStore<V> implements KeyValueStore<V> {
  private readonly map = new Map<string, V>();
  /** Restored, not read since (bytes as latin1): decoded and moved to `map` on first read. Disjoint from `map`. */
  private readonly encoded = new Map<string, string>();

  constructor(private readonly codec?: ValueCodec<V>) {}

  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined || this.encoded.size === 0) return value;
    const bytes = this.encoded.get(key);
    if (bytes === undefined) return undefined;
    const decoded = this.codec!.decode(Buffer.from(bytes, 'latin1'));
    this.encoded.delete(key);
    this.map.set(key, decoded);
    return decoded;
  }

  put(key: string, value: V): void {
    this.map.set(key, value);
    if (this.encoded.size > 0) this.encoded.delete(key);
  }

  delete(key: string): void {
    this.map.delete(key);
    if (this.encoded.size > 0) this.encoded.delete(key);
  }

  /** Restore: the value's bytes, decoded when first read (a store without a codec decodes now). */
  putEncoded(key: string, bytes: Buffer): void {
    if (!this.codec) throw new Error('a MemoryKeyValueStore without a codec cannot hold encoded values');
    this.map.delete(key);
    this.encoded.set(key, bytes.toString('latin1'));
  }

  *range(from?: string, to?: string): Iterable<[string, V]> {
    // Sorted on demand: range is for diagnostics and rebuilds, not the per-event path.
    const inRange = (k: string) => (from === undefined || compareKeys(k, from) >= 0) && (to === undefined || compareKeys(k, to) < 0);
    const keys = [...this.map.keys(), ...this.encoded.keys()].filter(inRange);
    keys.sort(compareKeys);
    for (const k of keys) yield [k, this.get(k)!];
  }

  approximateCount(): number {
    return this.map.size + this.encoded.size;
  }

  clear(): void {
    this.map.clear();
    this.encoded.clear();
  }
}

/** UTF-8 byte order, as lmdb orders its keys, so both stores range alike. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export class MemoryPartitionState<V> implements PartitionState<V> {
  readonly kind = 'memory' as const;
  readonly journeys: MemoryKeyValueStore<V>;
  readonly timers = new MemoryTimerIndex();
  private readonly values = new Map<string, Buffer>();

  /** With a codec, restored values stay encoded until first read. */
  constructor(codec?: ValueCodec<V>) {
    this.journeys = new MemoryKeyValueStore(codec);
  }

  getValue(name: string): Buffer | undefined {
    return this.values.get(name);
  }

  setValue(name: string, value: Buffer | undefined): void {
    if (value === undefined) this.values.delete(name);
    else this.values.set(name, value);
  }

  stored(): StoredPosition | undefined {
    return undefined;
  }

  commit(_changelogOffset: string): void {}

  restore(entries: Iterable<RestoredEntry<V>>, _changelogOffset: string): void {
    for (const e of entries) {
      if (e.bytes === null) this.journeys.delete(e.key);
      else if (e.value !== undefined) this.journeys.put(e.key, e.value);
      else this.journeys.putEncoded(e.key, e.bytes);
      this.timers.set(e.key, e.due);
    }
  }

  wipe(): void {
    this.journeys.clear();
    this.timers.clear();
    this.values.clear();
  }

  async close(): Promise<void> {
    this.wipe();
  }
}
