/**
 * The change-logging wrapper: writes pass through to the store and mark their key dirty, so a
 * commit sends one changelog record per changed key (its latest value, or a tombstone) however
 * often the key changed since the last commit.
 */
import type { KeyValueStore } from './types';

export class ChangeLoggingStore<V> implements KeyValueStore<V> {
  private dirty = new Set<string>();

  constructor(readonly inner: KeyValueStore<V>) {}

  get(key: string): V | undefined {
    return this.inner.get(key);
  }

  put(key: string, value: V): void {
    this.inner.put(key, value);
    this.dirty.add(key);
  }

  delete(key: string): void {
    this.inner.delete(key);
    this.dirty.add(key);
  }

  range(from?: string, to?: string): Iterable<[string, V]> {
    return this.inner.range(from, to);
  }

  approximateCount(): number {
    return this.inner.approximateCount();
  }

  /** Keys changed since the last `takeChanges`, each once, with their value now (undefined: deleted). */
  *changes(): Iterable<[string, V | undefined]> {
    for (const key of this.dirty) yield [key, this.inner.get(key)];
  }

  get changedCount(): number {
    return this.dirty.size;
  }

  /** Forgets the changes (they are on their way to the changelog). */
  clearChanges(): void {
    this.dirty = new Set();
  }
}
