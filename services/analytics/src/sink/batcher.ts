import type { ConsumedRecord } from '@nextact/core';

/**
 * Cuts one topic-partition's records into insert batches. A batch is an offset range; its
 * deduplication token names that range, so a retry (after a crash, in another process) must
 * re-form exactly the same range to hit the same token. Size cuts depend only on offsets;
 * timer cuts depend on timing, which is why every cut is written to `sink_state` (BEFORE)
 * before its insert and a restart re-forms the recorded range instead of cutting afresh.
 */

export interface Cut {
  topic: string;
  partition: number;
  minOffset: string;
  maxOffset: string;
  records: ConsumedRecord[];
  /** Re-forms a batch recorded BEFORE by an earlier run. */
  recovery: boolean;
  token: string;
  /**
   * The offset to commit once the batch is stored: after maxOffset, or after the transaction
   * markers that followed it when nothing else was left. Committing only maxOffset + 1 leaves a
   * consumer of a transactional topic one short of the log end for good: a lag that never drains.
   */
  commitOffset: string;
}

/** `<topic>/<partition>/<min>-<max>`: the insert_deduplication_token of a batch. */
export const dedupToken = (topic: string, partition: number, minOffset: string, maxOffset: string): string => `${topic}/${partition}/${minOffset}-${maxOffset}`;

export interface BatcherStart {
  /** Offsets at or below this are already in the store (last AFTER, or below a pending BEFORE). */
  skipThrough?: string;
  /** A batch recorded BEFORE but never AFTER: re-form exactly this range first. */
  recovery?: { minOffset: string; maxOffset: string };
}

export class PartitionBatcher {
  private buffer: ConsumedRecord[] = [];
  private bufferedSince: number | null = null;
  /** Highest offset taken into a cut or the buffer: refetched records at or below it are dropped. */
  private seen: bigint;
  private recovery: { min: bigint; max: bigint } | null;
  /** Highest offset the consumer has fetched past, data or not (markers, aborted records). */
  private fetchedThrough = -1n;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly maxRows: number,
    start: BatcherStart = {},
  ) {
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError(`maxRows must be a positive integer, got ${maxRows}`);
    this.seen = start.skipThrough === undefined ? -1n : BigInt(start.skipThrough);
    this.recovery = start.recovery ? { min: BigInt(start.recovery.minOffset), max: BigInt(start.recovery.maxOffset) } : null;
    if (this.recovery && this.recovery.min - 1n > this.seen) this.seen = this.recovery.min - 1n;
  }

  get recovering(): boolean {
    return this.recovery !== null;
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** When the oldest buffered record arrived (ms), for the max-wait timer. */
  get oldestBufferedAt(): number | null {
    return this.bufferedSince;
  }

  /**
   * Adds records (in offset order) and returns the batches they complete. `fetchedThrough`: the
   * last offset the fetch covered (RecordBatch.lastOffset); offsets after the last record up to it
   * hold no data.
   */
  add(records: readonly ConsumedRecord[], now: number = Date.now(), fetchedThrough?: string): Cut[] {
    const cuts: Cut[] = [];
    for (const record of records) {
      const offset = BigInt(record.offset);
      if (offset <= this.seen) continue;
      if (this.recovery && offset > this.recovery.max) {
        // Past the recorded range. With nothing buffered, the range was finished and committed after
        // its state was read: nothing to redo. Otherwise its last record is gone (not expected:
        // a range ends on a real record); redo what is left of it, never mixing in later records.
        if (this.buffer.length > 0) cuts.push(this.take(this.buffer.length, true));
        this.recovery = null;
      }
      this.seen = offset;
      if (this.buffer.length === 0) this.bufferedSince = now;
      this.buffer.push(record);
      if (this.recovery) {
        if (offset >= this.recovery.max) cuts.push(this.take(this.buffer.length, true));
      } else if (this.buffer.length >= this.maxRows) {
        cuts.push(this.take(this.buffer.length, false));
      }
    }
    // Noted only now: a cut made mid-fetch must not skip the records that came after it.
    if (fetchedThrough !== undefined && BigInt(fetchedThrough) > this.fetchedThrough) {
      this.fetchedThrough = BigInt(fetchedThrough);
      const last = cuts[cuts.length - 1];
      if (last && this.buffer.length === 0 && BigInt(last.maxOffset) === this.seen) last.commitOffset = (this.fetchedThrough + 1n).toString();
    }
    return cuts;
  }

  /**
   * Cuts what is buffered once the oldest record has waited `maxWaitMs`. Never during recovery:
   * a recorded range must be re-formed whole, however long its records take to arrive.
   */
  cutIfDue(now: number, maxWaitMs: number): Cut | null {
    if (this.recovery || this.buffer.length === 0 || this.bufferedSince === null) return null;
    if (now - this.bufferedSince < maxWaitMs) return null;
    return this.take(this.buffer.length, false);
  }

  /** Cuts everything buffered (graceful stop); null during recovery or when empty. */
  cutAll(): Cut | null {
    if (this.recovery || this.buffer.length === 0) return null;
    return this.take(this.buffer.length, false);
  }

  private take(count: number, recovery: boolean): Cut {
    const records = this.buffer.slice(0, count);
    this.buffer = this.buffer.slice(count);
    this.bufferedSince = this.buffer.length > 0 ? this.bufferedSince : null;
    const first = records[0]!;
    const last = records[records.length - 1]!;
    // A recovered range keeps its recorded bounds even if its first record is gone (transaction markers).
    const minOffset = recovery && this.recovery ? this.recovery.min.toString() : first.offset;
    const maxOffset = recovery && this.recovery ? this.recovery.max.toString() : last.offset;
    if (recovery) this.recovery = null;
    const max = BigInt(maxOffset);
    const through = this.buffer.length === 0 && this.fetchedThrough > max ? this.fetchedThrough : max;
    return {
      topic: this.topic,
      partition: this.partition,
      minOffset,
      maxOffset,
      records,
      recovery,
      token: dedupToken(this.topic, this.partition, minOffset, maxOffset),
      commitOffset: (through + 1n).toString(),
    };
  }
}
