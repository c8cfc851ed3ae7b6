/**
 * A compacted topic read whole into the process (Kafka Streams' global table), with no consumer
 * group: every instance reads every partition from the start, in offset order, read_committed.
 * `catchUp()` reads up to the end offsets taken when it is called (calls while one runs share the
 * next read), so a caller that awaits it before processing a batch has applied everything written
 * to the table before that batch was fetched. A topic that does not exist yet reads as empty.
 * Domain-free: decoding and what a record means are the caller's.
 */
import { ErrorCodes, errorCodeOf, type KafkaAdmin, type KafkaClient, type Logger, nextOffset, retry } from '@nextact/core';

export interface GlobalTableRecord<V> {
  key: string | null;
  /** Null for a tombstone. */
  value: V | null;
  offset: string;
  timestamp: number;
}

export interface GlobalTableOptions<V> {
  kafka: KafkaClient;
  admin: KafkaAdmin;
  topic: string;
  logger: Logger;
  decode(bytes: Buffer): Promise<V>;
  /** A record that cannot be decoded or applied is logged and skipped: one bad record must not stop the engine. */
  apply(record: GlobalTableRecord<V>): void;
  /** Background reads this often between batches (default 1 s); 0: only on `catchUp`. */
  followMs?: number;
}

export class GlobalTable<V> {
  /** Next offset to read, per partition. */
  private readonly positions = new Map<number, string>();
  private running?: Promise<void>;
  private queued?: Promise<void>;
  private follower?: NodeJS.Timeout;
  private closed = false;
  private missingLogged = false;
  records = 0;
  skipped = 0;

  constructor(private readonly options: GlobalTableOptions<V>) {}

  get topic(): string {
    return this.options.topic;
  }

  /** Reads the whole table, then follows it in the background. */
  async start(): Promise<void> {
    await this.catchUp();
    this.options.logger.info('global table loaded', { topic: this.topic, records: this.records, skipped: this.skipped });
    const every = this.options.followMs ?? 1_000;
    if (every > 0) {
      this.follower = setInterval(() => {
        this.catchUp().catch((err) => this.options.logger.warn('global table read failed; retrying', { topic: this.topic, err }));
      }, every);
      this.follower.unref();
    }
  }

  catchUp(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) {
      this.running = retry(() => this.readToEnd()).finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    // One is running with end offsets possibly taken before this call: read again after it.
    this.queued = this.running
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.catchUp();
      });
    return this.queued;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.follower);
  }

  private async readToEnd(): Promise<void> {
    if (this.closed) return;
    const o = this.options;
    let marks: Awaited<ReturnType<KafkaAdmin['watermarks']>>;
    try {
      marks = await o.admin.watermarks(o.topic);
    } catch (err) {
      // Not every adapter names a missing topic KAFKA_UNKNOWN_TOPIC (some fail on their own metadata first): ask.
      if (errorCodeOf(err) !== ErrorCodes.KAFKA_UNKNOWN_TOPIC && (await o.admin.listTopics()).includes(o.topic)) throw err;
      if (!this.missingLogged) o.logger.info('global table topic does not exist yet; reading it as empty', { topic: o.topic });
      this.missingLogged = true;
      return;
    }
    const ranges = marks
      .map((m) => {
        const at = this.positions.get(m.partition);
        const from = at === undefined || BigInt(at) < BigInt(m.low) ? m.low : at;
        return { partition: m.partition, from, until: m.high };
      })
      .filter((r) => BigInt(r.from) < BigInt(r.until));
    if (ranges.length === 0) return;
    const results = await o.kafka.readPartitions(o.topic, ranges, async (records) => {
      for (const r of records) {
        try {
          const value = r.value === null ? null : await o.decode(r.value);
          o.apply({ key: r.key, value, offset: r.offset, timestamp: r.timestamp });
          this.records++;
        } catch (err) {
          this.skipped++;
          o.logger.warn('global table record skipped', { topic: o.topic, partition: r.partition, offset: r.offset, err });
        }
        this.positions.set(r.partition, nextOffset(r.offset));
      }
    });
    // Markers and aborted data up to the end count as read.
    for (const r of results) this.positions.set(r.partition, r.until);
  }
}
