import type { Decision } from '@nextact/core';
import type { JourneyState } from '../../src/journey/state';
import { hashArm } from '../../src/policy/experiments';
import type { Policy } from '../../src/spec/types';
import { browse, chat, consent, DAY, domainFor, HOUR, policyWith, shippedPolicy, T0, WALL } from './helpers';

describe('experiment assignment', () => {
  it('is stable per customer', () => {
    for (let i = 0; i < 50; i++) {
      const arms = new Set([1, 2, 3].map(() => hashArm('exp-a', `cust-${i}`, 0.1)));
      expect(arms.size).toBe(1);
    }
  });

  it.each([0.1, 0.3])('puts the configured share %p of 10,000 customers in CONTROL (±1.5%%)', (share) => {
    let control = 0;
    for (let i = 0; i < 10_000; i++) if (hashArm('browse-holdout-2026q4', `customer-${i}`, share) === 'CONTROL') control++;
    expect(Math.abs(control / 10_000 - share)).toBeLessThanOrEqual(0.015);
  });

  it('assigns independently across experiments', () => {
    let both = 0;
    for (let i = 0; i < 10_000; i++) if (hashArm('x1', `c-${i}`, 0.5) === 'CONTROL' && hashArm('x2', `c-${i}`, 0.5) === 'CONTROL') both++;
    expect(Math.abs(both / 10_000 - 0.25)).toBeLessThan(0.02);
  });
});

describe('control arm', () => {
  const allControl = policyWith((p) => {
    p.experiments = [{ id: 'holdout', controlShare: 1, triggers: ['BROWSE'], control: 'holdout' }];
    p.actions.find((a) => a.id === 'do_nothing')!.benefit.base = -50; // never chosen, so "deliver" hinges on the arm alone
  });

  it('logs what would have been chosen, does not deliver and does not count against caps', () => {
    const domain = domainFor(allControl);
    let journey: JourneyState | undefined;
    const learner = domain.initialLearner();
    for (let i = 0; i < 3; i++) {
      const r = domain.onEvent(journey, learner, browse('cust-ctl', T0 + i * DAY), WALL);
      journey = r.journey;
      expect(r.decision).toMatchObject({ experimentId: 'holdout', experimentArm: 'CONTROL', deliver: false });
      expect(r.decision!.actionId).not.toBe('do_nothing');
      expect(r.decision!.reasonCodes).toContain('EXPERIMENT:holdout:CONTROL');
      expect(r.decision!.reasonCodes.some((c) => c.startsWith('GATE_CAP') || c.startsWith('GATE_COOLDOWN'))).toBe(false);
    }
    expect(journey!.contacts).toEqual([]);
    expect(journey!.recentDecisions.map((d) => d.deliver)).toEqual([false, false, false]);
    expect(journey!.experiments).toEqual({ holdout: 'CONTROL' });

    // The assignment persists even if the policy later changes the share.
    const changed = domainFor(policyWith((p) => (p.experiments = [{ id: 'holdout', controlShare: 0, triggers: ['BROWSE'], control: 'holdout' }])));
    const later = changed.onEvent(journey, learner, browse('cust-ctl', T0 + 5 * DAY), WALL).decision!;
    expect(later.experimentArm).toBe('CONTROL');
    const fresh = changed.onEvent(undefined, learner, browse('cust-new', T0), WALL).decision!;
    expect(fresh.experimentArm).toBe('TREATMENT');
  });

  it('decision points outside every experiment get arm NONE', () => {
    const domain = domainFor(allControl);
    const d = domain.onEvent(undefined, domain.initialLearner(), chat('cust-n', T0, { intent: 'COMPLAINT', sentiment: -0.9 }), WALL).decision!;
    expect(d).toMatchObject({ experimentId: null, experimentArm: 'NONE' });
  });
});

