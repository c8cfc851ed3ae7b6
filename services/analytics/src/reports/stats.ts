/**
 * The statistics behind the reports, as pure functions so they can be checked by hand.
 * Intervals hold at small n: Wilson score intervals for proportions (Newcombe's hybrid for their
 * difference), Welch–Satterthwaite t intervals for differences of means. A result is called
 * significant only when its interval excludes 0 and each arm has at least `minPerArm` customers.
 */

export const Z95 = 1.959963984540054;

/** Fewest customers per arm before a comparison is called significant (printed beside the verdict). */
export const MIN_CUSTOMERS_PER_ARM = 30;

export interface Interval {
  low: number;
  high: number;
}

export interface ComparisonOptions {
  /** Two-sided confidence level of the interval (0.95 unless a multiple-comparison correction asks more). */
  confidence?: number;
  /** Fewest observations per arm before `significant` may be true. */
  minPerArm?: number;
}

// ---- Distributions ---------------------------------------------------------------------------

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7: about 15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = LANCZOS[0]!;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(x, a, b)) / a : 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/** P(T <= t) for Student's t with `df` degrees of freedom (df may be fractional: Welch). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be positive, got ${df}`);
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** Regularised lower incomplete gamma P(a, x): series below a + 1, continued fraction above. */
export function regularizedGammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 500 && Math.abs(term) > Math.abs(sum) * 1e-16; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return sum * front;
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return 1 - front * h;
}

/** P(Z <= z) for the standard normal: erf(z / sqrt 2) = P(1/2, z^2 / 2). */
export function normalCdf(z: number): number {
  const half = 0.5 * regularizedGammaP(0.5, (z * z) / 2);
  return z >= 0 ? 0.5 + half : 0.5 - half;
}

