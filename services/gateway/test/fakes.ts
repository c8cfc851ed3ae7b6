import type { OutgoingRecord, RecordPosition, RecordProducer } from '@nextact/core';

/** A producer whose sends are acknowledged (or failed) when the test says so. */
export class FakeProducer implements RecordProducer {
  readonly sends: OutgoingRecord[][] = [];
  private readonly waiting: { resolve(p: RecordPosition[]): void; reject(e: unknown): void }[] = [];
  /** When true, every send is acknowledged at once. */
  constructor(public autoAck = false) {}

  send(records: OutgoingRecord[]): Promise<RecordPosition[]> {
    this.sends.push(records);
    const positions = records.map((r, i) => ({ topic: r.topic, partition: 0, offset: String(i) }));
    if (this.autoAck) return Promise.resolve(positions);
    return new Promise((resolve, reject) => this.waiting.push({ resolve: () => resolve(positions), reject }));
  }

  pending(): number {
    return this.waiting.length;
  }

  ack(): void {
    const next = this.waiting.shift();
    if (!next) throw new Error('no send awaiting an ack');
    next.resolve([]);
  }

  fail(err: unknown): void {
    const next = this.waiting.shift();
    if (!next) throw new Error('no send awaiting an ack');
    next.reject(err);
  }

  async close(): Promise<void> {}
}

export const record = (key: string, n = 0): OutgoingRecord => ({ topic: 't', key, value: Buffer.from(String(n)) });

/** Lets queued promise callbacks run. */
export const tick = () => new Promise((resolve) => setImmediate(resolve));
