import { ErrorCodes, NextActError } from '@nextact/core';
import { createBatcher } from '../src/batcher';
import { FakeProducer, record, tick } from './fakes';

function setup(overrides: Partial<Parameters<typeof createBatcher>[0]> = {}) {
  const producer = new FakeProducer();
  const sizes: number[] = [];
  const gauge: number[] = [];
  const batcher = createBatcher({
    send: (records) => producer.send(records),
    maxBatchRecords: 4,
    lingerMs: 10_000,
    maxInFlightRecords: 10,
    maxConcurrentSends: 1,
    onSend: ({ records }) => sizes.push(records),
    onInFlight: (n) => gauge.push(n),
    ...overrides,
  });
  return { producer, batcher, sizes, gauge };
}

describe('batcher', () => {
  it('flushes as soon as the size limit is reached, merging requests in order', async () => {
    const { producer, batcher } = setup();
    const a = batcher.submit([record('c1', 1), record('c1', 2)]);
    expect(producer.sends).toHaveLength(0);
    const b = batcher.submit([record('c2', 3), record('c1', 4)]);
    expect(producer.sends).toHaveLength(1);
    expect(producer.sends[0]!.map((r) => r.value!.toString())).toEqual(['1', '2', '3', '4']);
    producer.ack();
    await expect(Promise.all([a, b])).resolves.toHaveLength(2);
    expect(batcher.inFlight()).toBe(0);
  });

  it('flushes after the linger when the batch stays small', async () => {
    // Fake timers: on a loaded machine a real 5 ms linger can pass before the first check runs.
    jest.useFakeTimers();
    try {
      const { producer, batcher } = setup({ lingerMs: 5 });
      const done = batcher.submit([record('c1')]);
      jest.advanceTimersByTime(4);
      expect(producer.sends).toHaveLength(0);
      jest.advanceTimersByTime(1);
      expect(producer.sends).toHaveLength(1);
      producer.ack();
      await done;
    } finally {
      jest.useRealTimers();
    }
  });

  it('resolves a request only after the broker acknowledged it', async () => {
    const { producer, batcher } = setup({ maxBatchRecords: 1 });
    let settled = false;
    const p = batcher.submit([record('c1')]).then(() => {
      settled = true;
    });
    await tick();
    expect(settled).toBe(false);
    producer.ack();
    await p;
    expect(settled).toBe(true);
  });

  it('merges what arrives during a send into the next one (one send in flight)', async () => {
    const { producer, batcher, sizes } = setup({ maxBatchRecords: 1 });
    const first = batcher.submit([record('a')]);
    const later = [batcher.submit([record('b')]), batcher.submit([record('c')]), batcher.submit([record('d')])];
    expect(producer.pending()).toBe(1);
    producer.ack();
    await first;
    expect(producer.sends).toHaveLength(2);
    expect(producer.sends[1]!.map((r) => r.key)).toEqual(['b', 'c', 'd']);
    producer.ack();
    await Promise.all(later);
    expect(sizes).toEqual([1, 3]);
  });

  it('refuses at once with NXA_BACKPRESSURE beyond the in-flight limit, without queuing', async () => {
    const { producer, batcher, gauge } = setup({ maxBatchRecords: 3, maxInFlightRecords: 5, lingerMs: 1 });
    const first = batcher.submit([record('a'), record('b'), record('c')]);
    const refused = batcher.submit([record('d'), record('e'), record('f')]);
    await expect(refused).rejects.toMatchObject({ code: ErrorCodes.BACKPRESSURE, retriable: true });
    expect(batcher.inFlight()).toBe(3);
    const fits = batcher.submit([record('g'), record('h')]);
    expect(batcher.inFlight()).toBe(5);
    producer.ack();
    await first;
    await new Promise((r) => setTimeout(r, 20));
    producer.ack();
    await fits;
    expect(producer.sends.flat().map((r) => r.key)).toEqual(['a', 'b', 'c', 'g', 'h']);
    expect(gauge.at(-1)).toBe(0);
    expect(Math.max(...gauge)).toBe(5);
  });

  it('lets an oversized request through when nothing else is pending', async () => {
    const { producer, batcher } = setup({ maxInFlightRecords: 2 });
    const p = batcher.submit([record('a'), record('b'), record('c'), record('d')]);
    producer.ack();
    await expect(p).resolves.toBeDefined();
  });

  it('fails every request of a failed send with the producer error', async () => {
    const { producer, batcher } = setup({ maxBatchRecords: 2 });
    const a = batcher.submit([record('a')]);
    const b = batcher.submit([record('b')]);
    const err = new NextActError(ErrorCodes.KAFKA, 'produce: broker down', { retriable: true });
    producer.fail(err);
    await expect(a).rejects.toBe(err);
    await expect(b).rejects.toBe(err);
    expect(batcher.inFlight()).toBe(0);
  });

  it('allows several sends in flight when configured', async () => {
    const { producer, batcher } = setup({ maxBatchRecords: 1, maxConcurrentSends: 2 });
    const ps = [batcher.submit([record('a')]), batcher.submit([record('b')]), batcher.submit([record('c')])];
    expect(producer.pending()).toBe(2);
    producer.ack();
    await ps[0];
    expect(producer.pending()).toBe(2);
    producer.ack();
    producer.ack();
    await Promise.all(ps);
  });

  it('close sends what is queued, waits for acks and refuses new work', async () => {
    const { producer, batcher } = setup();
    const queued = batcher.submit([record('a')]);
    const closed = batcher.close();
    expect(producer.sends).toHaveLength(1);
    await expect(batcher.submit([record('b')])).rejects.toBeInstanceOf(NextActError);
    let done = false;
    void closed.then(() => {
      done = true;
    });
    await tick();
    expect(done).toBe(false);
    producer.ack();
    await queued;
    await closed;
    expect(done).toBe(true);
  });
});
