/**
 * A fitted customer-futures model and what it says about one customer: P(alive), expected
 * purchases over the horizon, expected order value and CLV. Pure and O(1) per customer apart from
 * the 2F1 series, so the engine can score on every event from the journey's own summary.
 */
import type { CustomerFuturesModel } from '../contracts/generated';
import { type BgNbdParameters, expectedPurchases, probabilityAlive } from './bgnbd';
import { expectedSpend, type GammaGammaParameters } from './gamma-gamma';

export const MODEL_TIME_UNIT_MS = 86_400_000;

export interface CustomerFuturesParameters {
  /** Stable id of this fit (e.g. `clv-<as-of>-<hash>`); decisions record it. */
  version: string;
  /** The summaries' time unit, in ms (one day). */
  timeUnitMs: number;
  /** Horizon of expected purchases and CLV, in time units. */
  horizon: number;
  bgnbd: BgNbdParameters;
  /** Null when too few customers had a repeat order to fit spend. */
  gammaGamma: GammaGammaParameters | null;
}

/** The parameters of a published model (the Avro record on `<prefix>models`), as the scoring functions take them. */
export function parametersOf(m: CustomerFuturesModel): CustomerFuturesParameters {
  return {
    version: m.version,
    timeUnitMs: m.timeUnitMs,
    horizon: m.horizon,
    bgnbd: { r: m.bgnbd.r, alpha: m.bgnbd.alpha, a: m.bgnbd.a, b: m.bgnbd.b },
    gammaGamma: m.gammaGamma ? { p: m.gammaGamma.p, q: m.gammaGamma.q, gamma: m.gammaGamma.gamma } : null,
  };
}

/** What the models need of a customer: the same summary the fit used. */
export interface CustomerSummary {
  x: number;
  tx: number;
  T: number;
  /** Mean value of the repeat orders (0 or ignored when x = 0). */
  meanSpend: number;
}

export interface CustomerFuture {
  pAlive: number;
  expectedPurchases: number;
  /** Expected value of one future order; null without a spend model. */
  expectedSpend: number | null;
  /** expectedPurchases × expectedSpend over the horizon (undiscounted); null without a spend model. */
  clv: number | null;
}

export function customerFuture(model: CustomerFuturesParameters, c: CustomerSummary): CustomerFuture {
  const pAlive = probabilityAlive(model.bgnbd, c.x, c.tx, c.T);
  const purchases = expectedPurchases(model.bgnbd, model.horizon, c.x, c.tx, c.T);
  const spend = model.gammaGamma ? expectedSpend(model.gammaGamma, c.x, c.meanSpend) : null;
  return { pAlive, expectedPurchases: purchases, expectedSpend: spend, clv: spend === null ? null : purchases * spend };
}
