/**
 * A compacted topic read whole into the process (Kafka Streams' global table), with no consumer
 * group: every instance reads every partition from the start, in offset order, read_committed.
 * `catchUp()` reads up to the end offsets taken when it is called (calls while one runs share the
 * next read), so a caller that awaits it before processing a batch has applied everything written
 * to the table before that batch was fetched. A topic that does not exist yet reads as empty.
 * Domain-free: decoding and what a record means are the caller's.
 *
 * Metrics (GlobalTableMetrics, labelled by table name only): records applied and skipped, failed
 * read passes, lag (end offsets minus positions, asked of the broker at each scrape) and the time of
 * the last read pass that reached the end: followed every second, so its age is the table's staleness.
 */
import { ErrorCodes, errorCodeOf, type KafkaAdmin, type KafkaClient, type Logger, nextOffset, retry } from '@nextact/core';
import { Counter, Gauge, type Registry } from 'prom-client';

/** The global tables' series (names fixed: the engine dashboard and the stale-table alert query them). */
export class GlobalTableMetrics {
  readonly records: Counter<'table' | 'result'>;
  readonly readErrors: Counter<'table'>;
  readonly lag: Gauge<'table'>;
  readonly lastRead: Gauge<'table'>;
  /** Per table: its lag now, or undefined when the broker cannot say (the last value stays). */
  private readonly lagSources = new Map<string, () => Promise<number | undefined>>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.records = new Counter({
      name: 'nextact_engine_global_table_records_total',
      help: 'Global-table records read, by table and result: applied, or skipped (undecodable or refused by the table).',
      labelNames: ['table', 'result'],
      registers,
    });
    this.readErrors = new Counter({
      name: 'nextact_engine_global_table_read_errors_total',
      help: 'Global-table read passes that failed (each is retried; the table keeps what it had).',
      labelNames: ['table'],
      registers,
    });
    const sources = this.lagSources;
    this.lag = new Gauge({
      name: 'nextact_engine_global_table_lag',
      help: 'Records of a global table not read yet: end offsets minus the positions, summed over partitions (asked of the broker at scrape).',
      labelNames: ['table'],
      registers,
      async collect() {
        await Promise.all(
          [...sources].map(async ([table, lagNow]) => {
            const lag = await lagNow();
            if (lag !== undefined) this.set({ table }, lag);
          }),
        );
      },
    });
    this.lastRead = new Gauge({
      name: 'nextact_engine_global_table_last_read_timestamp_seconds',
      help: 'When a read pass of the global table last reached the end offsets taken at its start, or, before the first, when the table was opened (its age is the staleness).',
      labelNames: ['table'],
      registers,
    });
  }

  /** Series of a table from its start, at 0, so that the first skip or error is an increase. */
  follow(table: string, lagNow: () => Promise<number | undefined>): void {
    for (const result of ['applied', 'skipped']) this.records.inc({ table, result }, 0);
    this.readErrors.inc({ table }, 0);
    // A table whose first read never succeeds is stale from its opening (the alert needs a series).
    this.lastRead.set({ table }, Date.now() / 1000);
    this.lagSources.set(table, lagNow);
  }

  unfollow(table: string): void {
    this.lagSources.delete(table);
  }
}

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
  /** The table's name in metrics and logs (default: the topic). */
  name?: string;
  metrics?: GlobalTableMetrics;
}

export class GlobalTable<V> {
  /** Next offset to read, per partition. */
  private readonly positions = new Map<number, string>();
  private running?: Promise<void>;
  private queued?: Promise<void>;
  private follower?: NodeJS.Timeout;
  private closed = false;
  private missingLogged = false;
  /** Not seen yet, or missing at the last read: its existence is asked first (see watermarks). */
  private missing = true;
  records = 0;
  skipped = 0;

  constructor(private readonly options: GlobalTableOptions<V>) {
    options.metrics?.follow(this.name, () => this.lag().catch(() => undefined));
  }

  get topic(): string {
    return this.options.topic;
  }

  get name(): string {
    return this.options.name ?? this.options.topic;
  }

  /** Records not read yet: end offsets now minus the positions (a missing topic has none). */
  async lag(): Promise<number> {
    let lag = 0n;
    for (const r of this.unread((await this.watermarks()) ?? [])) lag += BigInt(r.until) - BigInt(r.from);
    return Number(lag);
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
    this.options.metrics?.unfollow(this.name);
  }

  private async readToEnd(): Promise<void> {
    if (this.closed) return;
    try {
      await this.readPass();
      this.options.metrics?.lastRead.set({ table: this.name }, Date.now() / 1000);
    } catch (err) {
      this.options.metrics?.readErrors.inc({ table: this.name });
      throw err;
    }
  }

  /** The topic's watermarks, or null while it does not exist. */
  private async watermarks(): Promise<Awaited<ReturnType<KafkaAdmin['watermarks']>> | null> {
    const o = this.options;
    // While the topic is missing, one topic listing per tick: a client may retry a missing topic's
    // metadata for seconds before it says so (platformatic: 8 tries, 2 s). The first read asks too:
    // the engine waits for it before it joins its group.
    if (this.missing && !(await o.admin.listTopics()).includes(o.topic)) return null;
    try {
      const marks = await o.admin.watermarks(o.topic);
      this.missing = false;
      return marks;
    } catch (err) {
      // Not every adapter names a missing topic KAFKA_UNKNOWN_TOPIC (some fail on their own metadata first): ask.
      if (errorCodeOf(err) !== ErrorCodes.KAFKA_UNKNOWN_TOPIC && (await o.admin.listTopics()).includes(o.topic)) throw err;
      this.missing = true;
      return null;
    }
  }

  /** Per partition, the offsets from the position up to the high watermark, where there are any. */
  private unread(marks: Awaited<ReturnType<KafkaAdmin['watermarks']>>): { partition: number; from: string; until: string }[] {
    return marks
      .map((m) => {
        const at = this.positions.get(m.partition);
        const from = at === undefined || BigInt(at) < BigInt(m.low) ? m.low : at;
        return { partition: m.partition, from, until: m.high };
      })
      .filter((r) => BigInt(r.from) < BigInt(r.until));
  }

  /** One pass up to the end offsets taken at its start. */
  private async readPass(): Promise<void> {
    const o = this.options;
    const marks = await this.watermarks();
    if (marks === null) {
      if (!this.missingLogged) o.logger.info('global table topic does not exist yet; reading it as empty', { topic: o.topic });
      this.missingLogged = true;
      return;
    }
    const ranges = this.unread(marks);
    if (ranges.length === 0) return;
    const results = await o.kafka.readPartitions(o.topic, ranges, async (records) => {
      for (const r of records) {
        try {
          const value = r.value === null ? null : await o.decode(r.value);
          o.apply({ key: r.key, value, offset: r.offset, timestamp: r.timestamp });
          this.records++;
          o.metrics?.records.inc({ table: this.name, result: 'applied' });
        } catch (err) {
          this.skipped++;
          o.metrics?.records.inc({ table: this.name, result: 'skipped' });
          o.logger.warn('global table record skipped', { topic: o.topic, partition: r.partition, offset: r.offset, err });
        }
        this.positions.set(r.partition, nextOffset(r.offset));
      }
    });
    // Markers and aborted data up to the end count as read.
    for (const r of results) this.positions.set(r.partition, r.until);
  }
}
