/** Per-decision off-policy estimates (analytics stats.ts sampleOffPolicyEstimate), checked by hand. */
import { type OpeSample, sampleOffPolicyEstimate } from '@nextact/analytics';

const logged = [
  { stage: 'S', action: 'A', probability: 0.5, reward: 1 },
  { stage: 'S', action: 'A', probability: 0.5, reward: 0 },
  { stage: 'S', action: 'B', probability: 0.25, reward: 1 },
  { stage: 'S', action: 'B', probability: 0.75, reward: 0 },
];

describe('sampleOffPolicyEstimate', () => {
  it('computes IPS, SNIPS, doubly robust and ESS for a deterministic candidate by hand', () => {
    // Candidate: always B. Weights 0, 0, 4, 4/3.
    const samples: OpeSample[] = logged.map((s) => ({ ...s, target: s.action === 'B' ? 1 : 0, targetDistribution: [{ action: 'B', probability: 1 }] }));
    const e = sampleOffPolicyEstimate(samples);
    expect(e.ips).toBeCloseTo(1, 12);
    expect(e.snips).toBeCloseTo(0.75, 12);
    expect(e.effectiveSampleSize).toBeCloseTo(1.6, 12);
    // q(S,A) = q(S,B) = 0.5; DR terms 0.5, 0.5, 0.5 + 4 * 0.5, 0.5 - 4/3 * 0.5.
    expect(e.doublyRobust).toBeCloseTo((0.5 + 0.5 + 2.5 + (0.5 - 2 / 3)) / 4, 12);
    expect(e.zeroWeight).toBe(2);
    expect(e.maxWeight).toBe(4);
    expect(e.reliable).toBe(false);
    expect(e.supportWarnings.join(' ')).toMatch(/effective sample size 2 of 4/);
    expect(e.doublyRobustCi95.low).toBeLessThan(e.doublyRobust);
  });

  it('gives the logging value on every estimator when the candidate is the logging policy', () => {
    const samples: OpeSample[] = logged.map((s) => ({
      ...s,
      target: s.probability,
      targetDistribution: [
        { action: s.action, probability: s.probability },
        { action: s.action === 'A' ? 'B' : 'A', probability: 1 - s.probability },
      ],
    }));
    const e = sampleOffPolicyEstimate(samples);
    expect(e.meanWeight).toBeCloseTo(1, 12);
    expect(e.ips).toBeCloseTo(0.5, 12);
    expect(e.snips).toBeCloseTo(0.5, 12);
    expect(e.effectiveSampleSize).toBeCloseTo(4, 12);
  });

  it('widens the intervals for decisions that share a customer (clustered), and only then', () => {
    // Eight independent decisions, then each one repeated within its own cluster (one customer, two
    // decisions sharing one outcome): the clustered interval equals the original's, the naive one shrinks.
    const base: OpeSample[] = [...logged, ...logged].map((s, i) => ({
      ...s,
      reward: i % 3 === 0 ? 1 : 0,
      target: s.action === 'B' ? 0.6 : 0.4,
      targetDistribution: [
        { action: 'A', probability: 0.4 },
        { action: 'B', probability: 0.6 },
      ],
      cluster: `c${i}`,
    }));
    const single = sampleOffPolicyEstimate(base);
    const doubled = [...base, ...base];
    const clustered = sampleOffPolicyEstimate(doubled);
    const naive = sampleOffPolicyEstimate(doubled.map(({ cluster: _, ...s }) => s));
    const width = (i: { low: number; high: number } | null) => i!.high - i!.low;
    expect(clustered.clusters).toBe(8);
    expect(naive.clusters).toBeNull();
    expect(clustered.snips).toBeCloseTo(single.snips!, 12);
    for (const k of ['ipsCi95', 'snipsCi95', 'doublyRobustCi95'] as const) {
      expect(width(clustered[k])).toBeCloseTo(width(single[k]), 10);
      expect(width(naive[k])).toBeLessThan(width(clustered[k]) * 0.8);
    }
  });

  it('refuses probabilities outside their range', () => {
    expect(() => sampleOffPolicyEstimate([{ ...logged[0]!, probability: 0, target: 1, targetDistribution: [] }])).toThrow(/logged probability 0/);
    expect(() => sampleOffPolicyEstimate([{ ...logged[0]!, target: 1.5, targetDistribution: [] }])).toThrow(/candidate probability 1.5/);
    expect(() => sampleOffPolicyEstimate([])).toThrow(/needs logged decisions/);
  });
});
