/**
 * The loop every replay command shares: each planned partition read (groupless, read_committed)
 * from `readFrom` to `until`, one partition after another so the output order is fixed, every
 * customer event folded through the engine's processor (see fold.ts), and the decisions of events
 * inside the range handed to the command. Records before the range only warm the state up.
 *
 * Resumable: at checkpoints (and on interrupt) the command's output is flushed, then the current
 * partition's state snapshot and the next offset are saved; a resume loads them and goes on.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ConsumedRecord, CustomerEvent, Decision, KafkaClient, Logger, RecordCodec } from '@nextact/core';
import type { DecisionDomain } from '@nextact/engine';
import { type FoldSnapshot, PartitionFold } from './fold';
import { type Interrupt, Interrupted, ProgressReporter } from './progress';
import type { PartitionPlan, ResolvedRange } from './range';
import { offsetsToRead } from './range';
import { customerEventOf, type SkipReason } from './records';

export interface FoldPosition {
  /** Partitions finished, in plan order. */
  done: number[];
  /** The partition in progress: next offset to read and the state snapshot file for it. */
  current?: { partition: number; next: string; snapshot: string };
}

export interface FoldHooks<J, L> {
  /** A partition starts (fresh or resumed); `fold` is its state. */
  partitionStart?(plan: PartitionPlan, fold: PartitionFold<J, L>): void | Promise<void>;
  /** Decisions of one in-range event (timers it made due included), in order. */
  decisions?(plan: PartitionPlan, decisions: Decision[], event: CustomerEvent, record: ConsumedRecord): void | Promise<void>;
  /** Every applied event before it is applied (warm-up included), for commands that look at state. */
  beforeEvent?(plan: PartitionPlan, event: CustomerEvent, record: ConsumedRecord, inRange: boolean): void;
  partitionEnd?(plan: PartitionPlan, fold: PartitionFold<J, L>): void | Promise<void>;
  /** Make everything handed over so far durable (before a position is saved). */
  flush?(): Promise<void>;
  /** Save the resumable position (the command adds its output's own position). */
  save?(position: FoldPosition): void;
}

export interface FoldSummary {
  /** Offsets read (warm-up included) and records in range. */
  offsetsRead: bigint;
  recordsRead: number;
  eventsInRange: number;
  decisions: number;
  skipped: Record<SkipReason, number>;
  seconds: number;
  /** Records (events) read per second over the whole run, warm-up included. */
  eventsPerSec: number;
}

export interface FoldOptions<J, L> {
  kafka: KafkaClient;
  codec: RecordCodec;
  logger: Logger;
  range: ResolvedRange;
  domain: DecisionDomain<J, L>;
  /**
   * The policy that made the state before the range (default: `domain`): after a cut-over the
   * journeys below the cut were shaped by the previous version's decisions.
   */
  warmupDomain?: DecisionDomain<J, L>;
  hooks: FoldHooks<J, L>;
  label: string;
  resume?: FoldPosition;
  /** Where the in-progress partition's snapshot goes (next to the progress file). */
  snapshotFile?: string;
  checkpointEveryMs?: number;
  interrupt?: Interrupt;
  progress?: ProgressReporter | false;
}

