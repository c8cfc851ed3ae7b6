/**
 * Maximum-likelihood fits of BG/NBD and Gamma-Gamma on (weighted) customer summaries, with
 * standard errors from the observed information: the inverse numerical Hessian of the negative
 * log-likelihood. The search runs on log-parameters (all four, resp. three, are positive), and
 * standard errors map back by the delta method, se(θ) = θ·se(ln θ).
 */
import type { BgNbdParameters } from './bgnbd';
import type { GammaGammaParameters } from './gamma-gamma';
import { hessian, invert, minimise } from './optimize';
import { lnGamma, logAddExp } from './special';

type Numbers = ArrayLike<number>;

/** Columns of repeat-purchase summaries; `weight` counts identical customers (default 1 each). */
export interface PurchaseSummaries {
  x: Numbers;
  tx: Numbers;
  T: Numbers;
  weight?: Numbers;
}

/** Columns of spend summaries of customers with at least one repeat order. */
export interface SpendSummaries {
  x: Numbers;
  meanSpend: Numbers;
  weight?: Numbers;
}

export interface FitResult<P> {
  parameters: P;
  /** Standard errors in the parameters' own scale; null where the information matrix is not positive definite. */
  standardErrors: { [K in keyof P]: number | null };
  logLikelihood: number;
  /** Customers the fit saw (the sum of the weights). */
  customers: number;
  /** Distinct summary rows (after grouping). */
  rows: number;
  evaluations: number;
  converged: boolean;
}

function fitLogParameters<P extends object>(
  names: (keyof P)[],
  start: number[],
  negativeLogLikelihood: (theta: number[]) => number,
  total: number,
  rows: number,
): FitResult<P> {
  if (!(total > 0)) throw new RangeError('no customers to fit');
  const onLogs = (phi: number[]) => {
    const v = negativeLogLikelihood(phi.map(Math.exp));
    return Number.isFinite(v) ? v : Number.POSITIVE_INFINITY;
  };
  // The mean keeps the simplex's tolerances independent of the number of customers.
  const found = minimise((phi) => onLogs(phi) / total, start.map(Math.log));
  const theta = found.x.map(Math.exp);
  const covariance = invert(hessian(onLogs, found.x, 1e-4));
  const parameters = {} as Record<keyof P, number>;
  const standardErrors = {} as Record<keyof P, number | null>;
  names.forEach((name, i) => {
    parameters[name] = theta[i] as number;
    const variance = covariance ? ((covariance[i] as number[])[i] as number) : Number.NaN;
    standardErrors[name] = variance > 0 && Number.isFinite(variance) ? (theta[i] as number) * Math.sqrt(variance) : null;
  });
  return {
    parameters: parameters as unknown as P,
    standardErrors: standardErrors as FitResult<P>['standardErrors'],
    logLikelihood: -found.value * total,
    customers: total,
    rows,
    evaluations: found.evaluations,
    converged: found.converged,
  };
}

function columns(s: { x: Numbers; weight?: Numbers }, others: Numbers[], what: string) {
  const rows = s.x.length;
  if (others.some((c) => c.length !== rows) || (s.weight && s.weight.length !== rows)) throw new RangeError(`${what} columns differ in length`);
  const weight = new Float64Array(rows);
  let total = 0;
  let maxX = 0;
  for (let i = 0; i < rows; i++) {
    const x = s.x[i] as number;
    if (!(Number.isInteger(x) && x >= 0)) throw new RangeError(`${what} row ${i}: x must be a whole number >= 0, got ${x}`);
    if (x > maxX) maxX = x;
    const w = s.weight ? (s.weight[i] as number) : 1;
    if (!(w >= 0)) throw new RangeError(`${what} row ${i}: weight must be >= 0, got ${w}`);
    weight[i] = w;
    total += w;
  }
  return { rows, weight, total, maxX };
}

/**
 * Σ w·ln L over the summaries: the terms in x (ratios of gamma functions) come from one table per
 * evaluation by the recurrence Γ(z + 1) = zΓ(z), so a row costs a few logarithms, not six lnΓ.
 */
