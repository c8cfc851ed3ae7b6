import { prng } from '../../../test/support/prng';
import { EventQueue } from '../src/queue';

describe('EventQueue', () => {
  it('pops by time, and entries due together in the order they were queued', () => {
    const q = new EventQueue<string>();
    const u = prng(3);
    const pushed: { time: number; order: number }[] = [];
    for (let i = 0; i < 2_000; i++) {
      const time = Math.floor(u() * 50);
      pushed.push({ time, order: i });
      q.push({ time, customer: i });
    }
    expect(q.size).toBe(2_000);
    const popped = Array.from({ length: 2_000 }, () => q.pop());
    const expected = [...pushed].sort((a, b) => a.time - b.time || a.order - b.order);
    expect(popped.map((e) => e.customer)).toEqual(expected.map((e) => e.order));
    expect(q.peekTime()).toBe(Number.POSITIVE_INFINITY);
  });
});
