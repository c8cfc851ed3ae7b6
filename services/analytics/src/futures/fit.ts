/**
 * Fits the customer-futures models as of a time from ClickHouse's per-customer summaries. Identical
 * summaries are grouped in SQL (x, t_x, T are whole days), so a fit's cost grows with the distinct
 * summaries, not the customers.
 */
import { createHash } from 'node:crypto';
import type { CustomerFuturesModel } from '@nextact/core';
import { fitBgNbd, fitGammaGamma, MODEL_TIME_UNIT_MS } from '@nextact/core/src/models';
import { type ClickHouse, qualified } from '../store/clickhouse';
import { positiveInt } from '../store/values';

export const clvMethod =
  'BG/NBD (Fader, Hardie & Lee 2005) for repeat purchases and P(alive), Gamma-Gamma (Fader & Hardie 2013) for order value, ' +
  'fitted by maximum likelihood (Nelder–Mead on log-parameters; standard errors from the observed information); ' +
  'x = repeat purchase days, t_x and T = days since the first purchase day, spend = mean revenue of repeat purchase days; ' +
  'CLV = expected purchases over the horizon x expected order value (undiscounted, minor units)';

/** Below these the likelihood surface is too flat to mean anything. */
export const MIN_CUSTOMERS = 10;
export const MIN_REPEAT_BUYERS = 10;

export interface FitTimings {
  queryMs: number;
  bgnbdMs: number;
  gammaGammaMs: number;
  summaryRows: number;
  spendRows: number;
}

export interface FittedModel {
  model: CustomerFuturesModel;
  timings: FitTimings;
  /** Why no spend model, when there is none. */
  spendNote: string | null;
}

export const summariesView = (store: ClickHouse) =>
  `${qualified(store.database, 'clv_customer_summaries')}(as_of = fromUnixTimestamp64Milli({asOf:Int64}, 'UTC'))`;

/** The data's own "now": just after its latest event, so replayed or simulated history reports sensibly. */
export async function latestAsOf(store: ClickHouse): Promise<number> {
  const [latest] = await store.rows<{ t: number | string }>(`SELECT toUnixTimestamp64Milli(max(event_time)) AS t FROM ${qualified(store.database, 'events')}`);
  const t = Number(latest?.t ?? 0);
  return t > 0 ? t + 1 : Date.now();
}

function versionOf(asOf: number, model: Omit<CustomerFuturesModel, 'version' | 'fittedAt'>): string {
  const day = new Date(asOf).toISOString().slice(0, 10).replaceAll('-', '');
  const hash = createHash('sha256').update(JSON.stringify(model)).digest('hex').slice(0, 10);
  return `clv-${day}-${hash}`;
}

export async function fitCustomerFutures(store: ClickHouse, options: { asOf: number; horizonDays?: number; now?: () => number }): Promise<FittedModel> {
  const horizon = positiveInt(options.horizonDays ?? 365, 'horizonDays', 3650);
  const view = summariesView(store);
  const params = { asOf: options.asOf };
  const t0 = performance.now();
  // One pass over the purchases: groups of identical (x, t_x, T, mean spend), split into the two
  // models' inputs here (a second query would scan and deduplicate the events again).
  const groups = await store.rows<{ x: number; t_x: number; T: number; m: number; w: string | number }>(
    `SELECT x, t_x, T, round(mean_spend, 2) AS m, count() AS w FROM ${view} GROUP BY x, t_x, T, m`,
    params,
  );
  const purchaseGroups = new Map<string, { x: number; t_x: number; T: number; w: number }>();
  const spendGroups = new Map<string, { x: number; m: number; w: number }>();
  for (const g of groups) {
    const x = Number(g.x);
    const w = Number(g.w);
    const key = `${x},${g.t_x},${g.T}`;
    const p = purchaseGroups.get(key);
    if (p) p.w += w;
    else purchaseGroups.set(key, { x, t_x: Number(g.t_x), T: Number(g.T), w });
    const m = Number(g.m);
    if (x > 0 && m > 0) {
      const sk = `${x},${m}`;
      const sg = spendGroups.get(sk);
      if (sg) sg.w += w;
      else spendGroups.set(sk, { x, m, w });
    }
  }
  const summaryRows = [...purchaseGroups.values()];
  const spendRows = [...spendGroups.values()];
  const t1 = performance.now();
  const customers = summaryRows.reduce((s, r) => s + Number(r.w), 0);
  const repeaters = summaryRows.reduce((s, r) => s + (Number(r.x) > 0 ? Number(r.w) : 0), 0);
  if (customers < MIN_CUSTOMERS || repeaters < 1)
    throw new RangeError(
      `too few customers to fit as of ${new Date(options.asOf).toISOString()}: ${customers} with a purchase, ${repeaters} with a repeat purchase`,
    );
  const bg = fitBgNbd({
    x: summaryRows.map((r) => Number(r.x)),
    tx: summaryRows.map((r) => Number(r.t_x)),
    T: summaryRows.map((r) => Number(r.T)),
    weight: summaryRows.map((r) => Number(r.w)),
  });
  const t2 = performance.now();
  const spendCustomers = spendRows.reduce((s, r) => s + Number(r.w), 0);
  let spendNote: string | null = null;
  let gammaGamma: CustomerFuturesModel['gammaGamma'] = null;
  if (spendCustomers >= MIN_REPEAT_BUYERS) {
    const gg = fitGammaGamma({ x: spendRows.map((r) => Number(r.x)), meanSpend: spendRows.map((r) => Number(r.m)), weight: spendRows.map((r) => Number(r.w)) });
    if (gg.parameters.q > 1)
      gammaGamma = {
        ...gg.parameters,
        pSe: gg.standardErrors.p,
        qSe: gg.standardErrors.q,
        gammaSe: gg.standardErrors.gamma,
        customers: spendCustomers,
        logLikelihood: gg.logLikelihood,
      };
    else spendNote = `Gamma-Gamma fit gave q = ${gg.parameters.q.toFixed(3)} <= 1: no finite mean order value`;
  } else spendNote = `${spendCustomers} repeat buyers, fewer than ${MIN_REPEAT_BUYERS}: no spend model`;
  const t3 = performance.now();
  const body: Omit<CustomerFuturesModel, 'version' | 'fittedAt'> = {
    method: clvMethod,
    asOf: options.asOf,
    timeUnitMs: MODEL_TIME_UNIT_MS,
    horizon,
    customers,
    bgnbd: {
      ...bg.parameters,
      rSe: bg.standardErrors.r,
      alphaSe: bg.standardErrors.alpha,
      aSe: bg.standardErrors.a,
      bSe: bg.standardErrors.b,
      logLikelihood: bg.logLikelihood,
    },
    gammaGamma,
    spendUnit: 'minor',
  };
  return {
    model: { version: versionOf(options.asOf, body), fittedAt: (options.now ?? Date.now)(), ...body },
    timings: { queryMs: t1 - t0, bgnbdMs: t2 - t1, gammaGammaMs: t3 - t2, summaryRows: summaryRows.length, spendRows: spendRows.length },
    spendNote,
  };
}
