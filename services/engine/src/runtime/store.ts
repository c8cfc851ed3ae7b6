/**
 * One partition's state: journeys by customer id, the partition's learner, its stream time and
 * the due-timer index. The changelog topic is the durable copy; a local checkpoint file (a
 * snapshot plus the changelog offset it is safe to replay from) makes restarts replay only the tail.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DecisionDomain } from '../domain';
import { TimerIndex } from './timers';

/** Reserved changelog keys (customer ids may not use them). */
export const LEARNER_KEY = '__learner__';
export const STREAM_TIME_KEY = '__stream_time__';
export const isReservedKey = (key: string): boolean => key === LEARNER_KEY || key === STREAM_TIME_KEY;

export class PartitionStore<J, L> {
  readonly journeys = new Map<string, J>();
  readonly timers = new TimerIndex();
  learner: L;
  /** Max event time seen on the partition; drives timers (never the wall clock). */
  streamTime = 0;

  constructor(private readonly domain: DecisionDomain<J, L>) {
    this.learner = domain.initialLearner();
  }

  get size(): number {
    return this.journeys.size;
  }

  put(customerId: string, journey: J): void {
    this.journeys.set(customerId, journey);
    this.timers.set(customerId, this.domain.nextTimer(journey));
  }

  /** Applies one changelog record (latest value wins; null is a tombstone). */
  applyChangelog(key: string, value: Buffer | null): void {
    if (key === LEARNER_KEY) {
      this.learner = value ? this.domain.deserialiseLearner(value) : this.domain.initialLearner();
    } else if (key === STREAM_TIME_KEY) {
      this.streamTime = value ? decodeStreamTime(value) : 0;
    } else if (value === null) {
      this.journeys.delete(key);
      this.timers.set(key, undefined);
    } else {
      this.put(key, this.domain.deserialiseJourney(value));
    }
  }

  clear(): void {
    this.journeys.clear();
    this.timers.clear();
    this.learner = this.domain.initialLearner();
    this.streamTime = 0;
  }

  snapshot(meta: { topic: string; partition: number; changelogOffset: string }): Checkpoint {
    const journeys: [string, string][] = [];
    for (const [id, j] of this.journeys) journeys.push([id, this.domain.serialiseJourney(j).toString('base64')]);
    return {
      format: 1,
      ...meta,
      streamTime: this.streamTime,
      learner: this.domain.serialiseLearner(this.learner).toString('base64'),
      journeys,
    };
  }

  loadSnapshot(cp: Checkpoint): void {
    this.clear();
    this.streamTime = cp.streamTime;
    this.learner = this.domain.deserialiseLearner(Buffer.from(cp.learner, 'base64'));
    for (const [id, b64] of cp.journeys) this.put(id, this.domain.deserialiseJourney(Buffer.from(b64, 'base64')));
  }
}

export const encodeStreamTime = (t: number): Buffer => Buffer.from(JSON.stringify({ streamTime: t }));
export function decodeStreamTime(value: Buffer): number {
  const parsed = JSON.parse(value.toString('utf8')) as { streamTime?: unknown };
  return typeof parsed.streamTime === 'number' ? parsed.streamTime : 0;
}

export interface Checkpoint {
  format: 1;
  topic: string;
  partition: number;
  /**
   * Changelog offset to replay from. Every changelog write at or after it may be missing from the
   * snapshot; replaying from an earlier offset is harmless (each record is a full latest value).
   */
  changelogOffset: string;
  streamTime: number;
  learner: string;
  journeys: [string, string][];
}

/** Written to a temporary file and renamed, so a crash never leaves half a checkpoint. */
export async function writeCheckpoint(file: string, cp: Checkpoint): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, JSON.stringify(cp));
  await rename(tmp, file);
}

/** The checkpoint, or undefined when there is none or it is unreadable (then restore from the start). */
export async function readCheckpoint(file: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const cp = JSON.parse(text) as Checkpoint;
    if (cp.format !== 1 || typeof cp.changelogOffset !== 'string' || !Array.isArray(cp.journeys)) return undefined;
    return cp;
  } catch {
    return undefined;
  }
}
