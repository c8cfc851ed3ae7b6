/**
 * Draws customers from the BG/NBD and Gamma-Gamma processes themselves (not from the models'
 * formulas), so a fit that recovers the parameters checks the likelihoods against the generative story.
 */
import type { BgNbdParameters, GammaGammaParameters } from '../../src/models';

/** Gamma(shape, rate) by Marsaglia & Tsang (shape < 1 boosted by U^(1/shape)). */
export function gammaSample(u: () => number, shape: number, rate: number): number {
  if (shape < 1) return gammaSample(u, shape + 1, rate) * u() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let z: number;
    let v: number;
    do {
      z = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
      v = 1 + c * z;
    } while (v <= 0);
    v = v * v * v;
    const w = 1 - u();
    if (Math.log(w) < 0.5 * z * z + d - d * v + d * Math.log(v)) return (d * v) / rate;
  }
}

export function betaSample(u: () => number, a: number, b: number): number {
  const x = gammaSample(u, a, 1);
  return x / (x + gammaSample(u, b, 1));
}

export interface SimulatedCustomer {
  x: number;
  tx: number;
  T: number;
  meanSpend: number;
  /** Repeat purchases in (T, T + holdout]. */
  future: number;
  alive: boolean;
}

/** One customer observed for T after their first purchase, then `holdout` more. */
export function simulateCustomer(u: () => number, bg: BgNbdParameters, gg: GammaGammaParameters, T: number, holdout = 0): SimulatedCustomer {
  const lambda = gammaSample(u, bg.r, bg.alpha);
  const dropout = betaSample(u, bg.a, bg.b);
  const nu = gammaSample(u, gg.q, gg.gamma);
  let t = 0;
  let x = 0;
  let tx = 0;
  let future = 0;
  let spend = 0;
  let alive = true;
  for (;;) {
    t += -Math.log(1 - u()) / lambda;
    if (t > T + holdout) break;
    if (t <= T) {
      x++;
      tx = t;
      spend += gammaSample(u, gg.p, nu);
    } else future++;
    // Dropout may follow each repeat purchase (not the first: alive after x repeats is (1 − p)^x).
    if (u() < dropout) {
      alive = t > T;
      break;
    }
  }
  return { x, tx, T, meanSpend: x > 0 ? spend / x : 0, future, alive };
}
