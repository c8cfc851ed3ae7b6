/**
 * The `clv` report: the fitted models with standard errors, every customer's P(alive), expected
 * purchases and CLV (the top ones listed; all of them through the export), the CLV change
 * attributed to actions, and optionally the holdout calibration.
 */
import type { CustomerFuturesModel } from '@nextact/core';
import { clvMethod, type FitTimings, fitCustomerFutures, latestAsOf } from '../futures/fit';
import { type CustomerFutureRow, customerFutures } from '../futures/score';
import { type ClickHouse, qualified } from '../store/clickhouse';
import { num, numOrNull, positiveInt } from '../store/values';
import { type CalibrationReport, calibrationReport } from './calibration';
import { ci, money, pct, table } from './format';
import { comparableMeans, type MeanDifference, meanDifference } from './stats';

export interface ClvAttributionRow extends MeanDifference {
  actionId: string;
  journeyStage: string;
}

export interface Estimate {
  value: number;
  standardError: number | null;
}

export interface ClvReport {
  asOf: string;
  horizonDays: number;
  attributionDays: number;
  /** The models and the fit, named with the numbers. */
  method: string;
  model: {
    version: string;
    customers: number;
    bgnbd: { r: Estimate; alpha: Estimate; a: Estimate; b: Estimate; logLikelihood: number };
    gammaGamma: { p: Estimate; q: Estimate; gamma: Estimate; customers: number; logLikelihood: number; populationMeanSpendMinor: number } | null;
    spendNote: string | null;
    timings: FitTimings;
  } | null;
  /** Why there is no model, when there is none (too few customers). */
  note: string | null;
  summary: {
    customers: number;
    realisedMinor: number;
    meanRealisedMinor: number;
    meanPAlive: number;
    totalExpectedPurchases: number;
    meanPredictedClvMinor: number | null;
    totalPredictedClvMinor: number | null;
  };
  topCustomers: CustomerFutureRow[];
  /**
   * Profiles per journey stage (the stage of the customer's latest decision before as-of; NONE
   * without one): who is worth most, who will stay, and how many were never contacted or were held
   * out. Uplift per action and stage with intervals is in the attribution report.
   */
  segments: SegmentProfile[];
  /** Revenue per customer in the attribution window after the first decision, TREATMENT - CONTROL. */
  attribution: ClvAttributionRow[];
  calibration: CalibrationReport | null;
}

export interface SegmentProfile {
  journeyStage: string;
  customers: number;
  meanPAlive: number;
  meanPredictedClvMinor: number | null;
  meanRealisedMinor: number;
  /** Share with no delivered decision before as-of (no contact at all). */
  neverContacted: number;
  /** Share whose latest decision was a control-arm one (held out). */
  heldOut: number;
}

const estimate = (value: number, standardError: number | null): Estimate => ({ value, standardError });

export type ModelDescription = Omit<NonNullable<ClvReport['model']>, 'spendNote' | 'timings'>;

export function describeModel(m: CustomerFuturesModel): ModelDescription {
  const g = m.gammaGamma;
  return {
    version: m.version,
    customers: m.customers,
    bgnbd: {
      r: estimate(m.bgnbd.r, m.bgnbd.rSe),
      alpha: estimate(m.bgnbd.alpha, m.bgnbd.alphaSe),
      a: estimate(m.bgnbd.a, m.bgnbd.aSe),
      b: estimate(m.bgnbd.b, m.bgnbd.bSe),
      logLikelihood: m.bgnbd.logLikelihood,
    },
    gammaGamma: g
      ? {
          p: estimate(g.p, g.pSe),
          q: estimate(g.q, g.qSe),
          gamma: estimate(g.gamma, g.gammaSe),
          customers: g.customers,
          logLikelihood: g.logLikelihood,
          populationMeanSpendMinor: (g.p * g.gamma) / (g.q - 1),
        }
      : null,
  };
}

/** Keeps the `n` largest by a key while streaming (n is small: a sorted insert is enough). */
function keepTop<T>(top: T[], item: T, n: number, key: (t: T) => number): void {
  const k = key(item);
  if (top.length === n && k <= key(top[n - 1] as T)) return;
  let i = top.length;
  while (i > 0 && key(top[i - 1] as T) < k) i--;
  top.splice(i, 0, item);
  if (top.length > n) top.pop();
}

async function clvAttribution(store: ClickHouse, attributionDays: number): Promise<ClvAttributionRow[]> {
  const inputs = await store.rows<Record<string, unknown>>(
    `SELECT * FROM ${qualified(store.database, 'clv_attribution_inputs')}(attribution_days = {a:UInt32}) ORDER BY journey_stage, action_id, arm`,
    { a: attributionDays },
  );
  const byKey = new Map<string, { t?: Record<string, unknown>; c?: Record<string, unknown>; action: string; stage: string }>();
  for (const r of inputs) {
    const key = `${r.action_id}\u0000${r.journey_stage}`;
    const entry = byKey.get(key) ?? { action: String(r.action_id), stage: String(r.journey_stage) };
    if (r.arm === 'TREATMENT') entry.t = r;
    else entry.c = r;
    byKey.set(key, entry);
  }
  const out: ClvAttributionRow[] = [];
  for (const { t, c, action, stage } of byKey.values()) {
    if (!t || !c) continue;
    const treatment = { n: num(t.customers), mean: num(t.mean_revenue_minor), variance: numOrNull(t.var_revenue) };
    const control = { n: num(c.customers), mean: num(c.mean_revenue_minor), variance: numOrNull(c.var_revenue) };
    if (!comparableMeans(treatment, control)) continue;
    out.push({ actionId: action, journeyStage: stage, ...meanDifference(treatment, control) });
  }
  return out;
}

