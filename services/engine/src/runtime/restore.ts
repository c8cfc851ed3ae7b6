/**
 * Restores partition stores from the changelog before their events are processed: from the
 * offset a persistent store reflects (or the start), read_committed, up to the end offset at the
 * time of the read. Callers read the group's committed offsets stable first, so no transaction of
 * a previous owner is still open on these partitions: the changelog read here is final.
 */
import type { KafkaAdmin, KafkaClient, Logger } from '@nextact/core';
import type { EngineMetrics } from './metrics';
import { type PartitionStore, type RestoredValue, TIMER_HEADER, timerFromHeader } from './store';

export interface RestoreItem<J, L> {
  partition: number;
  store: PartitionStore<J, L>;
}

export interface RestoreOutcome {
  partition: number;
  /** Changelog end offset the store now reflects (exclusive). */
  until: string;
  records: number;
  /** The store already held state up to an offset, so only the tail after it was read. */
  fromStore: boolean;
  seconds: number;
}

/** A persistent store makes restored records durable every this many keys, so the heap stays bounded. */
const PERSIST_EVERY_KEYS = 50_000;

export async function restorePartitions<J, L>(options: {
  kafka: KafkaClient;
  admin: KafkaAdmin;
  changelogTopic: string;
  items: RestoreItem<J, L>[];
  logger: Logger;
  metrics?: EngineMetrics;
}): Promise<RestoreOutcome[]> {
  const { kafka, admin, changelogTopic, items, logger, metrics } = options;
  if (items.length === 0) return [];
  const started = Date.now();
  const marks = new Map((await admin.watermarks(changelogTopic)).map((w) => [w.partition, w]));
  const ranges: { partition: number; from: string; until: string }[] = [];
  const fromStore = new Set<number>();
  for (const item of items) {
    const mark = marks.get(item.partition);
    const low = mark?.low ?? '0';
    const high = mark?.high ?? '0';
    const stored = item.store.stored()?.changelogOffset;
    let from = low;
    // Usable when inside the log: beyond its end the topic was recreated; below its start the
    // records in between (tombstones among them) are gone.
    if (stored !== undefined && BigInt(stored) <= BigInt(high) && BigInt(stored) >= BigInt(low)) {
      from = stored;
      fromStore.add(item.partition);
    } else {
      if (stored !== undefined)
        logger.warn('store does not match the changelog (recreated topic?); restoring from its start', { partition: item.partition, stored, low, high });
      item.store.clear();
    }
    ranges.push({ partition: item.partition, from, until: high });
  }
  logger.info('restore started', { changelogTopic, ranges, fromStore: [...fromStore] });

  // A persistent store takes the latest value per key in slices (durable with the offset after the
  // slice's last record), so superseded values are not written. The memory store keeps values
  // encoded, so a superseded one costs nothing there: it takes each fetch's records as they come,
  // which lets the fetch buffers go (staging all of them kept the whole changelog's responses alive
  // and was a quarter of the restore's CPU in GC).
  const byPartition = new Map(items.map((i) => [i.partition, i.store]));
  const latest = new Map<number, Map<string, RestoredValue>>(items.map((i) => [i.partition, new Map()]));
  const persistent = new Set(items.filter((i) => i.store.state.kind !== 'memory').map((i) => i.partition));
  let progressAt = Date.now();
  let total = 0;
  const counts = new Map<number, number>();
  const results = await kafka.readPartitions(
    changelogTopic,
    ranges.map(({ partition, from }) => ({ partition, from })),
    async (records) => {
      for (const r of records) {
        const pending = latest.get(r.partition)!;
        if (r.key !== null) {
          // An older schema version's value is resolved through the registry (rare, asynchronous).
          const value = r.value === null ? null : byPartition.get(r.partition)!.values.normalise(r.value);
          const bytes = value instanceof Promise ? await value : value;
          pending.set(r.key, [bytes, timerFromHeader(r.headers[TIMER_HEADER])]);
        }
        counts.set(r.partition, (counts.get(r.partition) ?? 0) + 1);
        if (pending.size >= PERSIST_EVERY_KEYS && persistent.has(r.partition)) {
          byPartition.get(r.partition)!.applyChangelog(pending, (BigInt(r.offset) + 1n).toString());
          pending.clear();
        }
      }
      for (const [partition, pending] of latest) {
        if (pending.size === 0 || persistent.has(partition)) continue;
        byPartition.get(partition)!.applyChangelog(pending, '0'); // memory: the offset is not kept
        pending.clear();
      }
      total += records.length;
      metrics?.restoredRecords.inc(records.length);
      if (Date.now() - progressAt > 2_000) {
        progressAt = Date.now();
        logger.info('restore progress', { changelogTopic, records: total });
      }
    },
  );
  const seconds = (Date.now() - started) / 1000;
  const outcomes: RestoreOutcome[] = [];
  for (const item of items) {
    const until = results.find((x) => x.partition === item.partition)?.until ?? marks.get(item.partition)?.high ?? '0';
    item.store.applyChangelog(latest.get(item.partition) ?? [], until);
    const outcome = { partition: item.partition, until, records: counts.get(item.partition) ?? 0, fromStore: fromStore.has(item.partition), seconds };
    metrics?.restoreDuration.observe(seconds);
    outcomes.push(outcome);
    logger.info('partition restored', { ...outcome, journeys: item.store.size, streamTime: item.store.streamTime });
  }
  return outcomes;
}
