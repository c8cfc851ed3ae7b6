/**
 * Holdout check: fit on purchases before the calibration end, predict the next H days per customer,
 * and compare with what they did, beside the heuristic the CLV report used before (AOV × orders
 * per day × horizon × exp(−recency / mean gap), view `customer_value`).
 */

import { fitCustomerFutures } from '../futures/fit';
import { customerFutures } from '../futures/score';
import { type ClickHouse, qualified } from '../store/clickhouse';
import { positiveInt } from '../store/values';
import { type Accuracy, accuracy } from './stats';

const DAY_MS = 86_400_000;

export interface CalibrationReport {
  /** Calibration end (UTC midnight: x, t_x and T count whole days). */
  calibrationEnd: string;
  holdoutDays: number;
  holdoutEnd: string;
  /** The data's latest event; a holdout reaching past it is cut short. */
  dataEnd: string | null;
  modelVersion: string;
  customers: number;
  purchases: { model: Accuracy; heuristic: Accuracy };
  revenue: { model: Accuracy; heuristic: Accuracy } | null;
  heuristicMethod: string;
}

export const heuristicMethod =
  'the previous report: predicted revenue = AOV x orders per day x horizon x exp(-days since last order / mean days between orders), predicted purchases = the same without AOV';

export async function calibrationReport(store: ClickHouse, options: { calibrationEnd: number; holdoutDays?: number }): Promise<CalibrationReport> {
  const holdoutDays = positiveInt(options.holdoutDays ?? 90, 'holdoutDays', 3650);
  if (!Number.isFinite(options.calibrationEnd) || options.calibrationEnd < 0)
    throw new RangeError(`calibrationEnd must be a time, got ${options.calibrationEnd}`);
  const end = Math.floor(options.calibrationEnd / DAY_MS) * DAY_MS;
  let fitted: Awaited<ReturnType<typeof fitCustomerFutures>>;
  try {
    fitted = await fitCustomerFutures(store, { asOf: end, horizonDays: holdoutDays });
  } catch (err) {
    // A calibration end before the data leaves nothing to fit: say which parameter to change.
    if (err instanceof RangeError) throw new RangeError(`calibrationEnd ${new Date(end).toISOString()}: ${err.message}`);
    throw err;
  }
  const db = store.database;
  const actualRows = await store.rows<{ customer_id: string; purchases: number; revenue_minor: number | string }>(
    `SELECT customer_id, purchases, revenue_minor FROM ${qualified(db, 'clv_holdout')}(start = fromUnixTimestamp64Milli({s:Int64}, 'UTC'), days = {d:UInt32})`,
    { s: end, d: holdoutDays },
  );
  const actual = new Map(actualRows.map((r) => [r.customer_id, { purchases: Number(r.purchases), revenue: Number(r.revenue_minor) }]));
  // The heuristic over all history before the end (the view's as_of is inclusive).
  const heuristicRows = await store.rows<{ customer_id: string; orders_per_day: number; p_alive: number; predicted_minor: number }>(
    `SELECT customer_id, orders_per_day, p_alive, predicted_minor
     FROM ${qualified(db, 'customer_value')}(as_of = fromUnixTimestamp64Milli({a:Int64}, 'UTC'), window_days = {w:UInt32}, horizon_days = {h:UInt32})`,
    { a: end - 1, w: 36_500, h: holdoutDays },
  );
  const heuristic = new Map(heuristicRows.map((r) => [r.customer_id, r]));
  const [latest] = await store.rows<{ t: number | string }>(`SELECT toUnixTimestamp64Milli(max(event_time)) AS t FROM ${qualified(db, 'events')}`);

  const cols = { mp: [] as number[], hp: [] as number[], ap: [] as number[], mr: [] as number[], hr: [] as number[], ar: [] as number[] };
  for await (const c of customerFutures(store, fitted.model)) {
    const a = actual.get(c.customerId) ?? { purchases: 0, revenue: 0 };
    const h = heuristic.get(c.customerId);
    cols.mp.push(c.expectedPurchases);
    cols.ap.push(a.purchases);
    cols.hp.push(h ? Number(h.orders_per_day) * holdoutDays * Number(h.p_alive) : 0);
    cols.ar.push(a.revenue);
    cols.hr.push(h ? Number(h.predicted_minor) : 0);
    cols.mr.push(c.clvMinor ?? 0);
  }
  const latestMs = Number(latest?.t ?? 0);
  return {
    calibrationEnd: new Date(end).toISOString(),
    holdoutDays,
    holdoutEnd: new Date(end + holdoutDays * DAY_MS).toISOString(),
    dataEnd: latestMs > 0 ? new Date(latestMs).toISOString() : null,
    modelVersion: fitted.model.version,
    customers: cols.mp.length,
    purchases: { model: accuracy(cols.mp, cols.ap), heuristic: accuracy(cols.hp, cols.ap) },
    revenue: fitted.model.gammaGamma ? { model: accuracy(cols.mr, cols.ar), heuristic: accuracy(cols.hr, cols.ar) } : null,
    heuristicMethod,
  };
}