export interface ClvReportOptions {
  asOf?: number;
  horizonDays?: number;
  attributionDays?: number;
  top?: number;
  /** With it, also the holdout comparison: fit before this time, predict `holdoutDays`. */
  calibrationEnd?: number;
  holdoutDays?: number;
}

export async function clvReport(store: ClickHouse, options: ClvReportOptions = {}): Promise<ClvReport> {
  const horizonDays = positiveInt(options.horizonDays ?? 365, 'horizonDays', 3650);
  const attributionDays = positiveInt(options.attributionDays ?? 30, 'attributionDays', 3650);
  const top = positiveInt(options.top ?? 10, 'top', 1000);
  const asOf = options.asOf ?? (await latestAsOf(store));
  const attribution = await clvAttribution(store, attributionDays);
  const calibration =
    options.calibrationEnd === undefined ? null : await calibrationReport(store, { calibrationEnd: options.calibrationEnd, holdoutDays: options.holdoutDays });
  const base = { asOf: new Date(asOf).toISOString(), horizonDays, attributionDays, method: clvMethod, attribution, calibration };
  let fitted: Awaited<ReturnType<typeof fitCustomerFutures>>;
  try {
    fitted = await fitCustomerFutures(store, { asOf, horizonDays });
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const empty = {
      customers: 0,
      realisedMinor: 0,
      meanRealisedMinor: 0,
      meanPAlive: 0,
      totalExpectedPurchases: 0,
      meanPredictedClvMinor: null,
      totalPredictedClvMinor: null,
    };
    return { ...base, model: null, note: err.message, summary: empty, topCustomers: [], segments: [] };
  }
  const spend = fitted.model.gammaGamma !== null;
  const topCustomers: CustomerFutureRow[] = [];
  const stages = await store.rows<{ customer_id: string; stage: string; delivered: number | string; control: number | string }>(
    `SELECT customer_id, argMax(journey_stage, event_time) AS stage, countIf(deliver) AS delivered,
            argMax(experiment_arm = 'CONTROL', event_time) AS control
     FROM ${qualified(store.database, 'decisions')} WHERE event_time < fromUnixTimestamp64Milli({asOf:Int64}, 'UTC') GROUP BY customer_id`,
    { asOf },
  );
  const stageOf = new Map(stages.map((r) => [r.customer_id, r]));
  const bySegment = new Map<string, { n: number; pAlive: number; clv: number; realised: number; never: number; held: number }>();
  let customers = 0;
  let realised = 0;
  let pAlive = 0;
  let purchases = 0;
  let clv = 0;
  for await (const c of customerFutures(store, fitted.model)) {
    customers++;
    realised += c.realisedMinor;
    pAlive += c.pAlive;
    purchases += c.expectedPurchases;
    clv += c.clvMinor ?? 0;
    keepTop(topCustomers, c, top, (r) => (spend ? (r.clvMinor as number) : r.expectedPurchases));
    const st = stageOf.get(c.customerId);
    const key = st?.stage ?? 'NONE';
    const seg = bySegment.get(key) ?? { n: 0, pAlive: 0, clv: 0, realised: 0, never: 0, held: 0 };
    seg.n++;
    seg.pAlive += c.pAlive;
    seg.clv += c.clvMinor ?? 0;
    seg.realised += c.realisedMinor;
    if (!st || Number(st.delivered) === 0) seg.never++;
    if (st && Number(st.control) === 1) seg.held++;
    bySegment.set(key, seg);
  }
  const segments: SegmentProfile[] = [...bySegment.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([journeyStage, g]) => ({
      journeyStage,
      customers: g.n,
      meanPAlive: g.pAlive / g.n,
      meanPredictedClvMinor: spend ? g.clv / g.n : null,
      meanRealisedMinor: g.realised / g.n,
      neverContacted: g.never / g.n,
      heldOut: g.held / g.n,
    }));
  return {
    ...base,
    model: { ...describeModel(fitted.model), spendNote: fitted.spendNote, timings: fitted.timings },
    note: null,
    summary: {
      customers,
      realisedMinor: realised,
      meanRealisedMinor: customers ? realised / customers : 0,
      meanPAlive: customers ? pAlive / customers : 0,
      totalExpectedPurchases: purchases,
      meanPredictedClvMinor: spend && customers ? clv / customers : null,
      totalPredictedClvMinor: spend ? clv : null,
    },
    topCustomers,
    segments,
  };
}

