/** What the stored data covers, and why a report's table is empty: shared by the reports. */
import { type ClickHouse, qualified } from '../store/clickhouse';
import { num, positiveInt } from '../store/values';
import { MIN_CUSTOMERS_PER_ARM } from './stats';

/** The event-time span of the stored events: a report's windows close only inside it. */
export interface Coverage {
  firstEventTime: string | null;
  lastEventTime: string | null;
  /** Hours from the first to the last event (simulated time for a simulated run). */
  spanHours: number;
  events: number;
}

export async function dataCoverage(store: ClickHouse): Promise<Coverage> {
  const [r] = await store.rows<Record<string, unknown>>(
    `SELECT count() AS n, toUnixTimestamp64Milli(min(event_time)) AS first, toUnixTimestamp64Milli(max(event_time)) AS last FROM ${qualified(store.database, 'events')}`,
  );
  const events = num(r?.n);
  if (events === 0) return { firstEventTime: null, lastEventTime: null, spanHours: 0, events };
  const first = num(r?.first);
  const last = num(r?.last);
  return { firstEventTime: new Date(first).toISOString(), lastEventTime: new Date(last).toISOString(), spanHours: (last - first) / 3_600_000, events };
}

const hours = (h: number): string => (h >= 48 ? `${h.toFixed(0)} h (${(h / 24).toFixed(1)} d)` : `${h.toFixed(1)} h`);

/** Why a comparison table is empty, in the reader's terms; null when it has rows. */
export function emptyReason(rows: number, coverage: Coverage, windowHours: number, what: string): string | null {
  if (rows > 0) return null;
  if (coverage.events === 0) return 'no events stored yet';
  if (coverage.spanHours < windowHours) return `no closed ${windowHours} h windows yet: the events span ${hours(coverage.spanHours)}`;
  return `${what} (events span ${hours(coverage.spanHours)})`;
}

export function minPerArmOption(value: number | undefined): number {
  return value === undefined ? MIN_CUSTOMERS_PER_ARM : positiveInt(value, 'minPerArm', 1_000_000);
}