/** Quantile by bisection on a monotone CDF: 200 halvings reach double precision on any bracket used here. */
function quantile(cdf: (x: number) => number, p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability must be in (0, 1), got ${p}`);
  let lo = -1;
  let hi = 1;
  while (cdf(lo) > p) lo *= 2;
  while (cdf(hi) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export const studentTQuantile = (p: number, df: number): number => quantile((t) => studentTCdf(t, df), p);
export const normalQuantile = (p: number): number => quantile(normalCdf, p);

/** Two-sided critical value of the normal for a confidence level (0.95 -> 1.95996). */
const zFor = (confidence: number): number => (confidence === 0.95 ? Z95 : normalQuantile(1 - (1 - confidence) / 2));

// ---- Proportions ---------------------------------------------------------------------------

/** Wilson score interval of x successes in n trials: stays inside [0, 1] and is honest at 0/n. */
export function wilson(x: number, n: number, confidence = 0.95): Interval {
  if (!(n > 0) || x < 0 || x > n) throw new RangeError(`wilson needs 0 <= x <= n and n > 0, got ${x}/${n}`);
  const z = zFor(confidence);
  const p = x / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export interface Uplift {
  treatmentN: number;
  treatmentConversions: number;
  controlN: number;
  controlConversions: number;
  treatmentRate: number;
  controlRate: number;
  /** Wilson intervals of each arm's rate. */
  treatmentCi95: Interval;
  controlCi95: Interval;
  /** Absolute uplift t - c (difference of proportions). */
  uplift: number;
  /** Unpooled (Wald) standard error of the difference, for reference; the interval does not use it. */
  standardError: number;
  /** Newcombe's hybrid score interval of t - c (from the two Wilson intervals). */
  ci95: Interval;
  /** (t - c) / c; null when the control rate is 0. */
  relativeLift: number | null;
  /** Fewest customers per arm for `significant`. */
  minPerArm: number;
  /** Both arms have at least `minPerArm` customers. */
  enough: boolean;
  /** The interval excludes 0 and `enough`. */
  significant: boolean;
}

/** Uplift of TREATMENT over CONTROL: difference of proportions with Newcombe's score interval. */
export function uplift(treatment: { n: number; conversions: number }, control: { n: number; conversions: number }, options: ComparisonOptions = {}): Uplift {
  if (treatment.n <= 0 || control.n <= 0) throw new RangeError('uplift needs at least one treatment and one control observation');
  const confidence = options.confidence ?? 0.95;
  const minPerArm = options.minPerArm ?? MIN_CUSTOMERS_PER_ARM;
  const pt = treatment.conversions / treatment.n;
  const pc = control.conversions / control.n;
  const t = wilson(treatment.conversions, treatment.n, confidence);
  const c = wilson(control.conversions, control.n, confidence);
  const diff = pt - pc;
  const ci95 = { low: diff - Math.hypot(pt - t.low, c.high - pc), high: diff + Math.hypot(t.high - pt, pc - c.low) };
  const enough = treatment.n >= minPerArm && control.n >= minPerArm;
  return {
    treatmentN: treatment.n,
    treatmentConversions: treatment.conversions,
    controlN: control.n,
    controlConversions: control.conversions,
    treatmentRate: pt,
    controlRate: pc,
    treatmentCi95: t,
    controlCi95: c,
    uplift: diff,
    standardError: Math.sqrt((pt * (1 - pt)) / treatment.n + (pc * (1 - pc)) / control.n),
    ci95,
    relativeLift: pc === 0 ? null : diff / pc,
    minPerArm,
    enough,
    significant: enough && (ci95.low > 0 || ci95.high < 0),
  };
}

// ---- Means ---------------------------------------------------------------------------------

export interface MeanDifference {
  treatmentN: number;
  controlN: number;
  treatmentMean: number;
  controlMean: number;
  difference: number;
  standardError: number;
  /** Welch–Satterthwaite degrees of freedom of the t interval. */
  df: number;
  ci95: Interval;
  relativeChange: number | null;
  minPerArm: number;
  enough: boolean;
  significant: boolean;
}

/**
 * Whether a difference of means has an estimable error: two observations per group at least (one
 * has no sample variance, and taking it as 0 made a single control answer look "significant").
 */
export const comparableMeans = (treatment: { n: number }, control: { n: number }): boolean => treatment.n >= 2 && control.n >= 2;

/** Welch–Satterthwaite degrees of freedom; n1 + n2 - 2 when both variances are 0 (the interval is a point then). */
export function welchDf(v1: number, n1: number, v2: number, n2: number): number {
  const a = v1 / n1;
  const b = v2 / n2;
  const denominator = (a * a) / (n1 - 1) + (b * b) / (n2 - 1);
  return denominator > 0 ? ((a + b) * (a + b)) / denominator : n1 + n2 - 2;
}

/** Difference of two means with Welch's standard error and a Welch–Satterthwaite t interval; needs `comparableMeans`. */
export function meanDifference(
  treatment: { n: number; mean: number; variance: number | null },
  control: { n: number; mean: number; variance: number | null },
  options: ComparisonOptions = {},
): MeanDifference {
  if (!comparableMeans(treatment, control)) throw new RangeError(`meanDifference needs two observations per group, got ${treatment.n} and ${control.n}`);
  const confidence = options.confidence ?? 0.95;
  const minPerArm = options.minPerArm ?? MIN_CUSTOMERS_PER_ARM;
  const v1 = treatment.variance ?? 0;
  const v2 = control.variance ?? 0;
  const diff = treatment.mean - control.mean;
  const se = Math.sqrt(v1 / treatment.n + v2 / control.n);
  const df = welchDf(v1, treatment.n, v2, control.n);
  const half = se === 0 ? 0 : studentTQuantile(1 - (1 - confidence) / 2, df) * se;
  const ci95 = { low: diff - half, high: diff + half };
  const enough = treatment.n >= minPerArm && control.n >= minPerArm;
  return {
    treatmentN: treatment.n,
    controlN: control.n,
    treatmentMean: treatment.mean,
    controlMean: control.mean,
    difference: diff,
    standardError: se,
    df,
    ci95,
    relativeChange: control.mean === 0 ? null : diff / control.mean,
    minPerArm,
    enough,
    significant: enough && (ci95.low > 0 || ci95.high < 0),
  };
}

// ---- Many comparisons at once --------------------------------------------------------------

export interface MultipleComparisons {
  /** Comparisons shown together. */
  comparisons: number;
  /** Expected false positives at 95% if no effect were real: 0.05 x comparisons. */
  expectedByChance: number;
  /** Called significant at 95% each. */
  significant: number;
  /** Still significant at the Bonferroni level 1 - 0.05 / comparisons. */
  significantBonferroni: number;
  /** One line for a reader; null for fewer than two comparisons. */
  note: string | null;
}

/**
 * Bonferroni across the comparisons of one table: `atLevel` recomputes a comparison at a given
 * confidence and says whether it is significant there.
 */
export function multipleComparisons<T extends { significant: boolean }>(rows: T[], atLevel: (row: T, confidence: number) => boolean): MultipleComparisons {
  const k = rows.length;
  const significant = rows.filter((r) => r.significant).length;
  const significantBonferroni = k === 0 ? 0 : rows.filter((r) => atLevel(r, 1 - 0.05 / k)).length;
  const expectedByChance = 0.05 * k;
  return {
    comparisons: k,
    expectedByChance,
    significant,
    significantBonferroni,
    note:
      k < 2
        ? null
        : `${k} comparisons at once: about ${expectedByChance.toFixed(1)} would look significant by chance alone; ` +
          `${significant} significant at 95% each, ${significantBonferroni} at the Bonferroni level (each at ${(100 * (1 - 0.05 / k)).toPrecision(4)}%).`,
  };
}

// ---- Off-policy evaluation ------------------------------------------------------------------

/** A candidate policy: pi(action | journey stage), as a function or a stage -> action -> probability map. */
export type CandidatePolicy = ((stage: string, action: string) => number) | Record<string, Record<string, number>>;

export const policyProbability = (policy: CandidatePolicy, stage: string, action: string): number =>
  typeof policy === 'function' ? policy(stage, action) : (policy[stage]?.[action] ?? 0);

/** One logged decision: context (stage), chosen action, its logging probability and the reward. */
export interface LoggedSample {
  stage: string;
  action: string;
  probability: number;
  reward: number;
}

/**
 * Sufficient statistics per (stage, action): since pi depends only on (stage, action), every
 * estimate below is a weighted sum of these, so the store can aggregate and ship a few rows.
 * Rewards are binary (conversion), so r^2 = r.
 */
export interface OpeGroup {
  stage: string;
  action: string;
  n: number;
  rewards: number;
  sumInvP: number;
  sumRInvP: number;
  sumInvP2: number;
  sumRInvP2: number;
}

export interface OpeEstimate {
  n: number;
  /** Mean observed reward: the logging policy's own value (on-policy, no weighting). */
  loggingValue: number;
  /** IPS: (1/n) sum w r with w = pi(a|x) / p. Unbiased; high variance when pi and the log disagree. */
  ips: number;
  ipsCi95: Interval;
  /** SNIPS: sum w r / sum w. Slightly biased, much lower variance; the one to read first. */
  snips: number | null;
  snipsCi95: Interval | null;
  /** Effective sample size (sum w)^2 / sum w^2: how many logged decisions the estimate really rests on. */
  effectiveSampleSize: number;
  /** Mean importance weight; far from 1 means the candidate strays from the logged support. */
  meanWeight: number;
  /** False when the candidate's support in the log is poor (see `supportWarnings`): read neither estimate as a forecast. */
  reliable: boolean;
  /** Why the estimate is unreliable; empty when it is not. */
  supportWarnings: string[];
}

/** Effective sample size below which an off-policy estimate is flagged unreliable. */
export const MIN_EFFECTIVE_SAMPLE_SIZE = 100;

/** The one line a report prints beside the estimates. */
export const opeExplanation =
  'IPS reweights each logged decision by candidate/logging probability (unbiased, noisy); SNIPS divides by the sum of those weights ' +
  '(slightly biased, steadier: read it first); effective sample size = how many logged decisions the estimate really rests on.';

/** Poor support: few effective samples, or a mean weight far from 1 (the candidate puts mass where the log has little). */
export function supportWarnings(e: { n: number; effectiveSampleSize: number; meanWeight: number }): string[] {
  const out: string[] = [];
  if (e.effectiveSampleSize < MIN_EFFECTIVE_SAMPLE_SIZE)
    out.push(`effective sample size ${e.effectiveSampleSize.toFixed(0)} of ${e.n} is below ${MIN_EFFECTIVE_SAMPLE_SIZE}`);
  if (Math.abs(e.meanWeight - 1) > 0.2)
    out.push(`mean weight ${e.meanWeight.toFixed(2)} is far from 1: the candidate often picks actions the log rarely took, so IPS and SNIPS disagree`);
  return out;
}

export function groupSamples(samples: LoggedSample[]): OpeGroup[] {
  const groups = new Map<string, OpeGroup>();
  for (const s of samples) {
    if (!(s.probability > 0 && s.probability <= 1)) throw new RangeError(`logged probability ${s.probability} is not in (0, 1]`);
    const key = `${s.stage}\u0000${s.action}`;
    let g = groups.get(key);
    if (!g) {
      g = { stage: s.stage, action: s.action, n: 0, rewards: 0, sumInvP: 0, sumRInvP: 0, sumInvP2: 0, sumRInvP2: 0 };
      groups.set(key, g);
    }
    const inv = 1 / s.probability;
    g.n += 1;
    g.rewards += s.reward;
    g.sumInvP += inv;
    g.sumRInvP += s.reward * inv;
    g.sumInvP2 += inv * inv;
    g.sumRInvP2 += s.reward * inv * inv;
  }
  return [...groups.values()];
}

export function offPolicyEstimate(groups: OpeGroup[], policy: CandidatePolicy, z: number = Z95): OpeEstimate {
  let n = 0;
  let rewards = 0;
  let sumW = 0;
  let sumWR = 0;
  let sumW2 = 0;
  let sumW2R = 0;
  for (const g of groups) {
    const pi = policyProbability(policy, g.stage, g.action);
    if (!(pi >= 0 && pi <= 1)) throw new RangeError(`candidate probability ${pi} for ${g.action} in ${g.stage} is not in [0, 1]`);
    n += g.n;
    rewards += g.rewards;
    sumW += pi * g.sumInvP;
    sumWR += pi * g.sumRInvP;
    sumW2 += pi * pi * g.sumInvP2;
    sumW2R += pi * pi * g.sumRInvP2;
  }
  if (n === 0) throw new RangeError('off-policy evaluation needs logged decisions');
  const ips = sumWR / n;
  // Sample variance of w r; with binary rewards sum (w r)^2 = sum w^2 r.
  const varWR = n > 1 ? Math.max(0, (sumW2R - n * ips * ips) / (n - 1)) : 0;
  const seIps = Math.sqrt(varWR / n);
  let snips: number | null = null;
  let snipsCi95: Interval | null = null;
  if (sumW > 0) {
    const v = sumWR / sumW;
    // Delta method: Var(SNIPS) ~ sum w^2 (r - v)^2 / (sum w)^2.
    const spread = Math.max(0, sumW2R - 2 * v * sumW2R + v * v * sumW2);
    const se = Math.sqrt(spread) / sumW;
    snips = v;
    snipsCi95 = { low: v - z * se, high: v + z * se };
  }
  const effectiveSampleSize = sumW2 > 0 ? (sumW * sumW) / sumW2 : 0;
  const meanWeight = sumW / n;
  const warnings = supportWarnings({ n, effectiveSampleSize, meanWeight });
  return {
    n,
    loggingValue: rewards / n,
    ips,
    ipsCi95: { low: ips - z * seIps, high: ips + z * seIps },
    snips,
    snipsCi95,
    effectiveSampleSize,
    meanWeight,
    reliable: warnings.length === 0,
    supportWarnings: warnings,
  };
}

// ---- Off-policy evaluation per logged decision (a candidate policy evaluated in each logged context) ----

/**
 * One logged decision with the candidate's probabilities in its logged context: `target` is the
 * candidate's probability of the logged action; `targetDistribution` every action it could take
 * there (for the doubly-robust direct term). A candidate that is a whole policy, not a stage ->
 * action map, gives these per decision (replay's evaluate computes them through a shadow fold).
 */
export interface OpeSample {
  stage: string;
  action: string;
  /** Logging probability of the logged action (from the decision). */
  probability: number;
  reward: number;
  target: number;
  targetDistribution: { action: string; probability: number }[];
  /**
   * Samples sharing a cluster (e.g. a customer, whose one purchase rewards all of their decisions in
   * the window before it) are not independent: given on every sample, the intervals are clustered.
   */
  cluster?: string;
}

export interface SampleOpeEstimate extends OpeEstimate {
  /** Clusters the intervals account for; null: decisions treated as independent. */
  clusters: number | null;
  /** Doubly robust: direct estimate from a per-(stage, action) mean-reward model plus the IPS correction of its error. */
  doublyRobust: number;
  doublyRobustCi95: Interval;
  /** Logged decisions whose action the candidate never takes there (weight 0). */
  zeroWeight: number;
  maxWeight: number;
}

/** IPS, SNIPS and doubly robust with 95% intervals, effective sample size and support warnings, from per-decision samples. */
export function sampleOffPolicyEstimate(samples: readonly OpeSample[], z: number = Z95): SampleOpeEstimate {
  const n = samples.length;
  if (n === 0) throw new RangeError('off-policy evaluation needs logged decisions');
  // Reward model for DR: the logged mean reward per (stage, action), falling back to the stage's, then the overall mean.
  const cell = new Map<string, { n: number; r: number }>();
  const add = (k: string, r: number) => {
    const c = cell.get(k) ?? { n: 0, r: 0 };
    c.n++;
    c.r += r;
    cell.set(k, c);
  };
  let rewards = 0;
  for (const s of samples) {
    if (!(s.probability > 0 && s.probability <= 1)) throw new RangeError(`logged probability ${s.probability} is not in (0, 1]`);
    if (!(s.target >= 0 && s.target <= 1)) throw new RangeError(`candidate probability ${s.target} is not in [0, 1]`);
    rewards += s.reward;
    add(`${s.stage}\u0000${s.action}`, s.reward);
    add(`${s.stage}\u0000`, s.reward);
  }
  const overall = rewards / n;
  const q = (stage: string, action: string): number => {
    const c = cell.get(`${stage}\u0000${action}`) ?? cell.get(`${stage}\u0000`);
    return c ? c.r / c.n : overall;
  };
  let sumW = 0;
  let sumW2 = 0;
  let sumWR = 0;
  let sumWR2 = 0;
  let sumDr = 0;
  let sumDr2 = 0;
  let zeroWeight = 0;
  let maxWeight = 0;
  const ws: number[] = new Array(n);
  const drs: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const s = samples[i]!;
    const w = s.target / s.probability;
    ws[i] = w;
    if (w === 0) zeroWeight++;
    if (w > maxWeight) maxWeight = w;
    sumW += w;
    sumW2 += w * w;
    sumWR += w * s.reward;
    sumWR2 += w * s.reward * w * s.reward;
    let direct = 0;
    for (const t of s.targetDistribution) direct += t.probability * q(s.stage, t.action);
    const dr = direct + w * (s.reward - q(s.stage, s.action));
    drs[i] = dr;
    sumDr += dr;
    sumDr2 += dr * dr;
  }
  const ips = sumWR / n;
  let seIps = n > 1 ? Math.sqrt(Math.max(0, (sumWR2 - n * ips * ips) / (n - 1)) / n) : 0;
  const snips = sumW > 0 ? sumWR / sumW : null;
  let seSnips = 0;
  if (snips !== null) {
    let spread = 0;
    for (let i = 0; i < n; i++) spread += ws[i]! * ws[i]! * (samples[i]!.reward - snips) ** 2;
    seSnips = Math.sqrt(spread) / sumW;
  }
  const dr = sumDr / n;
  let seDr = n > 1 ? Math.sqrt(Math.max(0, (sumDr2 - n * dr * dr) / (n - 1)) / n) : 0;
  let clusters: number | null = null;
  if (samples.every((s) => s.cluster !== undefined)) {
    // Cluster-robust (sandwich) variance: residuals summed within a cluster, then squared.
    const sums = new Map<string, { ips: number; snips: number; dr: number }>();
    for (let i = 0; i < n; i++) {
      const s = samples[i]!;
      let acc = sums.get(s.cluster!);
      if (!acc) {
        acc = { ips: 0, snips: 0, dr: 0 };
        sums.set(s.cluster!, acc);
      }
      acc.ips += ws[i]! * s.reward - ips;
      acc.snips += ws[i]! * (s.reward - (snips ?? 0));
      acc.dr += drs[i]! - dr;
    }
    clusters = sums.size;
    const f = clusters > 1 ? clusters / (clusters - 1) : 0;
    let ssIps = 0;
    let ssSnips = 0;
    let ssDr = 0;
    for (const acc of sums.values()) {
      ssIps += acc.ips * acc.ips;
      ssSnips += acc.snips * acc.snips;
      ssDr += acc.dr * acc.dr;
    }
    seIps = Math.sqrt(f * ssIps) / n;
    seSnips = sumW > 0 ? Math.sqrt(f * ssSnips) / sumW : 0;
    seDr = Math.sqrt(f * ssDr) / n;
  }
  const effectiveSampleSize = sumW2 > 0 ? (sumW * sumW) / sumW2 : 0;
  const meanWeight = sumW / n;
  const warnings = supportWarnings({ n, effectiveSampleSize, meanWeight });
  if (zeroWeight > n / 2) warnings.push(`the candidate never takes the logged action in ${zeroWeight} of ${n} logged decisions`);
  return {
    n,
    loggingValue: overall,
    ips,
    ipsCi95: { low: ips - z * seIps, high: ips + z * seIps },
    snips,
    snipsCi95: snips === null ? null : { low: snips - z * seSnips, high: snips + z * seSnips },
    doublyRobust: dr,
    doublyRobustCi95: { low: dr - z * seDr, high: dr + z * seDr },
    clusters,
    effectiveSampleSize,
    meanWeight,
    zeroWeight,
    maxWeight,
    reliable: warnings.length === 0,
    supportWarnings: warnings,
  };
}

// ---- Prediction accuracy: how close predictions came to what happened (totals, MAE, Pearson, Spearman) ----

export interface Accuracy {
  customers: number;
  totalPredicted: number;
  totalActual: number;
  meanAbsoluteError: number;
  /** Null when either side has no variance. */
  pearson: number | null;
  spearman: number | null;
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  const n = a.length;
  if (n < 2 || b.length !== n) return null;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : null;
}

/** Ranks 1..n with ties given their average rank (so many zero actuals do not bias Spearman). */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (values[i] as number) - (values[j] as number));
  const out = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1] as number] === values[order[i] as number]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k] as number] = rank;
    i = j + 1;
  }
  return out;
}

export const spearman = (a: ArrayLike<number>, b: ArrayLike<number>): number | null => pearson(ranks(a), ranks(b));

export function accuracy(predicted: ArrayLike<number>, actual: ArrayLike<number>): Accuracy {
  if (predicted.length !== actual.length) throw new RangeError('predicted and actual differ in length');
  let tp = 0;
  let ta = 0;
  let abs = 0;
  for (let i = 0; i < predicted.length; i++) {
    tp += predicted[i] as number;
    ta += actual[i] as number;
    abs += Math.abs((predicted[i] as number) - (actual[i] as number));
  }
  return {
    customers: predicted.length,
    totalPredicted: tp,
    totalActual: ta,
    meanAbsoluteError: predicted.length > 0 ? abs / predicted.length : 0,
    pearson: pearson(predicted, actual),
    spearman: spearman(predicted, actual),
  };
}
