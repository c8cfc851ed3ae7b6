import { chunkRecords, type OutgoingRecord } from '../../src';

const record = (i: number, bytes: number): OutgoingRecord => ({ topic: 't', key: `k${i}`, value: Buffer.alloc(bytes) });

describe('chunkRecords', () => {
  it('keeps every record, in order, within the byte and count limits', () => {
    const records = Array.from({ length: 1000 }, (_, i) => record(i, 1000 + (i % 7) * 300));
    const chunks = chunkRecords(records, 100_000, 150);
    expect(chunks.flat()).toEqual(records);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(150);
      expect(c.reduce((n, r) => n + (r.value?.length ?? 0), 0)).toBeLessThanOrEqual(100_000);
    }
    expect(chunks.length).toBeGreaterThan(10);
  });

  it('lets a single record larger than the limit through on its own', () => {
    const chunks = chunkRecords([record(1, 10), record(2, 5_000), record(3, 10)], 1_000);
    expect(chunks.map((c) => c.map((r) => r.key))).toEqual([['k1'], ['k2'], ['k3']]);
  });

  it('returns no chunks for no records', () => {
    expect(chunkRecords([])).toEqual([]);
  });
});
