import { comparableMeans, groupSamples, meanDifference, offPolicyEstimate, uplift } from '../src/stats';

describe('uplift', () => {
  it('matches a hand computation (30% of 200 vs 15% of 200)', () => {
    const u = uplift({ n: 200, conversions: 60 }, { n: 200, conversions: 30 });
    // se = sqrt(.3*.7/200 + .15*.85/200) = sqrt(0.00105 + 0.0006375) = sqrt(0.0016875) = 0.0410792
    expect(u.treatmentRate).toBeCloseTo(0.3, 12);
    expect(u.controlRate).toBeCloseTo(0.15, 12);
    expect(u.uplift).toBeCloseTo(0.15, 12);
    expect(u.standardError).toBeCloseTo(0.0410792, 6);
    expect(u.ci95.low).toBeCloseTo(0.15 - 1.959964 * 0.0410792, 5); // 0.069486
    expect(u.ci95.high).toBeCloseTo(0.230514, 5);
    expect(u.relativeLift).toBeCloseTo(1, 12);
    expect(u.significant).toBe(true);
  });

  it('is not significant when the interval spans 0, and has no relative lift without control conversions', () => {
    const u = uplift({ n: 10, conversions: 1 }, { n: 10, conversions: 0 });
    // se = sqrt(.1*.9/10) = 0.0948683; CI = 0.1 +- 0.185938
    expect(u.ci95.low).toBeCloseTo(-0.085938, 5);
    expect(u.significant).toBe(false);
    expect(u.relativeLift).toBeNull();
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

  it('uses Welch standard errors', () => {
    const d = meanDifference({ n: 50, mean: 12, variance: 16 }, { n: 40, mean: 10, variance: 9 });
    // se = sqrt(16/50 + 9/40) = sqrt(0.32 + 0.225) = 0.738241
    expect(d.difference).toBe(2);
    expect(d.standardError).toBeCloseTo(0.738241, 6);
    expect(d.ci95.low).toBeCloseTo(2 - 1.959964 * 0.738241, 5);
    expect(d.relativeChange).toBeCloseTo(0.2, 12);
    expect(d.significant).toBe(true);
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

  it('refuses probabilities outside (0, 1]', () => {
    expect(() => groupSamples([{ stage: 'S', action: 'A', probability: 0, reward: 1 }])).toThrow(RangeError);
    expect(() => offPolicyEstimate(groupSamples(samples), { S: { A: 1.5 } })).toThrow(RangeError);
  });
});
