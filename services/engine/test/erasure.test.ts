import { type CustomerEvent, validateRecord } from '@nextact/core';
import { deserialiseJourney } from '../src/journey/codec';
import { initialJourney, type JourneyState } from '../src/journey/state';
import { createNbaDomain } from '../src/nba';
import { emptyEffects, Processor } from '../src/runtime/processor';
import { PartitionStore, type RestoredValue } from '../src/runtime/store';
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

/** A lived journey: a purchase, a complaint, a survey. */
function lived(customerId: string) {
  let step = domain.onEvent(undefined, domain.initialLearner(), purchase(customerId, T0 - 5 * DAY, 9_900), WALL);
  step = domain.onEvent(step.journey, step.learner, chat(customerId, T0 - 2 * DAY, { intent: 'COMPLAINT', sentiment: -0.8 }), WALL);
  return domain.onEvent(step.journey, step.learner, survey(customerId, T0 - DAY, 3), WALL);
}

describe('erasure in the decision domain', () => {
  it('deletes a lived journey and nothing else: other events keep it', () => {
    const step = lived('cust-e');
    expect(step.journey.rfm.purchaseCount).toBe(1);
    expect(domain.deletesJourney(step.journey, erasure('cust-e', T0))).toBe(true);
    expect(domain.deletesJourney(step.journey, purchase('cust-e', T0 + DAY))).toBe(false);
    expect(domain.deletesJourney(step.journey, outcome('cust-e', T0, 'd-1', 'offer_discount', 'EMAIL', 'OPENED'))).toBe(false);
  });

  it('lets a late outcome of an erased customer start a fresh journey that honours it, and a retried erasure is a no-op', () => {
    const late = outcome('cust-l', T0 + 1, 'd-1', 'offer_discount', 'EMAIL', 'UNSUBSCRIBED');
    expect(domain.deletesJourney(undefined, late)).toBe(false);
    const fresh = domain.onEvent(undefined, domain.initialLearner(), late, WALL);
    expect(fresh.decision).toBeUndefined();
    expect(fresh.journey.consent.EMAIL).toBe(false);
    expect(fresh.journey.rfm.purchaseCount).toBe(0);
    expect(fresh.journey.recentDecisions).toEqual([]);
    expect(domain.deletesJourney(undefined, erasure('cust-l', T0 + 3 * DAY, 'erase-again'))).toBe(true);
  });

  it('starts a customer who comes back after the erasure from nothing', () => {
    expect(domain.deletesJourney(undefined, browse('cust-b', T0 + DAY, { kind: 'PAGE_VIEW' }))).toBe(false);
    const back = domain.onEvent(undefined, domain.initialLearner(), browse('cust-b', T0 + DAY, { kind: 'PAGE_VIEW' }), WALL).journey;
    expect(back.rfm.purchaseCount).toBe(0);
    expect(back.seenEvents).toHaveLength(1);
    expect(back.erasedAt).toBeNull();
  });

  it('deletes a marker journey left by an erasure before erasures deleted, at the id next event', () => {
    const marker: JourneyState = { ...initialJourney(policy, 'cust-m'), erasedAt: T0 };
    const restored = deserialiseJourney(domain.serialiseJourney(marker));
    expect(restored.erasedAt).toBe(T0);
    expect(domain.deletesJourney(restored, purchase('cust-m', T0 + DAY))).toBe(true);
  });

  it('reads changelog journeys written before erasure existed as not erased', () => {
    const { erasedAt: _absent, ...old } = initialJourney(policy, 'cust-o');
    expect(deserialiseJourney(Buffer.from(JSON.stringify(old))).erasedAt).toBeNull();
  });
});

describe('erasure through the runtime processor', () => {
  it('removes the journey and its timer, marks a tombstone for the changelog, and a restore of that tombstone leaves nothing', () => {
    const store = new PartitionStore(domain);
    const processor = new Processor(domain, store);
    const ctx = { decisionTime: WALL, triggerTimestamp: WALL };
    for (const e of [
      purchase('cust-p', T0 - 5 * DAY, 9_900),
      browse('cust-p', T0 - DAY, { kind: 'ADD_TO_CART' }),
      browse('other', T0 - DAY, { kind: 'PAGE_VIEW' }),
    ])
      processor.applyEvent(e, ctx, emptyEffects());
    expect(store.timers.dueOf('cust-p')).toBeDefined();
    const before = new Map([...store.journeys.changes()].map(([k, v]) => [k, v === undefined ? null : domain.serialiseJourney(v)]));
    store.journeys.clearChanges();

    const fx = emptyEffects();
    processor.applyEvent(erasure('cust-p', T0), ctx, fx);
    expect(fx.decisions).toHaveLength(0);
    expect(store.journeys.get('cust-p')).toBeUndefined();
    expect(store.timers.dueOf('cust-p')).toBeUndefined();
    // What the task turns into changelog records: the key with no value (a tombstone).
    expect([...store.journeys.changes()]).toEqual([['cust-p', undefined]]);
    // Stream time does not reach the customer's timers: none fires later.
    const later = emptyEffects();
    processor.applyEvent(browse('other', T0 + 400 * DAY, { kind: 'PAGE_VIEW' }), ctx, later);
    expect(later.decisions.filter((d) => d.decision.customerId === 'cust-p')).toHaveLength(0);
    expect(store.journeys.get('cust-p')).toBeUndefined();

    // A fresh store restoring the changelog (the journey, then its tombstone) holds nothing of it.
    const fresh = new PartitionStore(domain);
    const log: [string, RestoredValue][] = [...before].map(([k, v]) => [k, [v, undefined]]);
    fresh.applyChangelog(log, '3');
    expect(fresh.journeys.get('cust-p')).toBeDefined();
    fresh.applyChangelog([['cust-p', [null, undefined]]], '4');
    expect(fresh.journeys.get('cust-p')).toBeUndefined();
    expect(fresh.timers.dueOf('cust-p')).toBeUndefined();
    expect([...fresh.journeys.range()].map(([k]) => k)).toEqual(['other']);
  });

  it('moves no stream time and fires no timer for an erasure, whatever its event time', () => {
    const store = new PartitionStore(domain);
    const processor = new Processor(domain, store);
    const ctx = { decisionTime: WALL, triggerTimestamp: WALL };
    for (const id of ['cust-a', 'cust-b']) processor.applyEvent(purchase(id, T0 - 5 * DAY, 9_900), ctx, emptyEffects());
    const streamTime = store.streamTime;
    const due = store.timers.dueOf('cust-b');
    expect(due).toBeDefined();
    // Stamped far beyond every pending timer (as an erasure at request time would be).
    const late = erasure('cust-a', T0);
    const fx = emptyEffects();
    processor.applyEvent({ ...late, value: { ...late.value, eventTime: due! + 400 * DAY } } as CustomerEvent, ctx, fx);
    expect(store.streamTime).toBe(streamTime);
    expect(fx).toEqual(emptyEffects());
    expect(store.timers.dueOf('cust-b')).toBe(due);
    expect(store.journeys.get('cust-a')).toBeUndefined();
  });

  it('writes no tombstone for an id it never held (an erasure of a stranger, a retried erasure)', () => {
    const store = new PartitionStore(domain);
    const processor = new Processor(domain, store);
    const ctx = { decisionTime: WALL, triggerTimestamp: WALL };
    processor.applyEvent(erasure('nobody', T0), ctx, emptyEffects());
    processor.applyEvent(erasure('nobody', T0, 'erase-again'), ctx, emptyEffects());
    expect(store.journeys.changedCount).toBe(0);
    expect(store.size).toBe(0);
  });
});
