/**
 * The in-memory due-timer index: a binary min-heap ordered by (due, customerId) finds due timers
 * without scanning all journeys; replaced timers are left in the heap and skipped when they surface
 * (lazy deletion). The lmdb store keeps its committed timers on disk and uses this one for the
 * timers set since its last commit.
 */
import type { TimerIndex } from './types';

interface Entry {
  due: number;
  id: string;
}

const before = (a: Entry, b: Entry): boolean => a.due < b.due || (a.due === b.due && a.id < b.id);

export class MemoryTimerIndex implements TimerIndex {
  private readonly dueById = new Map<string, number>();
  private heap: Entry[] = [];

  get size(): number {
    return this.dueById.size;
  }

  dueOf(id: string): number | undefined {
    return this.dueById.get(id);
  }

  set(id: string, due: number | undefined): void {
    const current = this.dueById.get(id);
    if (current === due) return;
    if (due === undefined || !Number.isFinite(due)) {
      this.dueById.delete(id);
    } else {
      this.dueById.set(id, due);
      this.push({ due, id });
    }
    // Keep lazily deleted entries from piling up.
    if (this.heap.length > 2 * this.dueById.size + 1024) this.rebuild();
  }

  nextDue(): number | undefined {
    return this.peek()?.due;
  }

  /** The earliest pending timer, left in place. */
  peek(): { id: string; due: number } | undefined {
    for (;;) {
      const top = this.heap[0];
      if (!top) return undefined;
      if (this.dueById.get(top.id) === top.due) return top;
      this.pop(); // replaced or cleared
    }
  }

  popDue(time: number): { id: string; due: number } | undefined {
    for (;;) {
      const top = this.heap[0];
      if (!top || top.due > time) return undefined;
      this.pop();
      if (this.dueById.get(top.id) !== top.due) continue; // replaced or cleared
      this.dueById.delete(top.id);
      return top;
    }
  }

  clear(): void {
    this.dueById.clear();
    this.heap = [];
  }

  private rebuild(): void {
    this.heap = [...this.dueById].map(([id, due]) => ({ id, due }));
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent]!;
      if (!before(e, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    this.down(0);
  }

  private down(start: number): void {
    const h = this.heap;
    const e = h[start]!;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, e)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = e;
  }
}
