/**
 * A customer's future from their journey at an event time: the journey's purchase-day summary
 * (x, t_x, T, mean repeat spend) in the model's time unit, scored by the model in force. O(1) per
 * event (P(alive) is closed-form; expected purchases sum a short 2F1 series).
 */
import { type CustomerFuture, type CustomerSummary, customerFuture, probabilityAlive } from '@nextact/core/src/models';
import type { PurchaseDays } from '../journey/state';
import { utcDay } from '../journey/transitions';
import { DAY_MS } from '../spec/units';
import type { ModelVersion } from './timeline';

/** The summary as analytics' clv_customer_summaries computes it, as of `at`, in the model's time unit. */
export function summaryAt(pd: PurchaseDays, at: number, timeUnitMs: number): CustomerSummary {
  const unit = DAY_MS / timeUnitMs;
  const x = pd.repeatDays;
  return {
    x,
    tx: (pd.lastDay - pd.firstDay) * unit,
    T: (Math.max(pd.lastDay, utcDay(at)) - pd.firstDay) * unit,
    meanSpend: x > 0 ? pd.repeatSpendMinor / x : 0,
  };
}

export interface ScoredFuture extends CustomerFuture {
  modelVersion: string;
}

export function futureAt(pd: PurchaseDays | null, model: ModelVersion | undefined, at: number): ScoredFuture | undefined {
  if (!pd || !model) return undefined;
  const m = model.parameters;
  return { modelVersion: m.version, ...customerFuture(m, summaryAt(pd, at, m.timeUnitMs)) };
}

export function pAliveAt(pd: PurchaseDays, model: ModelVersion, at: number): number {
  const s = summaryAt(pd, at, model.parameters.timeUnitMs);
  return probabilityAlive(model.parameters.bgnbd, s.x, s.tx, s.T);
}

/**
 * The first UTC day start at which P(alive) under `model` is below `threshold`, or undefined when
 * it never falls (x = 0: alive by the model). Closed form of the BG/NBD odds,
 * P(alive) < θ ⇔ (α + T) > (α + t_x)·((1 − θ)/θ · (b + x − 1)/a)^(1/(r + x)), on whole days of T.
 */
export function pAliveFallsBelowAt(pd: PurchaseDays, model: ModelVersion, threshold: number): number | undefined {
  const { r, alpha, a, b } = model.parameters.bgnbd;
  const x = pd.repeatDays;
  if (x <= 0) return undefined;
  const unitsPerDay = DAY_MS / model.parameters.timeUnitMs;
  const tx = (pd.lastDay - pd.firstDay) * unitsPerDay;
  const tStar = (alpha + tx) * (((1 - threshold) / threshold) * ((b + x - 1) / a)) ** (1 / (r + x)) - alpha;
  if (!Number.isFinite(tStar)) return undefined;
  // Smallest whole day T with T > T* (T counts days from the first purchase day), and never before the last purchase.
  const day = Math.max(pd.lastDay, pd.firstDay + Math.floor(tStar / unitsPerDay) + 1);
  return day * DAY_MS;
}
