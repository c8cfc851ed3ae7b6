import { createHash } from 'node:crypto';
import path from 'node:path';
import type { JourneyState } from '../../src/journey/state';
import { scoreAction, softmax } from '../../src/policy/arbitration';
import { initialLearner } from '../../src/policy/learner';
import { loadPolicy } from '../../src/policy/load';
import { browse, domainFor, FIXTURES, T0, WALL } from './helpers';

const policy = loadPolicy(path.join(FIXTURES, 'arbitration.yaml'));
const domain = domainFor(policy);
const C = 'cust-arb';

/** A customer who browsed once (CONSIDERATION, one interest, no contacts). */
function considering(): JourneyState {
  return domain.onEvent(undefined, initialLearner(), browse(C, T0 - 60_000, { kind: 'PAGE_VIEW', eventId: 'evt-arb-0' }), WALL).journey;
}

describe('worked arbitration example (fixtures/arbitration.yaml)', () => {
  // Hand computation, score = propensity × (value − cost) × contextWeight × lever + benefitWeight(0.5) × benefit:
  //   email_offer: prior 1/(1+4) = 0.2;  (12 − 2) = 10; BROWSE weight 1.5; lever 1  -> 3.0 + 0.5 × 0.4 = 3.2
  //   push_nudge:  prior 1/(1+9) = 0.1;  20;            weight 1;          lever 0.5 -> 1.0 + 0.5 × 0   = 1.0
  //   do_nothing:  value 0;                                                          -> 0   + 0.5 × 1   = 0.5
  // Softmax, T = 2: e^1.6 = 4.953032424, e^0.5 = 1.648721271, e^0.25 = 1.284025417; sum 7.885779112
  //   p = 0.6280967745, 0.2090752540, 0.1628279715
  const expected = [0.6280967744828486, 0.2090752539893741, 0.1628279715277774];
  const event = browse(C, T0, { eventId: 'evt-arb-1' });
  const { decision } = domain.onEvent(considering(), initialLearner(), event, WALL);

  it('logs the full breakdown of every candidate', () => {
    expect(decision!.candidates.map((c) => c.actionId)).toEqual(['email_offer', 'push_nudge', 'do_nothing']);
    const [email, push, nothing] = decision!.candidates;
    expect(email).toMatchObject({ eligible: true, value: 10, contextWeight: 1.5, lever: 1, benefit: 0.4 });
    expect(email!.propensity).toBeCloseTo(0.2, 12);
    expect(email!.score).toBeCloseTo(3.2, 12);
    expect(push).toMatchObject({ eligible: true, value: 20, contextWeight: 1, lever: 0.5, benefit: 0 });
    expect(push!.propensity).toBeCloseTo(0.1, 12);
    expect(push!.score).toBeCloseTo(1.0, 12);
    expect(nothing).toMatchObject({ eligible: true, value: 0, benefit: 1 });
    expect(nothing!.score).toBeCloseTo(0.5, 12);
  });

  it('selects with the exact softmax probability, drawn from a hash of the decision id', () => {
    const digest = createHash('sha256').update('evt-arb-1|test-arbitration.1').digest('hex');
    expect(decision!.decisionId).toBe(digest.slice(0, 32));
    // The draw is the digest's next 52 bits: one hash per decision.
    const u = Number.parseInt(digest.slice(32, 45), 16) / 2 ** 52;
    const index = u < expected[0]! ? 0 : u < expected[0]! + expected[1]! ? 1 : 2;
    expect(decision!.actionId).toBe(['email_offer', 'push_nudge', 'do_nothing'][index]);
    expect(Math.abs(decision!.probability - expected[index]!)).toBeLessThan(1e-9);
    expect(decision!.score).toBeCloseTo([3.2, 1.0, 0.5][index]!, 12);
    const probabilities = softmax([3.2, 1.0, 0.5], 2);
    probabilities.forEach((p, i) => {
      expect(Math.abs(p - expected[i]!)).toBeLessThan(1e-9);
    });
  });

  it('the logged probability is the empirical selection frequency (what off-policy evaluation needs)', () => {
    const base = considering();
    const counts = new Map<string, number>();
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const d = domain.onEvent(base, initialLearner(), browse(C, T0, { eventId: `evt-freq-${i}` }), WALL).decision!;
      counts.set(d.actionId, (counts.get(d.actionId) ?? 0) + 1);
    }
    ['email_offer', 'push_nudge', 'do_nothing'].forEach((id, i) => {
      expect(Math.abs((counts.get(id) ?? 0) / n - expected[i]!)).toBeLessThan(0.025);
    });
  });

  it('do_nothing gains with contact fatigue; a nudge loses on an unhappy customer', () => {
    const learner = initialLearner();
    const ctx = { policy, learner, stage: 'CONSIDERATION' as const, trigger: 'BROWSE' as const, unhappy: false, recentContacts: 2, now: 0 };
    const nothing = policy.actions.find((a) => a.id === 'do_nothing')!;
    const push = policy.actions.find((a) => a.id === 'push_nudge')!;
    expect(scoreAction(nothing, ctx, true)).toMatchObject({ benefit: 2, score: 1 }); // 0.5 × (1 + 0.5 × 2)
    expect(scoreAction(push, { ...ctx, unhappy: true }, true).score).toBeCloseTo(0, 12); // 1.0 + 0.5 × (−2)
  });
});

describe('softmax', () => {
  it('is shift-invariant, sums to 1 and stays finite for large scores', () => {
    const a = softmax([1, 2, 3], 0.5);
    const b = softmax([101, 102, 103], 0.5);
    a.forEach((p, i) => {
      expect(p).toBeCloseTo(b[i]!, 12);
    });
    expect(a.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
    expect(softmax([1000, 0], 1)).toEqual([1, Math.exp(-1000)]);
    expect(softmax([0.7], 3)).toEqual([1]);
  });
});
