import {
  comparableMeans,
  groupSamples,
  MIN_CUSTOMERS_PER_ARM,
  meanDifference,
  multipleComparisons,
  normalCdf,
  normalQuantile,
  offPolicyEstimate,
  studentTCdf,
  studentTQuantile,
  supportWarnings,
  uplift,
  welchDf,
  wilson,
  Z95,
} from '../../src/reports/stats';

describe('distributions', () => {
  it('gives the tabled Student t quantiles, fractional degrees of freedom included', () => {
    // Two-sided 95% critical values from any t table.
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062, 4);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.3027, 4);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.2281, 4);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.0423, 4);
    expect(studentTQuantile(0.025, 10)).toBeCloseTo(-2.2281, 4);
    const between = studentTQuantile(0.975, 10.5);
    expect(between).toBeLessThan(2.2281);
    expect(between).toBeGreaterThan(studentTQuantile(0.975, 11)); // 2.2010
    expect(studentTCdf(0, 7)).toBeCloseTo(0.5, 12);
  });

  it('gives the normal quantiles and CDF', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(Z95, 9);
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013499, 7);
    expect(normalCdf(1)).toBeCloseTo(0.8413447, 7);
  });
});

describe('wilson', () => {
  it('matches published intervals (Newcombe 1998) and stays inside [0, 1]', () => {
    const a = wilson(81, 263);
    expect(a.low).toBeCloseTo(0.2553, 4);
    expect(a.high).toBeCloseTo(0.3662, 4);
    const b = wilson(15, 148);
    expect(b.low).toBeCloseTo(0.0624, 4);
    expect(b.high).toBeCloseTo(0.1605, 4);
    // 0 of 20: the upper limit is z^2 / (n + z^2) = 3.8415 / 23.8415.
    expect(wilson(0, 20)).toEqual({ low: 0, high: expect.closeTo(0.1611, 4) });
    expect(wilson(3, 3).high).toBe(1);
  });
});

describe('uplift', () => {
  it("matches Newcombe's published hybrid score interval (56/70 vs 48/80: 0.0524 to 0.3339)", () => {
    const u = uplift({ n: 70, conversions: 56 }, { n: 80, conversions: 48 });
    expect(u.uplift).toBeCloseTo(0.2, 12);
    expect(u.ci95.low).toBeCloseTo(0.0524, 4);
    expect(u.ci95.high).toBeCloseTo(0.3339, 4);
    expect(u.enough).toBe(true);
    expect(u.significant).toBe(true);
    expect(u.relativeLift).toBeCloseTo(1 / 3, 12);
  });

  it('does not call a large difference on three customers per arm significant, and says why', () => {
    // 2/3 vs 0/3: Wilson [0.2077, 0.9385] and [0, 0.5615]; Newcombe low = 0.6667 - hypot(0.4590, 0.5615) = -0.0586.
    const u = uplift({ n: 3, conversions: 2 }, { n: 3, conversions: 0 });
    expect(u.ci95.low).toBeCloseTo(-0.0586, 4);
    expect(u.enough).toBe(false);
    expect(u.minPerArm).toBe(MIN_CUSTOMERS_PER_ARM);
    expect(u.significant).toBe(false);
    expect(u.relativeLift).toBeNull();
    // With enough customers and an interval that excludes 0, the same rule calls it.
    const called = uplift({ n: 3, conversions: 3 }, { n: 3, conversions: 0 }, { minPerArm: 3 });
    expect(called.ci95.low).toBeGreaterThan(0);
    expect(called.significant).toBe(true);
  });

  it('widens with the confidence level', () => {
    const at95 = uplift({ n: 200, conversions: 60 }, { n: 200, conversions: 30 });
    const at99 = uplift({ n: 200, conversions: 60 }, { n: 200, conversions: 30 }, { confidence: 0.99 });
    expect(at99.ci95.low).toBeLessThan(at95.ci95.low);
    expect(at99.ci95.high).toBeGreaterThan(at95.ci95.high);
  });

  it('refuses empty arms', () => {
    expect(() => uplift({ n: 0, conversions: 0 }, { n: 5, conversions: 1 })).toThrow(RangeError);
  });
});

