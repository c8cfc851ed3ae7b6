/**
 * backfill: re-sinks a range of the customer-events or decisions topic into ClickHouse, idempotently.
 * The sink's own guarantee (a retried batch repeats its offset range and dedup token) does not cover
 * a range cut differently, so a backfill first asks which offsets of each block are already stored
 * and inserts only the others, under a token naming exactly those offsets: a block retried after a
 * crash is dropped by ClickHouse, a range overlapping rows already sunk adds nothing. Rows of erased
 * customers are never brought back, and erasure requests in the range are applied as the sink does.
 */
import { join } from 'node:path';
import {
  type ClickHouse,
  createClickHouse,
  type DecisionRow,
  decisionRow,
  deleteCustomers,
  type ErasureSeen,
  type EventRow,
  erasedAmong,
  erasureSeen,
  eventRow,
  migrate,
  qualified,
  recordErasures,
  UnfitRecord,
} from '@nextact/analytics';
import { type ConsumedRecord, isRetriable, type RecordTypes } from '@nextact/core';
import type { ReplayContext } from './context';
import { digestOf } from './context';
import { clearProgress, fmtRate, Interrupt, Interrupted, ProgressReporter, readProgress, writeProgress } from './progress';
import { invalid, offsetsToRead, type RangeSpec, type ResolvedRange, resolveRange, watermarksOf } from './range';

export type BackfillSource = 'events' | 'decisions';

export interface BackfillOptions {
  source: BackfillSource;
  range: RangeSpec;
  /** The store; default: from configuration (CLICKHOUSE_URL, or embedded chdb at CHDB_PATH). */
  store?: ClickHouse;
  /** Offsets per block (default 10,000): the unit of the existence check and of one insert. */
  blockOffsets?: number;
  progressFile?: string;
  restart?: boolean;
  progress?: boolean;
  interrupt?: Interrupt;
}

export interface BackfillResult {
  table: string;
  range: ResolvedRange;
  recordsRead: number;
  inserted: number;
  alreadyStored: number;
  /** Records that do not fit the table (the sink dead-letters them; a backfill only counts them). */
  unfit: number;
  /** Rows left out because their customer is erased. */
  erased: number;
  erasureRequests: number;
  seconds: number;
  recordsPerSec: number;
  resumed: boolean;
}

interface BackfillPosition {
  range: ResolvedRange;
  /** Next offset per partition still to do (whole blocks before it are done). */
  next: Record<string, string>;
}

export async function runBackfill(ctx: ReplayContext, o: BackfillOptions): Promise<BackfillResult> {
  if (o.source !== 'events' && o.source !== 'decisions') throw invalid(`backfill: --topic-name ${String(o.source)}: use events (customer-events) or decisions`);
  const topic = o.source === 'events' ? ctx.topics.customerEvents : ctx.topics.decisions;
  const table = o.source;
  const identity = digestOf({ command: 'backfill', topic, range: o.range, block: o.blockOffsets ?? 10_000 });
  const progressFile = o.progressFile ?? join('.replay', `backfill-${identity.slice(0, 10)}.progress.json`);
  if (o.restart) clearProgress(progressFile);
  const saved = readProgress<BackfillPosition>(progressFile, 'backfill', identity);
  const range = saved?.range ?? resolveRange(topic, o.range, await watermarksOf(ctx.admin, topic), { warm: false });
  const block = BigInt(o.blockOffsets ?? 10_000);
  const store = o.store ?? createClickHouse(ctx.config);
  if (!o.store) await migrate(store, ctx.logger);
  const started = Date.now();
  const result: BackfillResult = {
    table,
    range,
    recordsRead: 0,
    inserted: 0,
    alreadyStored: 0,
    unfit: 0,
    erased: 0,
    erasureRequests: 0,
    seconds: 0,
    recordsPerSec: 0,
    resumed: saved !== undefined,
  };
  const position: BackfillPosition = { range, next: { ...(saved?.next ?? {}) } };
  const progress = o.progress === false ? undefined : new ProgressReporter(`backfill ${table}`, offsetsToRead(range));
  const interrupt = o.interrupt ?? new Interrupt().listen();
  try {
    for (const plan of range.partitions) {
      const start = BigInt(position.next[String(plan.partition)] ?? plan.from);
      progress?.advance(start - BigInt(plan.from));
      const until = BigInt(plan.until);
      // Blocks aligned on multiples of `block`, so a rerun over another range meets the same blocks.
      for (let a = start; a < until; ) {
        const b = ((a / block) * block + block < until ? (a / block) * block + block : until) as bigint;
        const records: ConsumedRecord[] = [];
        await ctx.kafka.readPartitions(topic, [{ partition: plan.partition, from: a.toString(), until: b.toString() }], (rs) => {
          records.push(...rs);
        });
        await backfillBlock(ctx, store, table, topic, plan.partition, records, range.time, result);
        progress?.advance(b - a);
        a = b;
        position.next[String(plan.partition)] = b.toString();
        writeProgress(progressFile, 'backfill', identity, position);
        if (interrupt.requested) throw new Interrupted();
      }
    }
    clearProgress(progressFile);
  } finally {
    if (!o.interrupt) interrupt.close();
    progress?.finish();
    if (!o.store) await store.close();
  }
  result.seconds = (Date.now() - started) / 1000;
  result.recordsPerSec = result.recordsRead / Math.max(0.001, result.seconds);
  return result;
}