describe('timing experiment (CONTROL deferred)', () => {
  const X = 'survey-timing';
  // Only the survey and do_nothing, and do_nothing never wins: whether and when the survey goes out
  // hinges on the experiment alone.
  const timing = (controlShare: number, change: (p: Policy) => void = () => {}) =>
    policyWith((p) => {
      p.experiments = [
        { id: X, controlShare, actions: ['satisfaction_survey'], afterComplaintWithinHours: 24, control: { deferHours: 48 } },
        { id: 'holdout', controlShare: 1, triggers: ['BROWSE'], control: 'holdout' },
      ];
      p.actions = p.actions.filter((a) => a.id === 'satisfaction_survey' || a.id === 'do_nothing');
      p.actions.find((a) => a.id === 'satisfaction_survey')!.eligibility = {};
      p.actions.find((a) => a.id === 'do_nothing')!.benefit.base = -50;
      change(p);
    });
  const complaint = (customerId: string, at: number) =>
    chat(customerId, at, { eventId: `complaint-${customerId}-${at}`, intent: 'COMPLAINT', sentiment: -0.8, conversationId: `conv-${at}` });

  function afterComplaint(policy: Policy, customerId = 'cust-t') {
    const domain = domainFor(policy);
    const learner = domain.initialLearner();
    const r = domain.onEvent(undefined, learner, complaint(customerId, T0), WALL);
    return { domain, learner, journey: r.journey, decision: r.decision! };
  }

  it('TREATMENT sends the survey now', () => {
    const { domain, journey, decision } = afterComplaint(timing(0));
    expect(decision).toMatchObject({ actionId: 'satisfaction_survey', deliver: true, experimentId: X, experimentArm: 'TREATMENT', channel: 'EMAIL' });
    expect(journey.followUps).toEqual([]);
    expect(domain.nextTimer(journey)).not.toBe(T0 + 48 * HOUR);
  });

  it('CONTROL defers the survey by 48 h and sends it then, with probability 1 and a stable id', () => {
    const { domain, learner, journey, decision } = afterComplaint(timing(1));
    expect(decision).toMatchObject({ actionId: 'satisfaction_survey', deliver: false, experimentId: X, experimentArm: 'CONTROL' });
    expect(decision.reasonCodes).toContain(`EXPERIMENT_DEFERRED:${X}:48h`);
    expect(journey.contacts).toEqual([]);
    expect(journey.followUps).toEqual([{ at: T0 + 48 * HOUR, actionId: 'satisfaction_survey', experimentId: X, decisionId: decision.decisionId }]);
    expect(domain.nextTimer(journey)).toBe(T0 + 48 * HOUR);

    const fired = domain.onTimer(journey, learner, T0 + 48 * HOUR, WALL + 1);
    const followUp = fired.decision!;
    expect(followUp).toMatchObject({
      actionId: 'satisfaction_survey',
      channel: 'EMAIL',
      deliver: true,
      triggerType: 'TIMER',
      triggerEventId: `followup:${decision.decisionId}`,
      experimentId: X,
      experimentArm: 'CONTROL',
      probability: 1,
      eventTime: T0 + 48 * HOUR,
    });
    expect(followUp.reasonCodes).toEqual(expect.arrayContaining(['TRIGGER:FOLLOW_UP', `FOLLOW_UP:${decision.decisionId}`, `SELECTED:satisfaction_survey`]));
    expect(followUp.decisionId).not.toBe(decision.decisionId);
    expect(fired.journey.followUps).toEqual([]);
    expect(fired.journey.contacts.map((c) => c.actionId)).toEqual(['satisfaction_survey']);
    expect(journey.followUps).toHaveLength(1); // the input journey is not mutated

    // While it is pending, the next message of the conversation cannot queue the survey again.
    const next = domain.onEvent(journey, learner, complaint('cust-t', T0 + 60_000), WALL).decision!;
    expect(next).toMatchObject({ actionId: 'do_nothing', deliver: false });
    expect(next.reasonCodes).toContain('GATE_PENDING:satisfaction_survey');

    // Replaying the same history gives the same follow-up, byte for byte (apart from the wall clock).
    const again = afterComplaint(timing(1));
    const replayed = again.domain.onTimer(again.journey, again.learner, T0 + 48 * HOUR, WALL + 999).decision!;
    expect({ ...replayed, decisionTime: 0 }).toEqual({ ...followUp, decisionTime: 0 });
  });

  it('checks the customer-protecting gates again when the deferred action is due', () => {
    const { domain, learner, journey, decision } = afterComplaint(timing(1));
    const withdrawn = domain.onEvent(journey, learner, consent('cust-t', T0 + 10 * HOUR, 'EMAIL', false), WALL).journey;
    const fired = domain.onTimer(withdrawn, learner, T0 + 48 * HOUR, WALL).decision!;
    expect(fired).toMatchObject({ actionId: 'do_nothing', deliver: false, experimentArm: 'CONTROL', triggerEventId: `followup:${decision.decisionId}` });
    expect(fired.reasonCodes).toContain('GATE_CONSENT_FAILED:EMAIL');
  });

  it('does not re-check the stage the action was targeted at', () => {
    const policy = timing(1, (p) => {
      p.actions.find((a) => a.id === 'satisfaction_survey')!.eligibility = { stages: ['CHURN_RISK'] };
    });
    const { domain, learner, journey } = afterComplaint(policy);
    expect(journey.stage).toBe('CHURN_RISK');
    // A resolved, happy conversation takes the customer out of CHURN_RISK before the follow-up is due.
    const recovered = domain.onEvent(
      journey,
      learner,
      chat('cust-t', T0 + 40 * HOUR, { conversationId: `conv-${T0}`, intent: 'COMPLAINT', sentiment: 0.6, resolved: true }),
      WALL,
    );
    expect(recovered.journey.stage).not.toBe('CHURN_RISK');
    const fired = domain.onTimer(recovered.journey, learner, T0 + 48 * HOUR, WALL).decision!;
    expect(fired).toMatchObject({ actionId: 'satisfaction_survey', deliver: true });
  });

  it('covers only the listed actions within the hours after a complaint', () => {
    const domain = domainFor(timing(1));
    const learner = domain.initialLearner();
    const complainedAt = (id: string) => ({ ...domain.initialJourney(id), lastComplaintAt: T0 });
    const unhappyChat = (id: string, at: number) => chat(id, at, { intent: 'ORDER_STATUS', sentiment: -0.9, conversationId: 'other' });
    const within = domain.onEvent(complainedAt('cust-in'), learner, unhappyChat('cust-in', T0 + 23 * HOUR), WALL).decision!;
    expect(within).toMatchObject({ actionId: 'satisfaction_survey', experimentId: X, deliver: false });
    const outside = domain.onEvent(complainedAt('cust-out'), learner, unhappyChat('cust-out', T0 + 25 * HOUR), WALL);
    expect(outside.decision).toMatchObject({ actionId: 'satisfaction_survey', experimentId: null, experimentArm: 'NONE', deliver: true });
    // Decisions the timing experiment does not cover fall through to the holdout behind it.
    const b = domain.onEvent(outside.journey, learner, browse('cust-out', T0 + 26 * HOUR), WALL).decision as Decision;
    expect(b.experimentId).toBe('holdout');
  });

  it('fires a follow-up and a stage change due at the same instant, both, stage first', () => {
    const policy = timing(1, (p) => {
      p.journey.purchaseStageHours = 48;
    });
    const domain = domainFor(policy);
    const learner = domain.initialLearner();
    // A purchase puts the customer in PURCHASE until +48 h; the complaint in the same millisecond
    // schedules the survey for +48 h too.
    let j = domain.onEvent(undefined, learner, chat('cust-s', T0 - HOUR, { intent: 'PRODUCT_QUESTION', sentiment: 0.5 }), WALL).journey;
    j = { ...j, stage: 'PURCHASE', stageEnteredAt: T0 };
    const r = domain.onEvent(j, learner, complaint('cust-s', T0), WALL);
    // (the complaint moves the stage to CHURN_RISK; put it back to PURCHASE to line up both timers)
    j = { ...r.journey, stage: 'PURCHASE', stageEnteredAt: T0 };
    expect(domain.nextTimer(j)).toBe(T0 + 48 * HOUR);
    const first = domain.onTimer(j, learner, T0 + 48 * HOUR, WALL);
    expect(first.decision).toBeUndefined();
    expect(first.journey.stage).not.toBe('PURCHASE');
    expect(domain.nextTimer(first.journey)).toBe(T0 + 48 * HOUR);
    const second = domain.onTimer(first.journey, learner, T0 + 48 * HOUR, WALL);
    expect(second.decision).toMatchObject({ triggerEventId: `followup:${r.decision!.decisionId}`, deliver: true });
  });

  it('ships in the policy as survey-timing-2026q4, ahead of the holdouts', () => {
    const p = shippedPolicy();
    const x = p.experiments[0]!;
    expect(x).toMatchObject({ id: 'survey-timing-2026q4', actions: ['satisfaction_survey'], afterComplaintWithinHours: 24, control: { deferHours: 48 } });
    expect(p.experiments.slice(1).every((e) => e.control === 'holdout')).toBe(true);
  });
});