// ---- rendering ----------------------------------------------------------------------------------

const est = (e: Estimate, digits = 3) => `${e.value.toFixed(digits)} (se ${e.standardError === null ? '-' : e.standardError.toFixed(digits)})`;
const fixed = (v: number | null, d = 3) => (v === null ? '-' : v.toFixed(d));

function renderCalibration(c: CalibrationReport): string {
  const row = (
    what: string,
    a: { model: CalibrationReport['purchases']['model']; heuristic: CalibrationReport['purchases']['model'] },
    f: (v: number) => string,
  ) =>
    (['model', 'heuristic'] as const).map((k) => [
      what,
      k === 'model' ? 'BG/NBD + Gamma-Gamma' : 'heuristic',
      f(a[k].totalPredicted),
      f(a[k].totalActual),
      f(a[k].meanAbsoluteError),
      fixed(a[k].pearson),
      fixed(a[k].spearman),
    ]);
  const n = (v: number) => v.toFixed(1);
  return table(
    `Holdout: fitted before ${c.calibrationEnd}, predicted ${c.holdoutDays} d to ${c.holdoutEnd} (data end ${c.dataEnd ?? '-'}), ${c.customers} customers, model ${c.modelVersion}`,
    ['quantity', 'predictor', 'total predicted', 'total actual', 'MAE', 'Pearson', 'Spearman'],
    [...row('purchases', c.purchases, n), ...(c.revenue ? row('revenue', c.revenue, money) : [])],
  );
}

export function renderClv(r: ClvReport): string {
  const s = r.summary;
  const m = r.model;
  const lines = [`Customer lifetime value as of ${r.asOf} (horizon ${r.horizonDays} d)`, `  method: ${r.method}`];
  if (!m) lines.push(`  no model: ${r.note}`);
  else {
    lines.push(
      `  model ${m.version}: ${m.customers} customers; BG/NBD r ${est(m.bgnbd.r)}, alpha ${est(m.bgnbd.alpha)}, a ${est(m.bgnbd.a)}, b ${est(m.bgnbd.b)}`,
      m.gammaGamma
        ? `  Gamma-Gamma (${m.gammaGamma.customers} repeat buyers) p ${est(m.gammaGamma.p)}, q ${est(m.gammaGamma.q)}, gamma ${est(m.gammaGamma.gamma)}; mean order ${money(m.gammaGamma.populationMeanSpendMinor)}`
        : `  no spend model: ${m.spendNote}`,
      `  customers: ${s.customers}   realised: ${money(s.realisedMinor)} (mean ${money(s.meanRealisedMinor)})   mean P(alive): ${pct(s.meanPAlive)}   expected purchases: ${s.totalExpectedPurchases.toFixed(1)}   predicted CLV mean: ${money(s.meanPredictedClvMinor)} (total ${money(s.totalPredictedClvMinor)})`,
      `  fit: ${m.timings.summaryRows} distinct summaries, query ${m.timings.queryMs.toFixed(0)} ms, BG/NBD ${m.timings.bgnbdMs.toFixed(0)} ms, Gamma-Gamma ${m.timings.gammaGammaMs.toFixed(0)} ms`,
    );
  }
  lines.push(
    '',
    table(
      'Top customers by predicted CLV (every customer: GET /v1/reports/clv/customers?format=csv|jsonl)',
      ['customer', 'x', 't_x d', 'T d', 'mean spend', 'realised', 'P(alive)', 'E[purchases]', 'CLV'],
      r.topCustomers.map((c) => [
        c.customerId,
        c.x,
        c.tx,
        c.T,
        money(c.meanSpendMinor),
        money(c.realisedMinor),
        fixed(c.pAlive),
        fixed(c.expectedPurchases, 2),
        money(c.clvMinor),
      ]),
    ),
    table(
      'Profiles by journey stage (latest decision before as-of)',
      ['stage', 'customers', 'mean P(alive)', 'mean CLV', 'mean realised', 'never contacted', 'held out'],
      r.segments.map((g) => [
        g.journeyStage,
        g.customers,
        fixed(g.meanPAlive),
        money(g.meanPredictedClvMinor),
        money(g.meanRealisedMinor),
        pct(g.neverContacted),
        pct(g.heldOut),
      ]),
    ),
    table(
      `CLV change attributed to actions (revenue per customer within ${r.attributionDays} d of the first decision, TREATMENT - CONTROL)`,
      ['stage', 'action', 'n treat', 'mean treat', 'n ctrl', 'mean ctrl', 'change', '95% CI', 'significant'],
      r.attribution.map((a) => [
        a.journeyStage,
        a.actionId,
        a.treatmentN,
        money(a.treatmentMean),
        a.controlN,
        money(a.controlMean),
        money(a.difference),
        ci(a.ci95, money),
        a.significant ? 'yes' : 'no',
      ]),
    ),
  );
  if (r.calibration) lines.push(renderCalibration(r.calibration));
  return lines.join('\n');
}
