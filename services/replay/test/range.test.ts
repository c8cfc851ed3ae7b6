/** Ranges: parsing and resolution against watermarks, with refusals that say what to fix. */
import { parseOffsets, parsePartitions, parseTime, resolveRange } from '../src/range';

const marks = [
  { partition: 0, low: '0', high: '100' },
  { partition: 1, low: '20', high: '50' },
  { partition: 2, low: '0', high: '0' },
];

describe('ranges', () => {
  it('parses offsets, partitions and times', () => {
    expect(parseOffsets('0:10-20, 1:-30,2:5-')).toEqual([
      { partition: 0, from: '10', until: '20' },
      { partition: 1, from: undefined, until: '30' },
      { partition: 2, from: '5', until: undefined },
    ]);
    expect(parsePartitions('2,0,2')).toEqual([0, 2]);
    expect(parseTime('2026-01-01T00:00:00Z', '--from-time')).toBe(Date.UTC(2026, 0, 1));
    expect(parseTime('1700000000000', '--from-time')).toBe(1_700_000_000_000);
  });

  it('refuses malformed and empty input', () => {
    expect(() => parseOffsets('0:20-10')).toThrow(/"0:20-10" is empty/);
    expect(() => parseOffsets('zero:1-2')).toThrow(/is not PARTITION:FROM-UNTIL/);
    expect(() => parseOffsets('0:1-2,0:3-4')).toThrow(/partition 0 is named twice/);
    expect(() => parseTime('yesterday', '--from-time')).toThrow(/--from-time: "yesterday" is neither/);
    expect(() => resolveRange('t', {}, marks, { warm: true })).toThrow(/no range given/);
    expect(() => resolveRange('t', { whole: true, time: { from: 0, until: 1 } }, marks, { warm: true })).toThrow(/--all stands alone/);
    expect(() => resolveRange('t', { time: { from: 5, until: 5 } }, marks, { warm: true })).toThrow(/empty time range/);
    expect(() => resolveRange('t', { offsets: [{ partition: 7 }] }, marks, { warm: true })).toThrow(/has no partition 7/);
    expect(() => resolveRange('t', { offsets: [{ partition: 2 }] }, marks, { warm: true })).toThrow(/empty range: .* 2:0-0/);
    expect(() => resolveRange('t', { offsets: [{ partition: 1, from: '5' }] }, marks, { warm: true })).toThrow(/below the log start 20 .* --cold/);
  });

  it('resolves open ends to the end now, clamps to it, and warms up from the log start', () => {
    const r = resolveRange('t', { offsets: [{ partition: 0, from: '40', until: '1000' }, { partition: 1 }] }, marks, { warm: true });
    expect(r.partitions).toEqual([
      { partition: 0, readFrom: '0', from: '40', until: '100' },
      { partition: 1, readFrom: '20', from: '20', until: '50' },
    ]);
    const cold = resolveRange('t', { whole: true }, marks, { warm: false });
    expect(cold.partitions.map((p) => p.partition)).toEqual([0, 1]); // partition 2 is empty
    expect(cold.partitions[1]).toEqual({ partition: 1, readFrom: '20', from: '20', until: '50' });
    expect(cold.warm).toBe(false);
  });
});