async function backfillBlock(
  ctx: ReplayContext,
  store: ClickHouse,
  table: BackfillSource,
  topic: string,
  partition: number,
  records: ConsumedRecord[],
  time: ResolvedRange['time'],
  result: BackfillResult,
): Promise<void> {
  if (records.length === 0) return;
  result.recordsRead += records.length;
  const first = records[0]!.offset;
  const last = records.at(-1)!.offset;
  const stored = new Set(
    (
      await store.rows<{ o: string }>(
        `SELECT DISTINCT toString(kafka_offset) AS o FROM ${qualified(store.database, table)}
         WHERE kafka_partition = {p:UInt32} AND kafka_offset BETWEEN {a:UInt64} AND {b:UInt64}`,
        { p: partition, a: first, b: last },
      )
    ).map((r) => r.o),
  );
  const rows: (EventRow | DecisionRow)[] = [];
  const erasures: ErasureSeen[] = [];
  for (const record of records) {
    let decoded: Awaited<ReturnType<ReplayContext['codec']['decode']>>;
    try {
      decoded = await ctx.codec.decode(record.value);
    } catch (err) {
      if (isRetriable(err)) throw err; // registry trouble: never drop valid data
      result.unfit++;
      continue;
    }
    const eventTime = (decoded.value as { eventTime?: number; requestedAt?: number }).eventTime ?? (decoded.value as { requestedAt?: number }).requestedAt;
    if (time && !(eventTime !== undefined && eventTime >= time.from && eventTime < time.until)) continue;
    if (table === 'events' && decoded.name === 'nextact.ErasureRequest') {
      erasures.push(erasureSeen(decoded.value as RecordTypes['nextact.ErasureRequest'], partition, record.offset));
      continue;
    }
    if (stored.has(record.offset)) {
      result.alreadyStored++;
      continue;
    }
    try {
      rows.push(table === 'decisions' ? decisionRow(decoded, record) : eventRow(decoded, record));
    } catch (err) {
      if (!(err instanceof UnfitRecord)) throw err;
      result.unfit++;
    }
  }
  const token = `backfill/${topic}/${partition}/${first}-${last}`;
  if (erasures.length > 0) {
    await recordErasures(store, erasures, token);
    result.erasureRequests += erasures.length;
  }
  const erased = new Set(await erasedAmong(store, [...rows.map((r) => r.customer_id), ...erasures.map((e) => e.customerId)]));
  const keep = rows.filter((r) => !erased.has(r.customer_id));
  result.erased += rows.length - keep.length;
  if (keep.length > 0) {
    // The token names the offsets inserted: the same block retried is dropped by ClickHouse.
    await store.insert(table, keep, `${token}/${digestOf(keep.map((r) => r.kafka_offset)).slice(0, 16)}`);
    result.inserted += keep.length;
  }
  if (erasures.length > 0) await deleteCustomers(store, [...new Set(erasures.map((e) => e.customerId))]);
}

export const backfillLine = (r: BackfillResult): string =>
  `backfill ${r.table}: ${r.recordsRead} records read, ${r.inserted} rows inserted, ${r.alreadyStored} already stored, ${r.erased} erased left out, ${r.unfit} unfit, in ${r.seconds.toFixed(1)} s: ${fmtRate(r.recordsPerSec)}`;
