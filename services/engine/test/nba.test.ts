import { createHash } from 'node:crypto';
import { type CustomerEvent, type Decision, validateRecord } from '@nextact/core';
import { decisionFingerprint } from '../src/journey/fingerprint';
import type { JourneyState } from '../src/journey/state';
import { createNbaDomain } from '../src/nba';
import type { LearnerState } from '../src/policy/learner';
import { browse, chat, consent, DAY, HOUR, outcome, purchase, shippedPolicy, survey, T0, WALL } from './policy/helpers';

const policy = shippedPolicy();
const domain = createNbaDomain(policy);

describe('createNbaDomain', () => {
  it('exposes the policy version', () => {
    expect(domain.policyVersion).toBe('2026-11-23.4');
  });

  it('is deterministic: same state and same event give deep-equal decisions (decisionTime aside) and never mutates its inputs', () => {
    const start = domain.onEvent(undefined, domain.initialLearner(), purchase('cust-d', T0 - 10 * DAY), WALL).journey;
    const snapshot = structuredClone(start);
    const learner = domain.initialLearner();
    const event = chat('cust-d', T0, { intent: 'COMPLAINT', sentiment: -0.7 });
    const a = domain.onEvent(start, learner, event, WALL);
    const b = domain.onEvent(start, learner, event, WALL + 12_345);
    expect(start).toEqual(snapshot);
    expect(a.decision).toBeDefined();
    expect({ ...b.decision, decisionTime: 0 }).toEqual({ ...a.decision, decisionTime: 0 });
    expect(b.decision!.decisionTime).toBe(WALL + 12_345);
    expect(b.journey).toEqual(a.journey);
    const expectedId = createHash('sha256').update(`${event.value.eventId}|2026-11-23.4`).digest('hex').slice(0, 32);
    expect(a.decision).toMatchObject({
      decisionId: expectedId,
      customerId: 'cust-d',
      triggerEventId: event.value.eventId,
      triggerType: 'nextact.ChatEvent',
      journeyStage: 'CHURN_RISK',
      eventTime: T0,
      policyVersion: '2026-11-23.4',
      schemaVersion: 1,
      experimentId: null,
      experimentArm: 'NONE',
    });
    expect(a.decision!.reasonCodes).toEqual(expect.arrayContaining(['TRIGGER:CHAT', 'CONTEXT:UNHAPPY', 'GATE_CONSENT_FAILED:CALL_CENTRE']));
    // A discount to an angry customer carries negative benefit.
    expect(a.decision!.candidates.find((c) => c.actionId === 'offer_discount')!.benefit).toBe(-3);
  });

  it('never mutates a journey or learner it is given: every step works on frozen inputs (copy on write)', () => {
    const deepFreeze = <T>(value: T): T => {
      if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const v of Object.values(value)) deepFreeze(v);
      }
      return value;
    };
    let steps = 0;
    let learner: LearnerState = deepFreeze(domain.initialLearner());
    for (let c = 0; c < 40; c++) {
      const id = `frozen-${c}`;
      let journey: JourneyState | undefined;
      const t = T0 + c * HOUR;
      const feed = (e: CustomerEvent) => {
        const r = domain.onEvent(journey, learner, e, WALL);
        journey = deepFreeze(r.journey);
        learner = deepFreeze(r.learner);
        steps++;
        return r.decision;
      };
      const script: CustomerEvent[] = [
        consent(id, t, 'SMS', true, 'Europe/Berlin'),
        browse(id, t + HOUR, { kind: 'ADD_TO_CART', category: `cat-${c % 4}` }),
        purchase(id, t + 2 * HOUR, 1500),
        chat(id, t + 3 * HOUR, { intent: 'COMPLAINT', sentiment: -0.8 }),
        survey(id, t + 4 * HOUR, c % 2 === 0 ? 2 : 10, 3),
        chat(id, t + 5 * HOUR, { intent: 'COMPLAINT', sentiment: 0.4, resolved: true }),
        consent(id, t + 6 * HOUR, 'EMAIL', c % 3 !== 0),
      ];
      for (const e of script) {
        const d = feed(e);
        if (d?.deliver) {
          feed(outcome(id, d.eventTime + HOUR, d.decisionId, d.actionId, d.channel, (['CLICKED', 'DISMISSED', 'COMPLAINED', 'UNSUBSCRIBED'] as const)[c % 4]!));
          feed(outcome(id, d.eventTime + 2 * HOUR, d.decisionId, d.actionId, d.channel, 'CONVERTED'));
        }
      }
      feed(browse(id, t + 40 * DAY, { kind: 'PAGE_VIEW' })); // prunes expired suppressions, intents and contacts
      for (let due = domain.nextTimer(journey!); due !== undefined && due < T0 + 200 * DAY; due = domain.nextTimer(journey!)) {
        journey = deepFreeze(domain.onTimer(journey!, learner, due, WALL).journey);
        steps++;
      }
    }
    expect(steps).toBeGreaterThan(400);
    expect(Object.keys(learner.arms).length).toBeGreaterThan(0);
  });

  it('ignores a duplicate event id: no state change, no decision', () => {
    const event = browse('cust-dup', T0);
    const first = domain.onEvent(undefined, domain.initialLearner(), event, WALL);
    expect(first.decision).toBeDefined();
    const second = domain.onEvent(first.journey, first.learner, event, WALL + 1);
    expect(second.decision).toBeUndefined();
    expect(second.journey).toBe(first.journey);
    expect(second.learner).toBe(first.learner);
  });

  it('records delivered decisions in contact history and recent decisions', () => {
    const r = domain.onEvent(undefined, domain.initialLearner(), browse('cust-rec', T0), WALL);
    const d = r.decision!;
    expect(r.journey.recentDecisions).toEqual([
      { id: decisionFingerprint(d.decisionId), actionId: d.actionId, stage: 'CONSIDERATION', at: T0, deliver: d.deliver, outcome: null, learned: false },
    ]);
    expect(r.journey.contacts).toEqual(d.deliver ? [{ at: T0, channel: d.channel, actionId: d.actionId, transactional: false }] : []);
    expect(d.deliver).toBe(d.actionId !== 'do_nothing' && d.experimentArm !== 'CONTROL');
  });

  it('state-only events make no decision', () => {
    const learner = domain.initialLearner();
    expect(domain.onEvent(undefined, learner, consent('c', T0, 'SMS', true), WALL).decision).toBeUndefined();
    expect(domain.onEvent(undefined, learner, outcome('c', T0, 'd', 'offer_discount', 'EMAIL', 'OPENED'), WALL).decision).toBeUndefined();
    expect(domain.onEvent(undefined, learner, browse('c', T0, { kind: 'PAGE_VIEW' }), WALL).decision).toBeUndefined();
    expect(domain.onEvent(undefined, learner, chat('c', T0, { sentiment: 0.5 }), WALL).decision).toBeUndefined();
    expect(domain.onEvent(undefined, learner, survey('c', T0, 9), WALL).decision).toBeUndefined();
    expect(domain.onEvent(undefined, learner, survey('c', T0, 4), WALL).decision).toBeDefined();
  });

  it('every decision of a simulated population is a valid nextact.Decision with consistent probabilities', () => {
    const decisions: Decision[] = [];
    let learner: LearnerState = domain.initialLearner();
    const categories = ['shoes', 'bags', 'hats'];
    for (let c = 0; c < 150; c++) {
      const id = `sim-${c}`;
      let journey: JourneyState | undefined;
      const t = T0 + (c % 24) * HOUR;
      const script: CustomerEvent[] = [
        consent(id, t, c % 3 === 0 ? 'CALL_CENTRE' : 'SMS', true, ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo'][c % 3]!),
        browse(id, t + HOUR, { category: categories[c % 3]! }),
        browse(id, t + 2 * HOUR, { kind: 'ADD_TO_CART', category: categories[(c + 1) % 3]! }),
      ];
      if (c % 2 === 0) script.push(purchase(id, t + 3 * HOUR, 1000 + c));
      if (c % 5 === 0) script.push(chat(id, t + 4 * HOUR, { intent: 'COMPLAINT', sentiment: -0.6 }));
      if (c % 7 === 0) script.push(survey(id, t + 5 * HOUR, c % 14 === 0 ? 2 : 10, 4));
      const feed = (e: CustomerEvent) => {
        const r = domain.onEvent(journey, learner, e, WALL);
        journey = r.journey;
        learner = r.learner;
        if (r.decision) decisions.push(r.decision);
        return r.decision;
      };
      for (const e of script) {
        const d = feed(e);
        if (d?.deliver) feed(outcome(id, d.eventTime + HOUR, d.decisionId, d.actionId, d.channel, c % 4 === 0 ? 'CLICKED' : 'DISMISSED'));
      }
      for (let due = domain.nextTimer(journey!); due !== undefined && due < T0 + 120 * DAY; due = domain.nextTimer(journey!)) {
        const r = domain.onTimer(journey!, learner, due, WALL);
        journey = r.journey;
        if (r.decision) decisions.push(r.decision);
      }
    }
    expect(decisions.length).toBeGreaterThan(400);
    expect(decisions.some((d) => d.triggerType === 'TIMER')).toBe(true);
    expect(new Set(decisions.map((d) => d.actionId)).size).toBeGreaterThanOrEqual(5);
    expect(Object.keys(learner.arms).length).toBeGreaterThan(0);
    for (const d of decisions) {
      // The population's timers run 120 days past T0: judge event times as of then, not today's clock.
      expect(validateRecord('nextact.Decision', d, { now: T0 + 120 * DAY })).toEqual(d);
      const eligible = d.candidates.filter((c) => c.eligible);
      const max = Math.max(...eligible.map((c) => c.score));
      const total = eligible.reduce((sum, c) => sum + Math.exp((c.score - max) / policy.arbitration.temperature), 0);
      const chosen = eligible.find((c) => c.actionId === d.actionId)!;
      expect(Math.abs(d.probability - Math.exp((chosen.score - max) / policy.arbitration.temperature) / total)).toBeLessThan(1e-12);
      expect(d.reasonCodes).toContain(`SELECTED:${d.actionId}`);
      expect(d.reasonCodes).toContain(`ELIGIBLE:${d.actionId}:${d.channel}`);
    }
    const ids = decisions.map((d) => d.decisionId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