describe('meanDifference', () => {
  it('refuses a group of one, whose variance is unknown', () => {
    expect(() => meanDifference({ n: 4, mean: 4, variance: 0.5 }, { n: 1, mean: 3, variance: null })).toThrow(/two observations per group, got 4 and 1/);
    expect(comparableMeans({ n: 2 }, { n: 2 })).toBe(true);
    expect(comparableMeans({ n: 2 }, { n: 1 })).toBe(false);
  });

  it('uses a Welch–Satterthwaite t interval (equal groups: df = 2n - 2)', () => {
    // se = sqrt(4/10 + 4/10) = 0.894427; df = 0.64 / (2 * 0.16 / 9) = 18; t(0.975, 18) = 2.1009.
    const d = meanDifference({ n: 10, mean: 5, variance: 4 }, { n: 10, mean: 3, variance: 4 }, { minPerArm: 10 });
    expect(d.standardError).toBeCloseTo(0.894427, 6);
    expect(d.df).toBeCloseTo(18, 9);
    expect(d.ci95.low).toBeCloseTo(2 - 2.1009 * 0.894427, 3); // 0.1209
    expect(d.ci95.high).toBeCloseTo(3.8791, 3);
    expect(d.significant).toBe(true);
  });

  it('takes Satterthwaite degrees of freedom for unequal variances', () => {
    // a = 16/50 = 0.32, b = 9/40 = 0.225; df = 0.545^2 / (0.32^2/49 + 0.225^2/39) = 87.67.
    const d = meanDifference({ n: 50, mean: 12, variance: 16 }, { n: 40, mean: 10, variance: 9 });
    expect(welchDf(16, 50, 9, 40)).toBeCloseTo(87.67, 2);
    expect(d.df).toBeCloseTo(87.67, 2);
    expect(d.standardError).toBeCloseTo(0.738241, 6);
    expect(d.ci95.low).toBeCloseTo(2 - studentTQuantile(0.975, 87.67) * 0.738241, 5);
    expect(d.relativeChange).toBeCloseTo(0.2, 12);
    expect(d.significant).toBe(true);
  });

  it('is not called significant below the minimum per arm, even when the interval excludes 0', () => {
    const d = meanDifference({ n: 10, mean: 5, variance: 4 }, { n: 10, mean: 3, variance: 4 });
    expect(d.ci95.low).toBeGreaterThan(0);
    expect(d.enough).toBe(false);
    expect(d.significant).toBe(false);
  });
});

describe('multipleComparisons', () => {
  it('counts what survives Bonferroni and writes one note', () => {
    const rows = [
      uplift({ n: 70, conversions: 56 }, { n: 80, conversions: 48 }),
      uplift({ n: 100, conversions: 45 }, { n: 100, conversions: 30 }),
      uplift({ n: 100, conversions: 20 }, { n: 100, conversions: 20 }),
      uplift({ n: 40, conversions: 12 }, { n: 40, conversions: 10 }),
    ];
    const raw = rows.map((r) => ({ t: { n: r.treatmentN, conversions: r.treatmentConversions }, c: { n: r.controlN, conversions: r.controlConversions } }));
    const m = multipleComparisons(rows, (r, confidence) => {
      const i = rows.indexOf(r);
      return uplift(raw[i]!.t, raw[i]!.c, { confidence }).significant;
    });
    expect(m.comparisons).toBe(4);
    expect(m.expectedByChance).toBeCloseTo(0.2, 12);
    expect(m.significant).toBe(2);
    // At 98.75% each (z = 2.4977): 56/70 vs 48/80 keeps a lower limit of 0.0113 > 0; 45/100 vs 30/100 drops
    // from 0.0159 at 95% to -0.0205 (Newcombe's limits from Wilson's with that z, computed by hand).
    expect(rows[1]!.ci95.low).toBeCloseTo(0.0159, 4);
    expect(uplift(raw[1]!.t, raw[1]!.c, { confidence: 0.9875 }).ci95.low).toBeCloseTo(-0.0205, 4);
    expect(uplift(raw[0]!.t, raw[0]!.c, { confidence: 0.9875 }).ci95.low).toBeCloseTo(0.0113, 4);
    expect(m.significantBonferroni).toBe(1);
    expect(m.note).toMatch(/^4 comparisons at once: about 0\.2 would look significant by chance alone; 2 significant at 95% each/);
    expect(multipleComparisons(rows.slice(0, 1), () => true).note).toBeNull();
  });
});

