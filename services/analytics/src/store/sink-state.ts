import { type ClickHouse, qualified } from './clickhouse';

/** One write-ahead record of the sink: a batch's offset range before and after its insert. */
export interface BatchState {
  topic: string;
  partition: number;
  minOffset: string;
  maxOffset: string;
  state: 'BEFORE' | 'AFTER';
  rows: number;
}

/** Orders a partition's states by offsets alone: BEFORE(max) < AFTER(max) < BEFORE(next max). */
export const stateVersion = (maxOffset: string, state: 'BEFORE' | 'AFTER'): string => (BigInt(maxOffset) * 2n + (state === 'AFTER' ? 1n : 0n)).toString();

export async function recordState(store: ClickHouse, consumerGroup: string, s: BatchState): Promise<void> {
  await store.exec(
    `INSERT INTO ${qualified(store.database, 'sink_state')} (consumer_group, topic, partition, min_offset, max_offset, state, rows, version)
     VALUES ({group:String}, {topic:String}, {partition:UInt32}, {min:UInt64}, {max:UInt64}, {state:String}, {rows:UInt32}, {version:UInt64})`,
    {
      group: consumerGroup,
      topic: s.topic,
      partition: s.partition,
      min: s.minOffset,
      max: s.maxOffset,
      state: s.state,
      rows: s.rows,
      version: stateVersion(s.maxOffset, s.state),
    },
  );
}

/** The latest state of a topic-partition for a consumer group, or null when it never wrote one. */
export async function lastState(store: ClickHouse, consumerGroup: string, topic: string, partition: number): Promise<BatchState | null> {
  const rows = await store.rows<{ n: number | string; min: string; max: string; state: 'BEFORE' | 'AFTER'; rows: number }>(
    `SELECT count() AS n, toString(argMax(min_offset, version)) AS min, toString(argMax(max_offset, version)) AS max,
            toString(argMax(state, version)) AS state, argMax(rows, version) AS rows
     FROM ${qualified(store.database, 'sink_state')}
     WHERE consumer_group = {group:String} AND topic = {topic:String} AND partition = {partition:UInt32}`,
    { group: consumerGroup, topic, partition },
  );
  const r = rows[0];
  if (!r || Number(r.n) === 0) return null;
  return { topic, partition, minOffset: r.min, maxOffset: r.max, state: r.state, rows: Number(r.rows) };
}

/** An erasure request as the sink met it on the customer-events topic. */
export interface ErasureSeen {
  erasureId: string;
  customerId: string;
  requestedBy: string;
  reason: string | null;
  source: string;
  requestedAt: number;
  partition: number;
  offset: string;
}

/** An erasure request as read from the events topic at `partition`/`offset` (the sink and backfills alike). */
export function erasureSeen(
  e: { eventId: string; customerId: string; requestedBy: string; reason: string | null; source: string; requestedAt: number },
  partition: number,
  offset: string,
): ErasureSeen {
  return {
    erasureId: e.eventId,
    customerId: e.customerId,
    requestedBy: e.requestedBy,
    reason: e.reason,
    source: e.source,
    requestedAt: e.requestedAt,
    partition,
    offset,
  };
}

/**
 * Writes the erasure records of one batch, counting first what the deletes will remove. The insert
 * carries the batch's own token, so a retried batch does not write them twice (and keeps the
 * counts of the first attempt, made before anything was deleted).
 */
export async function recordErasures(store: ClickHouse, erasures: readonly ErasureSeen[], token: string): Promise<void> {
  if (erasures.length === 0) return;
  const ids = [...new Set(erasures.map((e) => e.customerId))];
  const counts = new Map<string, { events: number; decisions: number }>(ids.map((id) => [id, { events: 0, decisions: 0 }]));
  for (const table of ['events', 'decisions'] as const) {
    const rows = await store.rows<{ customer_id: string; n: number | string }>(
      `SELECT customer_id, count() AS n FROM ${qualified(store.database, table)} WHERE customer_id IN {ids:Array(String)} GROUP BY customer_id`,
      { ids },
    );
    for (const r of rows) counts.get(r.customer_id)![table] = Number(r.n);
  }
  await store.insert(
    'erasures',
    erasures.map((e) => ({
      erasure_id: e.erasureId,
      customer_id: e.customerId,
      requested_by: e.requestedBy,
      reason: e.reason,
      source: e.source,
      requested_at: e.requestedAt,
      kafka_partition: e.partition,
      kafka_offset: e.offset,
      events_deleted: counts.get(e.customerId)!.events,
      decisions_deleted: counts.get(e.customerId)!.decisions,
    })),
    `erasures/${token}`,
  );
}

/** The ids among `customerIds` that have an erasure record. */
export async function erasedAmong(store: ClickHouse, customerIds: readonly string[]): Promise<string[]> {
  const unique = [...new Set(customerIds)];
  const erased: string[] = [];
  // In server mode parameters travel in the URL (http_max_uri_size, 1 MiB by default): ask in slices.
  for (let i = 0; i < unique.length; i += ID_SLICE) {
    const rows = await store.rows<{ customer_id: string }>(
      `SELECT DISTINCT customer_id FROM ${qualified(store.database, 'erasures')} WHERE customer_id IN {ids:Array(String)}`,
      { ids: unique.slice(i, i + ID_SLICE) },
    );
    for (const r of rows) erased.push(r.customer_id);
  }
  return erased;
}

/** Ids per IN-list parameter: at most 128 characters each, so a slice stays far below 1 MiB of URL. */
const ID_SLICE = 1_000;

/**
 * Deletes every events and decisions row of these customers (lightweight DELETE: the rows are
 * masked at once and dropped from disk as parts merge). Idempotent, so a retried batch repeats it.
 */
export async function deleteCustomers(store: ClickHouse, customerIds: readonly string[]): Promise<void> {
  for (let i = 0; i < customerIds.length; i += ID_SLICE) {
    const ids = customerIds.slice(i, i + ID_SLICE);
    for (const table of ['events', 'decisions'] as const) {
      await store.exec(`DELETE FROM ${qualified(store.database, table)} WHERE customer_id IN {ids:Array(String)}`, { ids });
    }
  }
}
