import type { ConsumedRecord } from '@nextact/core';
import { dedupToken, PartitionBatcher } from '../../src/sink/batcher';

const rec = (offset: number, partition = 2): ConsumedRecord => ({
  topic: 't.customer-events',
  partition,
  offset: String(offset),
  key: 'c',
  value: Buffer.from([offset % 256]),
  headers: {},
  timestamp: 0,
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => rec(from + i));

describe('dedupToken', () => {
  it('names topic, partition and offset range', () => {
    expect(dedupToken('p.customer-events', 3, '100', '199')).toBe('p.customer-events/3/100-199');
  });
});

describe('PartitionBatcher', () => {
  it('cuts by size on offsets only, however the records arrive', () => {
    const whole = new PartitionBatcher('t.customer-events', 2, 4).add(range(0, 9));
    const chunked = new PartitionBatcher('t.customer-events', 2, 4);
    const pieces = [...chunked.add(range(0, 2)), ...chunked.add(range(3, 6)), ...chunked.add(range(7, 9))];
    const bounds = (cuts: { minOffset: string; maxOffset: string }[]) => cuts.map((c) => `${c.minOffset}-${c.maxOffset}`);
    expect(bounds(whole)).toEqual(['0-3', '4-7']);
    expect(bounds(pieces)).toEqual(bounds(whole));
    expect(whole.map((c) => c.token)).toEqual(['t.customer-events/2/0-3', 't.customer-events/2/4-7']);
    expect(chunked.buffered).toBe(2);
  });

  it('commits past the transaction markers behind the last record, never past buffered records', () => {
    const b = new PartitionBatcher('t.decisions', 2, 3);
    // Records 0-4, then a commit marker at 5 (a transactional producer's batch).
    const [full] = b.add(range(0, 4), 0, '5');
    expect(full).toMatchObject({ maxOffset: '2', commitOffset: '3' }); // 3 and 4 still buffered
    const rest = b.cutIfDue(10_000, 1_000)!;
    expect(rest).toMatchObject({ minOffset: '3', maxOffset: '4', commitOffset: '6', token: 't.decisions/2/3-4' });
    // A fetch without trailing markers commits right after its last record.
    const plain = new PartitionBatcher('t.decisions', 2, 2).add(range(0, 1), 0, '1');
    expect(plain[0]).toMatchObject({ maxOffset: '1', commitOffset: '2' });
    // A size cut that ends the fetch also covers its markers.
    const exact = new PartitionBatcher('t.decisions', 2, 2).add(range(0, 1), 0, '2');
    expect(exact[0]).toMatchObject({ maxOffset: '1', commitOffset: '3' });
  });

  it('drops records at or below what it has seen (refetch after a rebalance)', () => {
    const b = new PartitionBatcher('t.customer-events', 2, 3);
    expect(b.add(range(0, 1))).toEqual([]);
    const cuts = b.add(range(0, 4));
    expect(cuts).toHaveLength(1);
    expect(cuts[0]!.records.map((r) => r.offset)).toEqual(['0', '1', '2']);
    expect(b.buffered).toBe(2);
  });

  it('cuts on the timer only once the oldest record waited long enough', () => {
    const b = new PartitionBatcher('t.customer-events', 2, 100);
    b.add(range(10, 12), 1_000);
    expect(b.cutIfDue(1_500, 1_000)).toBeNull();
    const cut = b.cutIfDue(2_000, 1_000);
    expect(cut && `${cut.minOffset}-${cut.maxOffset}`).toBe('10-12');
    expect(b.cutIfDue(5_000, 1_000)).toBeNull();
  });

  it('skips everything up to the last AFTER', () => {
    const b = new PartitionBatcher('t.customer-events', 2, 2, { skipThrough: '5' });
    const cuts = b.add(range(3, 9));
    expect(cuts.map((c) => `${c.minOffset}-${c.maxOffset}`)).toEqual(['6-7', '8-9']);
  });

  it('re-forms a BEFORE range exactly, ignoring max rows and the timer until its last offset', () => {
    const b = new PartitionBatcher('t.customer-events', 2, 2, { recovery: { minOffset: '4', maxOffset: '8' } });
    expect(b.recovering).toBe(true);
    // Offsets below the range belong to earlier, finished batches.
    expect(b.add(range(0, 6), 0)).toEqual([]);
    expect(b.cutIfDue(60_000, 1)).toBeNull();
    expect(b.cutAll()).toBeNull();
    const cuts = b.add(range(7, 11), 0);
    expect(cuts.map((c) => `${c.minOffset}-${c.maxOffset}:${c.recovery}`)).toEqual(['4-8:true', '9-10:false']);
    expect(cuts[0]!.records.map((r) => r.offset)).toEqual(['4', '5', '6', '7', '8']);
    expect(cuts[0]!.token).toBe('t.customer-events/2/4-8');
    expect(b.recovering).toBe(false);
    expect(b.buffered).toBe(1);
  });

  it('keeps the recorded bounds when transaction markers leave gaps inside the range', () => {
    const b = new PartitionBatcher('t.customer-events', 2, 10, { recovery: { minOffset: '4', maxOffset: '9' } });
    const cuts = b.add([rec(5), rec(6), rec(9), rec(11)]);
    expect(cuts.map((c) => c.token)).toEqual(['t.customer-events/2/4-9']);
    expect(cuts[0]!.records.map((r) => r.offset)).toEqual(['5', '6', '9']);
  });

  it('gives up recovery when the first record is already past the range (it was committed)', () => {
    const b = new PartitionBatcher('t.customer-events', 2, 2, { recovery: { minOffset: '4', maxOffset: '8' } });
    const cuts = b.add(range(9, 10));
    expect(cuts.map((c) => `${c.minOffset}-${c.maxOffset}:${c.recovery}`)).toEqual(['9-10:false']);
  });

  it('never mixes later records into a recovered range whose last record is missing', () => {
    const b = new PartitionBatcher('t.customer-events', 2, 10, { recovery: { minOffset: '4', maxOffset: '8' } });
    const cuts = b.add([rec(4), rec(5), rec(10)]);
    expect(cuts).toHaveLength(1);
    expect(cuts[0]!.token).toBe('t.customer-events/2/4-8');
    expect(cuts[0]!.records.map((r) => r.offset)).toEqual(['4', '5']);
    expect(b.buffered).toBe(1);
  });

  it('handles offsets beyond 2^53', () => {
    const big = '9007199254740993';
    const b = new PartitionBatcher('t.customer-events', 2, 1, { skipThrough: '9007199254740992' });
    const cuts = b.add([
      { ...rec(0), offset: '9007199254740992' },
      { ...rec(0), offset: big },
    ]);
    expect(cuts.map((c) => c.maxOffset)).toEqual([big]);
  });

  it('refuses a non-positive batch size', () => {
    expect(() => new PartitionBatcher('t', 0, 0)).toThrow(RangeError);
  });
});