describe('off-policy evaluation', () => {
  // Four logged decisions in one stage: two actions A and B, logged with probabilities.
  const samples = [
    { stage: 'S', action: 'A', probability: 0.5, reward: 1 },
    { stage: 'S', action: 'A', probability: 0.5, reward: 0 },
    { stage: 'S', action: 'B', probability: 0.25, reward: 1 },
    { stage: 'S', action: 'B', probability: 0.75, reward: 0 },
  ];

  it('computes IPS and SNIPS for a deterministic candidate by hand', () => {
    // Candidate: always B. Weights: A -> 0; B -> 1/0.25 = 4 and 1/0.75 = 4/3.
    // IPS = (4*1 + 4/3*0) / 4 = 1. SNIPS = 4 / (4 + 4/3) = 0.75.
    const e = offPolicyEstimate(groupSamples(samples), { S: { B: 1 } });
    expect(e.n).toBe(4);
    expect(e.ips).toBeCloseTo(1, 12);
    expect(e.snips).toBeCloseTo(0.75, 12);
    // ESS = (16/3)^2 / (16 + 16/9) = (256/9) / (160/9) = 1.6
    expect(e.effectiveSampleSize).toBeCloseTo(1.6, 12);
    expect(e.meanWeight).toBeCloseTo(4 / 3, 12);
    // IPS variance: values w r = [0, 0, 4, 0]; sample var = (16 - 4*1)/3 = 4; se = sqrt(4/4) = 1.
    expect(e.ipsCi95.high - e.ips).toBeCloseTo(1.959964, 5);
    // SNIPS (delta): sum w^2 (r - .75)^2 = 16*.0625 + 16/9*.5625 = 1 + 1 = 2; se = sqrt(2) / (16/3).
    expect(e.snipsCi95!.high - 0.75).toBeCloseTo((1.959964 * Math.SQRT2 * 3) / 16, 5);
    expect(e.loggingValue).toBeCloseTo(0.5, 12);
  });

  it('accepts the candidate as a function, with the same result as the mapping', () => {
    const groups = groupSamples(samples);
    const mapping = offPolicyEstimate(groups, { S: { A: 0.3, B: 0.7 } });
    const fn = offPolicyEstimate(groups, (stage, action) => (stage === 'S' ? (action === 'A' ? 0.3 : 0.7) : 0));
    expect(fn).toEqual(mapping);
    // IPS = (0.3*2*1 + 0.7*4*1) / 4 = (0.6 + 2.8) / 4 = 0.85
    expect(mapping.ips).toBeCloseTo(0.85, 12);
  });

  it('recovers the logging policy value when the candidate is the logging policy', () => {
    // Logging policy in stage T: A with 0.2, B with 0.8, every logged probability consistent with it.
    const logged = [
      { stage: 'T', action: 'A', probability: 0.2, reward: 1 },
      { stage: 'T', action: 'B', probability: 0.8, reward: 0 },
      { stage: 'T', action: 'B', probability: 0.8, reward: 1 },
      { stage: 'T', action: 'B', probability: 0.8, reward: 1 },
      { stage: 'T', action: 'B', probability: 0.8, reward: 0 },
    ];
    const e = offPolicyEstimate(groupSamples(logged), { T: { A: 0.2, B: 0.8 } });
    expect(e.ips).toBeCloseTo(e.loggingValue, 12);
    expect(e.snips).toBeCloseTo(0.6, 12);
    expect(e.effectiveSampleSize).toBeCloseTo(5, 12);
  });

  it('flags poor support: few effective samples, or a mean weight far from 1', () => {
    // The hand example above: ESS 1.6 of 4, mean weight 4/3.
    const e = offPolicyEstimate(groupSamples(samples), { S: { B: 1 } });
    expect(e.reliable).toBe(false);
    expect(e.supportWarnings).toEqual([
      'effective sample size 2 of 4 is below 100',
      'mean weight 1.33 is far from 1: the candidate often picks actions the log rarely took, so IPS and SNIPS disagree',
    ]);
    expect(supportWarnings({ n: 1000, effectiveSampleSize: 400, meanWeight: 0.95 })).toEqual([]);
    expect(supportWarnings({ n: 1000, effectiveSampleSize: 400, meanWeight: 0.43 })).toHaveLength(1);
  });

  it('refuses probabilities outside (0, 1]', () => {
    expect(() => groupSamples([{ stage: 'S', action: 'A', probability: 0, reward: 1 }])).toThrow(RangeError);
    expect(() => offPolicyEstimate(groupSamples(samples), { S: { A: 1.5 } })).toThrow(RangeError);
  });
});
