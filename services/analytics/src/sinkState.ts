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