export async function foldRange<J, L>(o: FoldOptions<J, L>): Promise<FoldSummary> {
  const started = Date.now();
  const { range, hooks } = o;
  const done = new Set(o.resume?.done ?? []);
  const progress = o.progress === false ? undefined : (o.progress ?? new ProgressReporter(o.label, offsetsToRead(range)));
  const summary: FoldSummary = {
    offsetsRead: 0n,
    recordsRead: 0,
    eventsInRange: 0,
    decisions: 0,
    skipped: { 'decode-failed': 0, 'unknown-record': 0, 'reserved-key': 0, 'key-mismatch': 0 },
    seconds: 0,
    eventsPerSec: 0,
  };
  const every = o.checkpointEveryMs ?? 30_000;
  for (const plan of range.partitions) {
    if (done.has(plan.partition)) {
      progress?.advance(BigInt(plan.until) - BigInt(plan.readFrom));
      continue;
    }
    const switching = o.warmupDomain ? new SwitchingDomain(o.warmupDomain) : undefined;
    const fold = new PartitionFold(switching?.domain ?? o.domain, (customerId, err) =>
      o.logger.warn('timer failed; dropped (as the engine does)', { customerId, err }),
    );
    let next = BigInt(plan.readFrom);
    const cur = o.resume?.current;
    if (cur && cur.partition === plan.partition && existsSync(cur.snapshot)) {
      fold.load(JSON.parse(readFileSync(cur.snapshot, 'utf8')) as FoldSnapshot);
      next = BigInt(cur.next);
      progress?.advance(next - BigInt(plan.readFrom));
    }
    await hooks.partitionStart?.(plan, fold);
    const from = BigInt(plan.from);
    const time = range.time;
    let lastSave = Date.now();
    const save = async () => {
      await hooks.flush?.();
      let current: FoldPosition['current'];
      if (o.snapshotFile) {
        writeFileSync(o.snapshotFile, JSON.stringify(fold.snapshot(range.topic, plan.partition, next.toString())));
        current = { partition: plan.partition, next: next.toString(), snapshot: o.snapshotFile };
      }
      hooks.save?.({ done: [...done], current });
      lastSave = Date.now();
    };
    if (next < BigInt(plan.until)) {
      let interrupted = false;
      // Throwing from the callback is the only way to stop a read; adapters wrap what is thrown.
      await o.kafka
        .readPartitions(range.topic, [{ partition: plan.partition, from: next.toString(), until: plan.until }], async (records) => {
          for (const record of records) {
            summary.recordsRead++;
            const r = await customerEventOf(o.codec, record);
            if ('skipped' in r) {
              summary.skipped[r.skipped]++;
              continue;
            }
            const event = r.event;
            const t = event.value.eventTime;
            const inRange = BigInt(record.offset) >= from && (time === undefined || (t >= time.from && t < time.until));
            // A cold run starts from nothing: events outside the range leave no state either.
            if (!inRange && !range.warm) continue;
            if (switching && BigInt(record.offset) >= from) switching.current = o.domain;
            hooks.beforeEvent?.(plan, event, record, inRange);
            const decisions = fold.apply(event, record.timestamp, record.timestamp, (err) =>
              o.logger.warn('domain failed on a record; skipped (the engine dead-letters it)', { partition: plan.partition, offset: record.offset, err }),
            );
            if (!inRange) continue;
            summary.eventsInRange++;
            summary.decisions += decisions.length;
            if (hooks.decisions) await hooks.decisions(plan, decisions, event, record);
          }
          const last = records.at(-1);
          const moved = last ? BigInt(last.offset) + 1n - next : 0n;
          if (last) next = BigInt(last.offset) + 1n;
          summary.offsetsRead += moved;
          progress?.advance(moved);
          if (o.interrupt?.requested) {
            await save();
            interrupted = true;
            throw new Interrupted();
          }
          if (Date.now() - lastSave >= every) await save();
        })
        .catch((err) => {
          throw interrupted ? new Interrupted() : err;
        });
      // Markers and aborted data after the last record count as read.
      const tail = BigInt(plan.until) - next;
      summary.offsetsRead += tail;
      progress?.advance(tail);
      next = BigInt(plan.until);
    }
    await hooks.partitionEnd?.(plan, fold);
    done.add(plan.partition);
    await hooks.flush?.();
    hooks.save?.({ done: [...done] });
  }
  if (o.snapshotFile) rmSync(o.snapshotFile, { force: true });
  summary.seconds = (Date.now() - started) / 1000;
  summary.eventsPerSec = summary.recordsRead / Math.max(0.001, summary.seconds);
  progress?.finish();
  return summary;
}

/** A domain whose decisions come from `current`: the warm-up policy, then the replayed one. */
class SwitchingDomain<J, L> {
  current: DecisionDomain<J, L>;
  readonly domain: DecisionDomain<J, L>;

  constructor(first: DecisionDomain<J, L>) {
    this.current = first;
    const self = this;
    this.domain = {
      get policyVersion() {
        return self.current.policyVersion;
      },
      initialJourney: (id) => self.current.initialJourney(id),
      initialLearner: () => self.current.initialLearner(),
      deletesJourney: (j, e) => self.current.deletesJourney(j, e),
      onEvent: (j, l, e, t) => self.current.onEvent(j, l, e, t),
      nextTimer: (j) => self.current.nextTimer(j),
      onTimer: (j, l, due, t) => self.current.onTimer(j, l, due, t),
      serialiseJourney: (j) => self.current.serialiseJourney(j),
      deserialiseJourney: (b) => self.current.deserialiseJourney(b),
      serialiseLearner: (l) => self.current.serialiseLearner(l),
      deserialiseLearner: (b) => self.current.deserialiseLearner(b),
    };
  }
}
