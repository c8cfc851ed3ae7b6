/**
 * Restores partition stores from the changelog before their events are processed: the local
 * checkpoint (if valid) and then the changelog tail after it, read_committed, up to the end offset
 * at the time of the read. Callers initialise the partition's transactional producer first, which
 * fences any previous owner, so the changelog read here is final.
 */
import type { KafkaAdmin, KafkaClient, Logger } from '@nextact/core';
import type { EngineMetrics } from './metrics';
import { type PartitionStore, readCheckpoint } from './store';

export interface RestoreItem<J, L> {
  partition: number;
  store: PartitionStore<J, L>;
  /** Checkpoint file, or undefined to always read the whole changelog partition. */
  checkpointFile?: string;
}

export interface RestoreOutcome {
  partition: number;
  /** Changelog end offset the store now reflects (exclusive). */
  until: string;
  records: number;
  fromCheckpoint: boolean;
  seconds: number;
}

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
  const fromCheckpoint = new Set<number>();
  for (const item of items) {
    item.store.clear();
    const mark = marks.get(item.partition);
    let from = mark?.low ?? '0';
    const cp = item.checkpointFile ? await readCheckpoint(item.checkpointFile) : undefined;
    if (cp && mark && cp.topic === changelogTopic && cp.partition === item.partition && BigInt(cp.changelogOffset) <= BigInt(mark.high)) {
      try {
        item.store.loadSnapshot(cp);
        from = BigInt(cp.changelogOffset) > BigInt(mark.low) ? cp.changelogOffset : mark.low;
        fromCheckpoint.add(item.partition);
      } catch (err) {
        logger.warn('checkpoint unreadable; restoring from the whole changelog', { partition: item.partition, err });
        item.store.clear();
      }
    } else if (cp) {
      logger.warn('checkpoint does not match the changelog (recreated topic?); ignoring it', {
        partition: item.partition,
        checkpointOffset: cp.changelogOffset,
        high: mark?.high,
      });
    }
    ranges.push({ partition: item.partition, from, until: mark?.high ?? '0' });
  }
  logger.info('restore started', { changelogTopic, ranges, fromCheckpoint: [...fromCheckpoint] });

  // Latest value per key first, deserialised once at the end: superseded values cost no parsing.
  const latest = new Map<number, Map<string, Buffer | null>>(items.map((i) => [i.partition, new Map()]));
  let progressAt = Date.now();
  let total = 0;
  const counts = new Map<number, number>();
  const results = await kafka.readPartitions(
    changelogTopic,
    ranges.map(({ partition, from }) => ({ partition, from })),
    (records) => {
      for (const r of records) {
        if (r.key !== null) latest.get(r.partition)!.set(r.key, r.value);
        counts.set(r.partition, (counts.get(r.partition) ?? 0) + 1);
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
    for (const [key, value] of latest.get(item.partition) ?? []) item.store.applyChangelog(key, value);
    const r = results.find((x) => x.partition === item.partition);
    const outcome = {
      partition: item.partition,
      until: r?.until ?? marks.get(item.partition)?.high ?? '0',
      records: counts.get(item.partition) ?? 0,
      fromCheckpoint: fromCheckpoint.has(item.partition),
      seconds,
    };
    metrics?.restoreDuration.observe(seconds);
    outcomes.push(outcome);
    logger.info('partition restored', { ...outcome, journeys: item.store.size, streamTime: item.store.streamTime });
  }
  return outcomes;
}
