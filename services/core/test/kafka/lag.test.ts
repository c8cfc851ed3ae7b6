/**
 * Consumer lag as Kafka's tools report it (log end minus the group's committed offset), as the
 * engine's and the analytics sink's pollers measure it. Fake admin.
 */
import { createLogger, groupLag, LagPoller } from '../../src';

const logger = createLogger({ level: 'error' });

describe('consumer lag', () => {
  it('is high watermark minus committed offset; nothing committed counts from the low watermark', () => {
    const marks = [
      { partition: 0, low: '0', high: '500' },
      { partition: 1, low: '100', high: '400' },
      { partition: 2, low: '7', high: '7' },
      { partition: 3, low: '0', high: '50' },
    ];
    const committed = [
      { partition: 0, offset: '120' },
      { partition: 1, offset: '-1' },
      { partition: 2, offset: '7' },
      // partition 3 absent: never committed
    ];
    expect(groupLag(marks, committed)).toEqual([
      { partition: 0, lag: 380 },
      { partition: 1, lag: 300 },
      { partition: 2, lag: 0 },
      { partition: 3, lag: 50 },
    ]);
  });

  it('never reports a negative lag (committed read after a newer watermark)', () => {
    expect(groupLag([{ partition: 0, low: '0', high: '10' }], [{ partition: 0, offset: '12' }])).toEqual([{ partition: 0, lag: 0 }]);
  });

  it('polls every topic, keeps the last value on errors, refreshes on demand and polls once more on stop', async () => {
    let high = 100;
    let fail = false;
    const calls: string[] = [];
    const admin = {
      watermarks: async (topic: string) => {
        calls.push(topic);
        if (fail) throw new Error('broker down');
        return [{ partition: 0, low: '0', high: String(high) }];
      },
      groupOffsets: async () => [{ partition: 0, offset: '40' }],
    };
    const seen = new Map<string, number>();
    const poller = new LagPoller({
      admin,
      groupId: 'g',
      topics: ['a', 'b'],
      intervalMs: 60_000,
      logger,
      report: (topic, partition, lag) => seen.set(`${topic}/${partition}`, lag),
    });
    poller.start();
    await poller.poll();
    expect(Object.fromEntries(seen)).toEqual({ 'a/0': 60, 'b/0': 60 });
    expect(calls).toEqual(['a', 'b']);

    high = 150;
    await poller.refresh(0);
    expect(seen.get('a/0')).toBe(110);
    await poller.refresh(60_000); // fresh enough: no broker call
    expect(calls).toHaveLength(4);

    fail = true;
    await poller.refresh(0);
    expect(seen.get('a/0')).toBe(110);

    fail = false;
    high = 200;
    await poller.stop();
    expect(seen.get('b/0')).toBe(160);
    const n = calls.length;
    await poller.poll();
    expect(calls).toHaveLength(n);
  });
});
