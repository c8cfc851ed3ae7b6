/**
 * Ground-truth purchase process (optional, `purchases: 'bgnbd'`): each customer buys as BG/NBD says
 * (Poisson rate λ ~ Gamma(r, α) per day while alive; after each repeat purchase they drop out with
 * probability p ~ Beta(a, b)) and spends as Gamma-Gamma says (order value ~ Gamma(p, ν), ν ~
 * Gamma(q, γ), in major currency units). With known parameters, a fit on the simulated purchases
 * can be checked against the truth. Browse sessions then never end in a purchase of their own;
 * offers still cause their extra purchases (the conversion lift is an effect on top).
 */
import type { Rng } from './rng';

export interface PurchaseProcessConfig {
  /** BG/NBD: λ ~ Gamma(shape r, rate α) purchases per day. */
  r: number;
  alpha: number;
  /** BG/NBD: dropout after each repeat purchase ~ Beta(a, b). */
  a: number;
  b: number;
  /** Gamma-Gamma: order value ~ Gamma(shape p, rate ν), ν ~ Gamma(shape q, rate γ); major units. */
  p: number;
  q: number;
  gamma: number;
}

export const defaultPurchaseProcess: PurchaseProcessConfig = { r: 0.8, alpha: 12, a: 1.2, b: 4, p: 4, q: 5, gamma: 120 };

export function resolvePurchaseProcess(overrides: Partial<PurchaseProcessConfig> = {}): PurchaseProcessConfig {
  const out = { ...defaultPurchaseProcess, ...overrides };
  for (const [k, v] of Object.entries(out))
    if (!(v > 0 && Number.isFinite(v))) throw new RangeError(`purchase process ${k} must be a positive number, got ${v}`);
  return out;
}

/** Gamma(shape, rate) by Marsaglia & Tsang; shape < 1 boosted by U^(1/shape). */
export function gammaVariate(rng: Rng, shape: number, rate: number): number {
  if (shape < 1) return gammaVariate(rng, shape + 1, rate) * (1 - rng.next()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let z: number;
    let v: number;
    do {
      z = rng.normal();
      v = 1 + c * z;
    } while (v <= 0);
    v = v * v * v;
    if (Math.log(1 - rng.next()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return (d * v) / rate;
  }
}

export function betaVariate(rng: Rng, a: number, b: number): number {
  const x = gammaVariate(rng, a, 1);
  return x / (x + gammaVariate(rng, b, 1));
}

/** One customer's latent purchase traits, drawn once. */
export interface PurchaseTraits {
  /** Purchases per day while alive. */
  lambda: number;
  /** Chance of dropping out after each repeat purchase. */
  dropout: number;
  /** Rate of the customer's order-value Gamma (mean order p/ν). */
  nu: number;
}

export function drawPurchaseTraits(rng: Rng, c: PurchaseProcessConfig): PurchaseTraits {
  return { lambda: gammaVariate(rng, c.r, c.alpha), dropout: betaVariate(rng, c.a, c.b), nu: gammaVariate(rng, c.q, c.gamma) };
}

/** Days until the next purchase. */
export const nextPurchaseGapDays = (rng: Rng, t: PurchaseTraits): number => rng.exponential(1 / t.lambda);

/** Order value in minor units (at least 1). */
export const orderValueMinor = (rng: Rng, c: PurchaseProcessConfig, t: PurchaseTraits): number => Math.max(1, Math.round(gammaVariate(rng, c.p, t.nu) * 100));
