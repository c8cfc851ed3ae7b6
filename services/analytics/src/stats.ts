/**
 * The statistics behind the reports, as pure functions so they can be checked by hand.
 * Intervals are 95% normal approximations (z = 1.96): fine for the counts a next-best-action
 * experiment produces, misleading for a handful of observations (the reports show n).
 */

export const Z95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
}

export interface Uplift {
  treatmentN: number;
  treatmentConversions: number;
  controlN: number;
  controlConversions: number;
  treatmentRate: number;
  controlRate: number;
  /** Absolute uplift t - c (difference of proportions). */
  uplift: number;
  standardError: number;
  ci95: Interval;
  /** (t - c) / c; null when the control rate is 0. */
  relativeLift: number | null;
  /** The interval excludes 0. */
  significant: boolean;
}

/** Uplift of TREATMENT over CONTROL: difference of proportions with the unpooled (Wald) standard error. */
export function uplift(treatment: { n: number; conversions: number }, control: { n: number; conversions: number }, z: number = Z95): Uplift {
  if (treatment.n <= 0 || control.n <= 0) throw new RangeError('uplift needs at least one treatment and one control observation');
  const pt = treatment.conversions / treatment.n;
  const pc = control.conversions / control.n;
  const diff = pt - pc;
  const se = Math.sqrt((pt * (1 - pt)) / treatment.n + (pc * (1 - pc)) / control.n);
  const ci95 = { low: diff - z * se, high: diff + z * se };
  return {
    treatmentN: treatment.n,
    treatmentConversions: treatment.conversions,
    controlN: control.n,
    controlConversions: control.conversions,
    treatmentRate: pt,
    controlRate: pc,
    uplift: diff,
    standardError: se,
    ci95,
    relativeLift: pc === 0 ? null : diff / pc,
    significant: ci95.low > 0 || ci95.high < 0,
  };
}

export interface MeanDifference {
  treatmentN: number;
  controlN: number;
  treatmentMean: number;
  controlMean: number;
  difference: number;
  standardError: number;
  ci95: Interval;
  relativeChange: number | null;
  significant: boolean;
}

/**
 * Whether a difference of means has an estimable error: two observations per group at least (one
 * has no sample variance, and taking it as 0 made a single control answer look "significant").
 */
export const comparableMeans = (treatment: { n: number }, control: { n: number }): boolean => treatment.n >= 2 && control.n >= 2;

/** Difference of two means with Welch's (unpooled) standard error; needs `comparableMeans`. */
export function meanDifference(
  treatment: { n: number; mean: number; variance: number | null },
  control: { n: number; mean: number; variance: number | null },
  z: number = Z95,
): MeanDifference {
  if (!comparableMeans(treatment, control)) throw new RangeError(`meanDifference needs two observations per group, got ${treatment.n} and ${control.n}`);
  const diff = treatment.mean - control.mean;
  const se = Math.sqrt((treatment.variance ?? 0) / treatment.n + (control.variance ?? 0) / control.n);
  const ci95 = { low: diff - z * se, high: diff + z * se };
  return {
    treatmentN: treatment.n,
    controlN: control.n,
    treatmentMean: treatment.mean,
    controlMean: control.mean,
    difference: diff,
    standardError: se,
    ci95,
    relativeChange: control.mean === 0 ? null : diff / control.mean,
    significant: ci95.low > 0 || ci95.high < 0,
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
  return {
    n,
    loggingValue: rewards / n,
    ips,
    ipsCi95: { low: ips - z * seIps, high: ips + z * seIps },
    snips,
    snipsCi95,
    effectiveSampleSize: sumW2 > 0 ? (sumW * sumW) / sumW2 : 0,
    meanWeight: sumW / n,
  };
}
