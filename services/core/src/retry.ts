import { isRetriable } from './errors';

export interface RetryOptions {
  /** Attempts after the first. */
  retries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Growth per attempt. */
  factor: number;
  /** Fraction of each delay randomised (0..1), so that many clients do not retry in step. */
  jitter: number;
  /** Decides whether an error is worth another attempt; defaults to the error's `retriable` flag. */
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Injectable for tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const defaultRetry: RetryOptions = {
  retries: 5,
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  factor: 2,
  jitter: 0.2,
};

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Delay before retry number `attempt` (1-based): exponential, capped, with symmetric jitter. */
export function backoffDelay(attempt: number, options: RetryOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** (attempt - 1));
  const spread = base * options.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

/** The project's one retry loop. */
export async function retry<T>(operation: (attempt: number) => Promise<T>, partial: Partial<RetryOptions> = {}): Promise<T> {
  const options: RetryOptions = { ...defaultRetry, ...partial };
  const shouldRetry = options.shouldRetry ?? ((err: unknown) => isRetriable(err));
  const wait = options.sleep ?? sleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (err) {
      if (attempt >= options.retries || !shouldRetry(err, attempt + 1)) throw err;
      const delay = backoffDelay(attempt + 1, options, options.random);
      options.onRetry?.(err, attempt + 1, delay);
      await wait(delay);
    }
  }
}
