import { type CustomerEvent, type Decision, ErrorCodes } from '@nextact/core';
import { decisionFingerprint } from '../../src/journey/fingerprint';
import type { JourneyState } from '../../src/journey/state';
import { initialLearner, type LearnerState, observe, posterior, propensity } from '../../src/policy/learner';
import { browse, DAY, domainFor, HOUR, outcome, policyWith, purchase, T0, WALL } from './helpers';

const C = 'cust-l';
const policy = policyWith((p) => {
  delete p.learning.halfLifeDays; // exact counts; decay has its own tests below
  p.arbitration.temperature = 0.01;
  p.experiments = [];
  const discount = p.actions.find((a) => a.id === 'offer_discount')!;
  discount.value = 1000;
  discount.cooldownHours = 0;
});
const domain = domainFor(policy);

function step(state: { journey?: JourneyState; learner: LearnerState }, event: CustomerEvent) {
  const r = domain.onEvent(state.journey, state.learner, event, WALL);
  return { state: { journey: r.journey, learner: r.learner }, decision: r.decision };
}

describe('Beta-Bernoulli learning per (action, stage)', () => {
  it('updates alpha on success and beta on failure, once per decision, in the stage of the decision', () => {
    let s: { journey?: JourneyState; learner: LearnerState } = { learner: domain.initialLearner() };
    const r = step(s, browse(C, T0));
    s = r.state;
    const d1 = r.decision as Decision;
    expect(d1).toMatchObject({ actionId: 'offer_discount', journeyStage: 'CONSIDERATION', deliver: true });
    expect(posterior(policy, s.learner, 'offer_discount', 'CONSIDERATION')).toEqual({ alpha: 3, beta: 37 }); // the policy's prior

    s = step(s, outcome(C, T0 + HOUR, d1.decisionId, 'offer_discount', 'EMAIL', 'DELIVERED')).state;
    s = step(s, outcome(C, T0 + HOUR, d1.decisionId, 'offer_discount', 'EMAIL', 'OPENED')).state;
    expect(s.learner.arms).toEqual({}); // no signal

    // The customer buys before clicking: the click still counts under CONSIDERATION, the stage of the decision.
    s = step(s, purchase(C, T0 + 2 * HOUR)).state;
    expect(s.journey!.stage).toBe('PURCHASE');
    const click = outcome(C, T0 + 3 * HOUR, d1.decisionId, 'offer_discount', 'EMAIL', 'CLICKED');
    s = step(s, click).state;
    expect(posterior(policy, s.learner, 'offer_discount', 'CONSIDERATION')).toEqual({ alpha: 4, beta: 37 });
    expect(posterior(policy, s.learner, 'offer_discount', 'PURCHASE')).toEqual({ alpha: 3, beta: 37 });

    const afterClick = s.learner;
    s = step(s, outcome(C, T0 + 4 * HOUR, d1.decisionId, 'offer_discount', 'EMAIL', 'CONVERTED')).state; // same decision again
    s = step(s, outcome(C, T0 + 4 * HOUR, 'unknown-decision', 'offer_discount', 'EMAIL', 'DISMISSED')).state; // not ours
    s = step(s, click).state; // duplicate event id
    expect(s.learner).toBe(afterClick);
    expect(s.journey!.recentDecisions.find((d) => d.id === decisionFingerprint(d1.decisionId))).toMatchObject({ outcome: 'CONVERTED', learned: true });
  });

  it('counts DISMISSED / COMPLAINED / UNSUBSCRIBED as failures and uses the posterior mean as propensity', () => {
    let s: { journey?: JourneyState; learner: LearnerState } = { learner: domain.initialLearner() };
    const kinds = ['DISMISSED', 'COMPLAINED', 'UNSUBSCRIBED'] as const;
    kinds.forEach((kind, i) => {
      const r = step(s, browse(C, T0 + i * 8 * DAY));
      s = r.state;
      expect(r.decision).toMatchObject({ actionId: 'offer_discount', deliver: true });
      s = step(s, outcome(C, T0 + i * 8 * DAY + HOUR, r.decision!.decisionId, 'offer_discount', 'EMAIL', kind)).state;
      // Undo the suppression side effects so the next round offers the discount again.
      s.journey = { ...s.journey!, suppressions: { actions: {}, marketingUntil: null }, consent: { ...s.journey!.consent, EMAIL: true } };
    });
    expect(posterior(policy, s.learner, 'offer_discount', 'CONSIDERATION')).toEqual({ alpha: 3, beta: 40 });
    expect(propensity(policy, s.learner, 'offer_discount', 'CONSIDERATION')).toBeCloseTo(3 / 43, 15);
    const next = step(s, browse(C, T0 + 30 * DAY)).decision!;
    expect(next.candidates.find((c) => c.actionId === 'offer_discount')!.propensity).toBeCloseTo(3 / 43, 15);
    expect(domain.deserialiseLearner(domain.serialiseLearner(s.learner))).toEqual(s.learner);
  });

  it('serialises to Avro and back, reads a version-1 JSON learner (counts without a time stay without), refuses other versions', () => {
    const learner = observe(observe(initialLearner(), 'offer_discount', 'CONSIDERATION', true, T0, 10), 'call_back', 'CHURN_RISK', false, T0 + DAY, 10);
    const bytes = domain.serialiseLearner(learner);
    expect(bytes[0]).toBe(4);
    expect(domain.deserialiseLearner(bytes)).toEqual(learner);
    const v1 = {
      v: 1,
      arms: { 'offer_discount|CONSIDERATION': { successes: 2, failures: 1 }, 'call_back|CHURN_RISK': { successes: 0.5, failures: 0, at: T0 } },
    };
    const read = domain.deserialiseLearner(Buffer.from(JSON.stringify(v1)));
    expect(read).toEqual({ v: 2, arms: v1.arms });
    expect(read.arms['offer_discount|CONSIDERATION']).not.toHaveProperty('at');
    expect(domain.deserialiseLearner(domain.serialiseLearner(read))).toEqual(read);
    expect(() => domain.deserialiseLearner(Buffer.from(JSON.stringify({ ...v1, v: 7 })))).toThrow(expect.objectContaining({ code: ErrorCodes.DECODE }));
  });

  describe('with a half-life', () => {
    const decaying = policyWith((p) => {
      p.learning.halfLifeDays = 10;
    });
    const policy = policyWith((p) => {
      delete p.learning.halfLifeDays;
    });
    const prior = decaying.learning.actionPriors.offer_discount!;

    it('halves the weight of evidence every half-life of event time, on read and on update', () => {
      let l = initialLearner();
      for (let i = 0; i < 4; i++) l = observe(l, 'offer_discount', 'CONSIDERATION', true, T0, 10);
      expect(posterior(decaying, l, 'offer_discount', 'CONSIDERATION', T0)).toEqual({ alpha: prior.alpha + 4, beta: prior.beta });
      expect(posterior(decaying, l, 'offer_discount', 'CONSIDERATION', T0 + 10 * DAY).alpha).toBeCloseTo(prior.alpha + 2, 12);
      expect(posterior(decaying, l, 'offer_discount', 'CONSIDERATION', T0 + 20 * DAY).alpha).toBeCloseTo(prior.alpha + 1, 12);
      // A failure 10 days later: the successes are worth 2 by then, the failure 1.
      l = observe(l, 'offer_discount', 'CONSIDERATION', false, T0 + 10 * DAY, 10);
      expect(l.arms['offer_discount|CONSIDERATION']).toMatchObject({ successes: 2, failures: 1, at: T0 + 10 * DAY });
      // A late observation (before the counts' time) enters with its own decayed weight.
      l = observe(l, 'offer_discount', 'CONSIDERATION', false, T0, 10);
      expect(l.arms['offer_discount|CONSIDERATION']!.failures).toBeCloseTo(1.5, 12);
      expect(l.arms['offer_discount|CONSIDERATION']!.at).toBe(T0 + 10 * DAY);
      // Without a half-life nothing decays, whatever the time.
      expect(posterior(policy, l, 'offer_discount', 'CONSIDERATION', T0 + 1000 * DAY).beta).toBeCloseTo(
        policy.learning.actionPriors.offer_discount!.beta + 1.5,
        12,
      );
    });
  });
});
