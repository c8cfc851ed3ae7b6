/**
 * Gamma-Gamma spend model (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value"): a
 * customer's order values are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers, independent of
 * the purchase process. A customer is summarised by x (repeat orders) and m̄ (their mean value).
 */

import { lnGamma } from './special';

export interface GammaGammaParameters {
  p: number;
  q: number;
  gamma: number;
}

/** ln L(p, q, γ | m̄, x): the note's equation (3) for one customer with x ≥ 1. */
export function gammaGammaLogLikelihood(g: GammaGammaParameters, x: number, meanSpend: number): number {
  const { p, q, gamma } = g;
  const px = p * x;
  return (
    lnGamma(px + q) -
    lnGamma(px) -
    lnGamma(q) +
    q * Math.log(gamma) +
    (px - 1) * Math.log(meanSpend) +
    px * Math.log(x) -
    (px + q) * Math.log(gamma + meanSpend * x)
  );
}

/** The population's mean order value E[Z] = pγ/(q−1) (infinite for q ≤ 1). */
export function populationMeanSpend(g: GammaGammaParameters): number {
  return g.q > 1 ? (g.p * g.gamma) / (g.q - 1) : Number.POSITIVE_INFINITY;
}

/**
 * E[Z | m̄, x] = (γ + m̄x)p / (px + q − 1): the note's equation (5), a weighted mean of the population
 * mean and the customer's own. With no repeat order the population mean.
 */
export function expectedSpend(g: GammaGammaParameters, x: number, meanSpend: number): number {
  if (!(x > 0)) return populationMeanSpend(g);
  return ((g.gamma + meanSpend * x) * g.p) / (g.p * x + g.q - 1);
}
