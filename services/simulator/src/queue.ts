/**
 * The world's agenda: a binary min-heap ordered by (simulated time, insertion number), so entries
 * due at the same time come out in the order they were queued and a run is reproducible.
 */

/** An entry: a ready event, a thunk run when due (it sees the world as of then), or an activity. */
export interface Entry<E = unknown> {
  time: number;
  seq: number;
  customer: number;
  event?: E;
  run?: () => E | null;
}

const before = (a: Entry<unknown>, b: Entry<unknown>) => a.time < b.time || (a.time === b.time && a.seq < b.seq);

export class EventQueue<E> {
  private readonly heap: Entry<E>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Time of the earliest entry (+∞ when empty). */
  peekTime(): number {
    return this.heap.length > 0 ? (this.heap[0] as Entry<E>).time : Number.POSITIVE_INFINITY;
  }

  push(entry: Omit<Entry<E>, 'seq'>): void {
    const heap = this.heap;
    const item = entry as Entry<E>;
    item.seq = this.seq++;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Entry<E>;
      if (before(p, item)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = item;
  }

  /** Removes and returns the earliest entry; the caller checks `size` (the world never runs dry). */
  pop(): Entry<E> {
    const heap = this.heap;
    const top = heap[0] as Entry<E>;
    const last = heap.pop() as Entry<E>;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let child = l;
        if (r < n && before(heap[r] as Entry<E>, heap[l] as Entry<E>)) child = r;
        const ce = heap[child] as Entry<E>;
        if (before(last, ce)) break;
        heap[i] = ce;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
