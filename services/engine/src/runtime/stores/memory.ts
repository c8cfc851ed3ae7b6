/** The in-memory store: journeys as objects in a Map, nothing durable (a restart restores the whole changelog). */
import { MemoryTimerIndex } from './memory-timers';
import type { KeyValueStore, PartitionState, StoredPosition } from './types';

export class MemoryKeyValueStore<V> implements KeyValueStore<V> {
  private readonly map = new Map<string, V>();

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  put(key: string, value: V): void {
    this.map.set(key, value);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  *range(from?: string, to?: string): Iterable<[string, V]> {
    // Sorted on demand: range is for diagnostics and rebuilds, not the per-event path.
    const keys = [...this.map.keys()].filter((k) => (from === undefined || compareKeys(k, from) >= 0) && (to === undefined || compareKeys(k, to) < 0));
    keys.sort(compareKeys);
    for (const k of keys) yield [k, this.map.get(k)!];
  }

  approximateCount(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}

/** UTF-8 byte order, as lmdb orders its keys, so both stores range alike. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export class MemoryPartitionState<V> implements PartitionState<V> {
  readonly kind = 'memory' as const;
  readonly journeys = new MemoryKeyValueStore<V>();
  readonly timers = new MemoryTimerIndex();
  private readonly values = new Map<string, Buffer>();

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

  wipe(): void {
    this.journeys.clear();
    this.timers.clear();
    this.values.clear();
  }

  async close(): Promise<void> {
    this.wipe();
  }
}
