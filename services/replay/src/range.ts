/**
 * Ranges of a topic: offsets per partition (`0:100-200,1:0-`), or an event-time window. Every replay
 * is bounded: an open end means the partition's end offset when the replay starts, never "follow".
 * Unclear input is refused with a message saying what to fix (NXA_VALIDATION, not retriable).
 */
import { ErrorCodes, type KafkaAdmin, NextActError, type PartitionWatermarks } from '@nextact/core';

export interface RangeSpec {
  /** Offset ranges per partition; partitions not named are not replayed. */
  offsets?: { partition: number; from?: string; until?: string }[];
  /** Event-time window [from, until) in ms: records whose event time falls in it are the range (within `offsets` when both are given). */
  time?: { from: number; until: number };
  /** Whole partitions, from the log start to the end now. */
  whole?: boolean;
  /** Restrict to these partitions (default: all). */
  partitions?: number[];
}

/** One partition's part of a replay: what is read (state warm-up included) and what is in range. */
export interface PartitionPlan {
  partition: number;
  /** First offset read: the log start for a warm start (state as the engine had it), else `from`. */
  readFrom: string;
  /** First offset of the range. */
  from: string;
  /** End offset (exclusive): the read stops here. */
  until: string;
}

export interface ResolvedRange {
  topic: string;
  partitions: PartitionPlan[];
  time?: { from: number; until: number };
  /** False: no state before the range (events before a time range are not applied either). */
  warm: boolean;
}

export const invalid = (message: string): NextActError => new NextActError(ErrorCodes.VALIDATION, message);

const OFFSET = /^\d+$/;

/** `P:FROM-UNTIL` items separated by commas; FROM or UNTIL may be empty (log start, end now). */
export function parseOffsets(text: string): NonNullable<RangeSpec['offsets']> {
  const out: NonNullable<RangeSpec['offsets']> = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    const m = /^(\d+):(\d*)-(\d*)$/.exec(item);
    if (!m) throw invalid(`--offsets: "${item}" is not PARTITION:FROM-UNTIL (e.g. 0:100-200, 1:0- or 2:-5000)`);
    const [, p, from, until] = m;
    if (from && until && BigInt(from) >= BigInt(until)) throw invalid(`--offsets: "${item}" is empty (FROM must be below UNTIL; UNTIL is exclusive)`);
    if (out.some((o) => o.partition === Number(p))) throw invalid(`--offsets: partition ${p} is named twice`);
    out.push({ partition: Number(p), from: from || undefined, until: until || undefined });
  }
  return out;
}

/** An ISO-8601 time or epoch milliseconds. */
export function parseTime(text: string, flag: string): number {
  const t = OFFSET.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(t)) throw invalid(`${flag}: "${text}" is neither an ISO-8601 time (2026-11-30T00:00:00Z) nor epoch milliseconds`);
  return t;
}

export function parsePartitions(text: string): number[] {
  const out = text.split(',').map((s) => s.trim());
  for (const p of out) if (!/^\d+$/.test(p)) throw invalid(`--partitions: "${p}" is not a partition number`);
  return [...new Set(out.map(Number))].sort((a, b) => a - b);
}

/** Refuses an unknown topic by name (the port reports KAFKA_UNKNOWN_TOPIC). */
export async function watermarksOf(admin: KafkaAdmin, topic: string): Promise<PartitionWatermarks[]> {
  try {
    await admin.partitionCount(topic);
    return await admin.watermarks(topic);
  } catch (err) {
    if (err instanceof NextActError && err.code === ErrorCodes.KAFKA_UNKNOWN_TOPIC)
      throw invalid(`topic ${topic} does not exist: check --prefix (NEXTACT_TOPIC_PREFIX) and KAFKA_BROKERS`);
    throw err;
  }
}

/**
 * Resolves a spec against the topic's watermarks now. `warm`: read each partition from its log start
 * so the state at the range start is the one the engine had (the log must still hold it).
 */
export function resolveRange(topic: string, spec: RangeSpec, marks: PartitionWatermarks[], options: { warm: boolean }): ResolvedRange {
  // Offsets and a time window may be combined (records in both); whole partitions stand alone.
  const given = [spec.offsets ?? spec.time, spec.whole].filter((x) => x).length;
  if (given === 0)
    throw invalid(
      'no range given: every replay is bounded; pass --offsets P:FROM-UNTIL,..., --from-time/--until-time, or --all (whole partitions as they end now)',
    );
  if (given > 1) throw invalid('--all stands alone: give it without --offsets or a time range');
  if (spec.time && !(spec.time.from < spec.time.until)) throw invalid(`empty time range: --from-time must be before --until-time`);
  const byPartition = new Map(marks.map((m) => [m.partition, m]));
  const wanted = spec.partitions ?? (spec.offsets ? spec.offsets.map((o) => o.partition) : marks.map((m) => m.partition));
  for (const p of wanted) if (!byPartition.has(p)) throw invalid(`topic ${topic} has no partition ${p} (it has ${marks.length})`);
  const plans: PartitionPlan[] = [];
  for (const p of wanted) {
    const mark = byPartition.get(p)!;
    const o = spec.offsets?.find((x) => x.partition === p);
    const low = BigInt(mark.low);
    const high = BigInt(mark.high);
    let from = o?.from === undefined ? low : BigInt(o.from);
    const until = o?.until === undefined ? high : BigInt(o.until) < high ? BigInt(o.until) : high;
    if (from < low) {
      if (options.warm) throw invalid(`partition ${p}: offset ${from} is below the log start ${low} (retention removed it); start at ${low} or pass --cold`);
      from = low;
    }
    if (from >= until) continue;
    plans.push({ partition: p, readFrom: (options.warm ? low : from).toString(), from: from.toString(), until: until.toString() });
  }
  if (plans.length === 0) {
    const what = marks.filter((m) => wanted.includes(m.partition)).map((m) => `${m.partition}:${m.low}-${m.high}`);
    throw invalid(`empty range: no offsets to replay in ${topic} (its partitions hold ${what.join(', ') || 'nothing'}; UNTIL is exclusive)`);
  }
  return { topic, partitions: plans, time: spec.time, warm: options.warm };
}

/** Offsets the replay reads in all (warm-up included): the progress bar's 100%. */
export const offsetsToRead = (r: ResolvedRange): bigint => r.partitions.reduce((n, p) => n + BigInt(p.until) - BigInt(p.readFrom), 0n);
