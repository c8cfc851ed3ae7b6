import type { JourneyState } from '../../src/journey/state';
import { hashArm } from '../../src/policy/experiments';
import { browse, chat, DAY, domainFor, policyWith, T0, WALL } from './helpers';

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
    p.experiments = [{ id: 'holdout', controlShare: 1, triggers: ['BROWSE'] }];
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
    const changed = domainFor(policyWith((p) => (p.experiments = [{ id: 'holdout', controlShare: 0, triggers: ['BROWSE'] }])));
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