function bgNbdTotalLogLikelihood(theta: number[], s: PurchaseSummaries, weight: Float64Array, maxX: number): number {
  const [r, alpha, a, b] = theta as [number, number, number, number];
  const ratio = new Float64Array(maxX + 1);
  let acc = 0;
  for (let k = 1; k <= maxX; k++) {
    acc += Math.log(r + k - 1) + Math.log(b + k - 1) - Math.log(a + b + k - 1);
    ratio[k] = acc;
  }
  const rLogAlpha = r * Math.log(alpha);
  const logA = Math.log(a);
  let sum = 0;
  for (let i = 0; i < weight.length; i++) {
    const w = weight[i] as number;
    if (w === 0) continue;
    const x = s.x[i] as number;
    const a3 = -(r + x) * Math.log(alpha + (s.T[i] as number));
    let ll = rLogAlpha + (ratio[x] as number);
    if (x > 0) ll += logAddExp(a3, logA - Math.log(b + x - 1) - (r + x) * Math.log(alpha + (s.tx[i] as number)));
    else ll += a3;
    sum += w * ll;
  }
  return sum;
}

export function fitBgNbd(s: PurchaseSummaries, start?: Partial<BgNbdParameters>): FitResult<BgNbdParameters> {
  const { rows, weight, total, maxX } = columns(s, [s.tx, s.T], 'summary');
  let sumT = 0;
  let sumX = 0;
  for (let i = 0; i < rows; i++) {
    const tx = s.tx[i] as number;
    const T = s.T[i] as number;
    if (!(tx >= 0 && T >= tx)) throw new RangeError(`summary row ${i}: needs 0 <= t_x <= T, got t_x=${tx} T=${T}`);
    sumT += (weight[i] as number) * T;
    sumX += (weight[i] as number) * (s.x[i] as number);
  }
  // Start where a Poisson rate fits the mean: r/α ≈ (x̄ + 1)/T̄, with r = 1 and a neutral Beta(1, 1).
  const meanT = total > 0 ? sumT / total : 1;
  const meanX = total > 0 ? sumX / total : 0;
  const alpha0 = start?.alpha ?? Math.max(1e-3, meanT / (meanX + 1));
  const fit = fitLogParameters<BgNbdParameters>(
    ['r', 'alpha', 'a', 'b'],
    [start?.r ?? 1, alpha0, start?.a ?? 1, start?.b ?? 1],
    (theta) => -bgNbdTotalLogLikelihood(theta, s, weight, maxX),
    total,
    rows,
  );
  return fit;
}

export function fitGammaGamma(s: SpendSummaries, start?: Partial<GammaGammaParameters>): FitResult<GammaGammaParameters> {
  const { rows, weight, total, maxX } = columns(s, [s.meanSpend], 'spend');
  const logMean = new Float64Array(rows);
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    const m = s.meanSpend[i] as number;
    if (!((s.x[i] as number) >= 1 && m > 0)) throw new RangeError(`spend row ${i}: needs x >= 1 and a positive mean spend`);
    logMean[i] = Math.log(m);
    sum += (weight[i] as number) * m;
  }
  const logX = Float64Array.from({ length: maxX + 1 }, (_, k) => (k > 0 ? Math.log(k) : 0));
  const perX = new Float64Array(maxX + 1);
  const totalLogLikelihood = (theta: number[]) => {
    const [p, q, gamma] = theta as [number, number, number];
    // lnΓ(px + q) − lnΓ(px) + px·ln x depends on x only: once per distinct x.
    for (let k = 1; k <= maxX; k++) perX[k] = lnGamma(p * k + q) - lnGamma(p * k) + p * k * (logX[k] as number);
    const constant = q * Math.log(gamma) - lnGamma(q);
    let ll = 0;
    for (let i = 0; i < rows; i++) {
      const w = weight[i] as number;
      if (w === 0) continue;
      const x = s.x[i] as number;
      const px = p * x;
      ll += w * (constant + (perX[x] as number) + (px - 1) * (logMean[i] as number) - (px + q) * Math.log(gamma + (s.meanSpend[i] as number) * x));
    }
    return ll;
  };
  // Start at p = 1, q = 2, so that the population mean pγ/(q−1) = γ equals the observed mean.
  return fitLogParameters<GammaGammaParameters>(
    ['p', 'q', 'gamma'],
    [start?.p ?? 1, start?.q ?? 2, start?.gamma ?? (total > 0 ? sum / total : 1)],
    (theta) => -totalLogLikelihood(theta),
    total,
    rows,
  );
}
