import { type CustomerEvent, validateRecord } from '@nextact/core';
import { deserialiseJourney } from '../src/journey/codec';
import { erasedJourney, initialJourney } from '../src/journey/state';
import { createNbaDomain } from '../src/nba';
import { browse, chat, DAY, outcome, purchase, shippedPolicy, survey, T0, WALL } from './policy/helpers';

const policy = shippedPolicy();
const domain = createNbaDomain(policy);

const erasure = (customerId: string, at: number, eventId = `erase-${customerId}`): CustomerEvent => ({
  name: 'nextact.ErasureRequest',
  value: validateRecord('nextact.ErasureRequest', {
    eventId,
    customerId,
    eventTime: Date.UTC(2000, 0, 1),
    requestedAt: at,
    source: 'cli',
    requestedBy: 'dpo',
    reason: null,
  }),
});

describe('erasure in the decision domain', () => {
  it('replaces a lived journey by a marker that holds nothing but the id and the time', () => {
    let step = domain.onEvent(undefined, domain.initialLearner(), purchase('cust-e', T0 - 5 * DAY, 9_900), WALL);
    step = domain.onEvent(step.journey, step.learner, chat('cust-e', T0 - 2 * DAY, { intent: 'COMPLAINT', sentiment: -0.8 }), WALL);
    step = domain.onEvent(step.journey, step.learner, survey('cust-e', T0 - DAY, 3), WALL);
    expect(step.journey.rfm.purchaseCount).toBe(1);
    expect(step.journey.seenEvents.length).toBeGreaterThan(0);

    const erased = domain.onEvent(step.journey, step.learner, erasure('cust-e', T0), WALL);
    expect(erased.decision).toBeUndefined();
    expect(erased.journey).toEqual(erasedJourney(policy, 'cust-e', T0));
    const fresh = initialJourney(policy, 'cust-e');
    expect({ ...erased.journey, consent: fresh.consent, erasedAt: null }).toEqual(fresh);
    expect(Object.values(erased.journey.consent).every((granted) => granted === false)).toBe(true);
    expect(domain.nextTimer(erased.journey)).toBeUndefined();
    // What the changelog holds round-trips, so a restore brings back the marker, not the history.
    expect(deserialiseJourney(domain.serialiseJourney(erased.journey))).toEqual(erased.journey);
  });

  it('keeps an erased id inert: later events (a late outcome, a browse) change nothing and decide nothing', () => {
    const first = domain.onEvent(undefined, domain.initialLearner(), browse('cust-l', T0 - DAY, { kind: 'ADD_TO_CART' }), WALL);
    const decisionId = first.decision?.decisionId ?? 'd-unknown';
    const erased = domain.onEvent(first.journey, first.learner, erasure('cust-l', T0), WALL).journey;
    for (const late of [
      outcome('cust-l', T0 + 1, decisionId, 'offer_discount', 'EMAIL', 'CONVERTED'),
      browse('cust-l', T0 + DAY, { kind: 'ADD_TO_CART' }),
      purchase('cust-l', T0 + 2 * DAY),
      erasure('cust-l', T0 + 3 * DAY, 'erase-again'),
    ]) {
      const step = domain.onEvent(erased, first.learner, late, WALL);
      expect(step.decision).toBeUndefined();
      expect(step.journey).toBe(erased);
      expect(step.learner).toBe(first.learner);
    }
  });

  it('marks an id it never saw, so stragglers that arrive after the erasure are ignored too', () => {
    const step = domain.onEvent(undefined, domain.initialLearner(), erasure('cust-n', T0), WALL);
    expect(step.journey.erasedAt).toBe(T0);
    expect(domain.onEvent(step.journey, step.learner, purchase('cust-n', T0 + 1), WALL).decision).toBeUndefined();
  });

  it('reads changelog journeys written before erasure existed as not erased', () => {
    const { erasedAt: _absent, ...old } = initialJourney(policy, 'cust-o');
    expect(deserialiseJourney(Buffer.from(JSON.stringify(old))).erasedAt).toBeNull();
  });
});
