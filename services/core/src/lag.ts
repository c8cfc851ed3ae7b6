import type { KafkaAdmin } from './kafka';
import type { Logger } from './logger';

/**
 * Lag per partition as Kafka's own tools report it: log-end offset (high watermark) minus the
 * group's committed offset; with nothing committed the group will read the whole retained log.
 */
export function groupLag(
  marks: readonly { partition: number; low: string; high: string }[],
  committed: readonly { partition: number; offset: string }[],
): { partition: number; lag: number }[] {
  const at = new Map(committed.map((c) => [c.partition, BigInt(c.offset)]));
  return marks.map((m) => {
    const c = at.get(m.partition) ?? -1n;
    const lag = BigInt(m.high) - (c < 0n ? BigInt(m.low) : c);
    return { partition: m.partition, lag: Number(lag > 0n ? lag : 0n) };
  });
}

export interface LagPollerOptions {
  admin: Pick<KafkaAdmin, 'watermarks' | 'groupOffsets'>;
  groupId: string;
  topics: readonly string[];
  report: (topic: string, partition: number, lag: number) => void;
  logger: Logger;
  intervalMs?: number;
}

/**
 * Polls the broker for the group's lag. Measured from outside the fetch loop, so it keeps growing
 * while the consumer is stuck. Failures are logged at debug: a missed poll leaves the last value.
 */
export class LagPoller {
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;
  private lastAt = 0;
  private stopped = false;

  constructor(private readonly o: LagPollerOptions) {}

  start(): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.o.intervalMs ?? 3_000);
    this.timer.unref();
  }

  /** Before a scrape: polls unless a poll finished within maxAgeMs, waiting at most timeoutMs. */
  async refresh(maxAgeMs = 1_000, timeoutMs = 500): Promise<void> {
    if (this.stopped || Date.now() - this.lastAt < maxAgeMs) return;
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([this.poll(), new Promise<void>((r) => (timeout = setTimeout(r, timeoutMs)))]);
    clearTimeout(timeout);
  }

  /** Stops polling after one last poll, so the gauge ends on the final committed offsets. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    clearInterval(this.timer);
    await this.refresh(0);
    this.stopped = true;
    await this.inFlight;
  }

  poll(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.inFlight ??= this.pollOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async pollOnce(): Promise<void> {
    try {
      for (const topic of this.o.topics) {
        const [marks, committed] = await Promise.all([this.o.admin.watermarks(topic), this.o.admin.groupOffsets(this.o.groupId, topic)]);
        for (const { partition, lag } of groupLag(marks, committed)) this.o.report(topic, partition, lag);
      }
      this.lastAt = Date.now();
    } catch (err) {
      this.o.logger.debug('consumer lag poll failed', { err, group: this.o.groupId });
    }
  }
}
