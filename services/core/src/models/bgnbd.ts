/**
 * BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"): while alive a customer
 * buys as a Poisson process with rate λ ~ Gamma(r, α); after each purchase they drop out with
 * probability p ~ Beta(a, b). A customer is summarised by x (repeat purchases), t_x (time of the
 * last one) and T (time observed), all measured from their first purchase in the model's unit.
 */
import { hyp2f1, lnGamma, logAddExp } from './special';

export interface BgNbdParameters {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** One customer's repeat-purchase summary. */
export interface PurchaseSummary {
  /** Repeat purchases (purchase days after the first). */
  x: number;
  /** Time of the last purchase since the first. */
  tx: number;
  /** Time observed since the first purchase. */
  T: number;
}

/** ln L(r, α, a, b | x, t_x, T): the paper's equation (6), as a log-sum for stability. */
export function bgNbdLogLikelihood(p: BgNbdParameters, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = p;
  const a1 = lnGamma(r + x) - lnGamma(r) + r * Math.log(alpha);
  const a2 = lnGamma(a + b) + lnGamma(b + x) - lnGamma(b) - lnGamma(a + b + x);
  const a3 = -(r + x) * Math.log(alpha + T);
  const a4 = x > 0 ? Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + tx) : Number.NEGATIVE_INFINITY;
  return a1 + a2 + logAddExp(a3, a4);
}

/** ln of the odds term δ(x>0)·a/(b+x−1)·((α+T)/(α+t_x))^(r+x) shared by P(alive) and E[Y(t)]. */
function logDeathOdds(p: BgNbdParameters, x: number, tx: number, T: number): number {
  if (x <= 0) return Number.NEGATIVE_INFINITY;
  return Math.log(p.a / (p.b + x - 1)) + (p.r + x) * Math.log((p.alpha + T) / (p.alpha + tx));
}

/** P(alive | x, t_x, T): equation (11). A customer with no repeat purchase is alive by the model. */
export function probabilityAlive(p: BgNbdParameters, x: number, tx: number, T: number): number {
  const odds = logDeathOdds(p, x, tx, T);
  return odds === Number.NEGATIVE_INFINITY ? 1 : 1 / (1 + Math.exp(odds));
}

// Equation (10) divides by a − 1 and its bracket vanishes with it: near a = 1 take the mean of the
// two sides (the function is smooth in a; the error is O(ε²)).
const NEAR_ONE = 1e-4;

/** E[purchases in (T, T + t] | x, t_x, T]: equation (10). */
export function expectedPurchases(p: BgNbdParameters, t: number, x: number, tx: number, T: number): number {
  if (t <= 0) return 0;
  if (Math.abs(p.a - 1) < NEAR_ONE)
    return (expectedPurchases({ ...p, a: 1 - 2 * NEAR_ONE }, t, x, tx, T) + expectedPurchases({ ...p, a: 1 + 2 * NEAR_ONE }, t, x, tx, T)) / 2;
  const { r, alpha, a, b } = p;
  const z = t / (alpha + T + t);
  const f = hyp2f1(r + x, b + x, a + b + x - 1, z);
  const head = (a + b + x - 1) / (a - 1);
  const body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * f;
  const odds = logDeathOdds(p, x, tx, T);
  return (head * body) / (1 + (odds === Number.NEGATIVE_INFINITY ? 0 : Math.exp(odds)));
}

/** E[X(t)] for a new customer (equation 9): the population's expected repeat purchases in t. */
export function expectedPurchasesNewCustomer(p: BgNbdParameters, t: number): number {
  if (Math.abs(p.a - 1) < NEAR_ONE)
    return (expectedPurchasesNewCustomer({ ...p, a: 1 - 2 * NEAR_ONE }, t) + expectedPurchasesNewCustomer({ ...p, a: 1 + 2 * NEAR_ONE }, t)) / 2;
  const { r, alpha, a, b } = p;
  const z = t / (alpha + t);
  return ((a + b - 1) / (a - 1)) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z));
}
