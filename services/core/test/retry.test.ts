import { backoffDelay, defaultRetry, ErrorCodes, NextActError, retry } from '../src';

describe('retry', () => {
  it('retries retriable errors with growing delays, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 3) throw new NextActError(ErrorCodes.KAFKA, 'broker busy', { retriable: true });
        return 'ok';
      },
      { sleep: async (ms) => void delays.push(ms), random: () => 0.5, initialDelayMs: 100, factor: 2, jitter: 0.2 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toEqual([100, 200]);
  });

  it('does not retry non-retriable errors', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new NextActError(ErrorCodes.VALIDATION, 'bad');
        },
        { sleep: async () => {} },
      ),
    ).rejects.toThrow('bad');
    expect(calls).toBe(1);
  });

  it('gives up after the configured number of retries', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw Object.assign(new Error('flaky'), { retriable: true });
        },
        { retries: 2, sleep: async () => {} },
      ),
    ).rejects.toThrow('flaky');
    expect(calls).toBe(3);
  });

  it('caps delays and spreads them by the jitter fraction', () => {
    const options = { ...defaultRetry, initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.2 };
    expect(backoffDelay(10, options, () => 0.5)).toBe(1000);
    expect(backoffDelay(1, options, () => 0)).toBe(80);
    expect(backoffDelay(1, options, () => 1)).toBe(120);
  });
});
