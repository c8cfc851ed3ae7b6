import type { CustomerEvent, Decision } from '@nextact/core';
import { prng } from '../../../../test/support/prng';
import type { JourneyState } from '../../src/journey/state';
import { channelFailures, evaluateGates, type GateContext } from '../../src/policy/gates';
import type { LearnerState } from '../../src/policy/learner';
import { inQuietHours, intlMinuteOfDay, localMinuteOfDay } from '../../src/spec/time';
import type { Policy } from '../../src/spec/types';
import { browse, consent, DAY, domainFor, HOUR, outcome, policyWith, purchase, shippedPolicy, T0, WALL } from './helpers';

const C = 'cust-g';

/** Feeds events; returns the journey and every decision made. */
function run(events: CustomerEvent[], policy: Policy = shippedPolicy()) {
  const domain = domainFor(policy);
  let journey: JourneyState | undefined;
  let learner: LearnerState = domain.initialLearner();
  const decisions: Decision[] = [];
  for (const e of events) {
    const r = domain.onEvent(journey, learner, e, WALL);
    journey = r.journey;
    learner = r.learner;
    if (r.decision) decisions.push(r.decision);
  }
  return { journey: journey!, decisions, last: decisions[decisions.length - 1]! };
}

/** offer_discount dominates (near-greedy selection), no holdouts, no cooldown: isolates the caps. */
const greedyDiscount = () =>
  policyWith((p) => {
    p.arbitration.temperature = 0.01;
    p.experiments = [];
    const discount = p.actions.find((a) => a.id === 'offer_discount')!;
    discount.value = 1000;
    discount.cooldownHours = 0;
  });

const candidate = (d: Decision, id: string) => d.candidates.find((c) => c.actionId === id)!;

describe('consent gate', () => {
  it('blocks EMAIL actions once email consent is withdrawn', () => {
    const granted = run([browse(C, T0)]).last;
    expect(granted.reasonCodes).toContain('ELIGIBLE:offer_discount:EMAIL');
    expect(candidate(granted, 'offer_discount').eligible).toBe(true);

    const withdrawn = run([consent(C, T0 - HOUR, 'EMAIL', false), browse(C, T0)]).last;
    expect(withdrawn.reasonCodes).toContain('GATE_CONSENT_FAILED:EMAIL');
    expect(withdrawn.reasonCodes).not.toContain('ELIGIBLE:offer_discount:EMAIL');
    expect(candidate(withdrawn, 'offer_discount').eligible).toBe(false);
    expect(withdrawn.actionId).not.toBe('offer_discount');
  });

  it('UNSUBSCRIBED withdraws consent on that channel', () => {
    const { journey, last } = run([outcome(C, T0 - DAY, 'd-old', 'offer_discount', 'EMAIL', 'UNSUBSCRIBED'), browse(C, T0)]);
    expect(journey.consent.EMAIL).toBe(false);
    expect(last.reasonCodes).toContain('GATE_CONSENT_FAILED:EMAIL');
  });

  it('a multi-channel action uses its first available channel: WEB on site, EMAIL otherwise', () => {
    const policy = policyWith((p) => {
      const recommend = p.actions.find((a) => a.id === 'recommend_product')!;
      recommend.eligibility.stages = ['PURCHASE'];
      recommend.cooldownHours = 0; // whether the purchase's own decision chose it must not matter
    });
    // A purchase is not a live decision point, so WEB is unavailable and the recommendation goes by email.
    const afterPurchase = run([browse(C, T0 - DAY), purchase(C, T0)], policy).last;
    expect(afterPurchase.reasonCodes).toEqual(expect.arrayContaining(['GATE_CHANNEL_UNAVAILABLE:WEB', 'ELIGIBLE:recommend_product:EMAIL']));
    const onSite = run([purchase(C, T0), browse(C, T0 + HOUR)], policy).last;
    expect(onSite.reasonCodes).toContain('ELIGIBLE:recommend_product:WEB');
    expect(onSite.reasonCodes).not.toContain('GATE_CHANNEL_UNAVAILABLE:WEB');
  });
});

describe('quiet hours', () => {
  const NY = 'America/New_York';
  const at2330NY = Date.UTC(2026, 10, 24, 4, 30); // EST = UTC-5
  const at1000NY = Date.UTC(2026, 10, 24, 15, 0);

  it('computes local time in the customer zone from event time', () => {
    expect(localMinuteOfDay(at2330NY, NY)).toBe(23 * 60 + 30);
    expect(localMinuteOfDay(at1000NY, NY)).toBe(10 * 60);
    expect(localMinuteOfDay(Date.UTC(2026, 6, 1, 12, 0), NY)).toBe(8 * 60); // EDT = UTC-4 in summer
    expect(inQuietHours(Date.UTC(2026, 10, 24, 12, 59), NY, '21:00', '08:00')).toBe(true); // 07:59
    expect(inQuietHours(Date.UTC(2026, 10, 24, 13, 0), NY, '21:00', '08:00')).toBe(false); // 08:00
    expect(inQuietHours(Date.UTC(2026, 10, 24, 2, 0), NY, '21:00', '08:00')).toBe(true); // 21:00
    expect(inQuietHours(Date.UTC(2026, 10, 24, 1, 59), NY, '21:00', '08:00')).toBe(false); // 20:59
  });

  it('the per-quarter-hour cache agrees with Intl everywhere, across DST changes and odd offsets', () => {
    const zones = [NY, 'Europe/Berlin', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/St_Johns', 'Pacific/Chatham', 'UTC'];
    const rnd = prng(7);
    const from = Date.UTC(2026, 0, 1);
    const span = 2 * 365 * 24 * 3_600_000;
    let checked = 0;
    for (const zone of zones) {
      for (let i = 0; i < 400; i++) {
        const at = from + Math.floor(rnd() * span);
        expect([zone, at, localMinuteOfDay(at, zone)]).toEqual([zone, at, intlMinuteOfDay(at, zone)]);
        checked++;
      }
      // Every minute around this zone's 2026 transitions (found by scanning hourly for an offset change).
      for (let h = from; h < from + span / 2; h += 3_600_000) {
        const before = (intlMinuteOfDay(h, zone) - Math.floor(h / 60_000)) % 1440;
        const after = (intlMinuteOfDay(h + 3_600_000, zone) - Math.floor((h + 3_600_000) / 60_000)) % 1440;
        if (before === after) continue;
        for (let at = h - 60 * 60_000; at < h + 3 * 3_600_000; at += 60_000 + 17) {
          expect([zone, at, localMinuteOfDay(at, zone)]).toEqual([zone, at, intlMinuteOfDay(at, zone)]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(zones.length * 400);
  });

  it('blocks PUSH at 23:30 local but not at 10:00 local', () => {
    const night = run([consent(C, T0, 'PUSH', true, NY), browse(C, at2330NY)]).last;
    expect(night.reasonCodes).toContain('GATE_QUIET_HOURS:PUSH');
    expect(candidate(night, 'content_nudge').eligible).toBe(false);
    // Email and the live web channel are not subject to quiet hours.
    expect(night.reasonCodes).toEqual(expect.arrayContaining(['ELIGIBLE:offer_discount:EMAIL', 'ELIGIBLE:recommend_product:WEB']));

    const morning = run([consent(C, T0, 'PUSH', true, NY), browse(C, at1000NY)]).last;
    expect(morning.reasonCodes).not.toContain('GATE_QUIET_HOURS:PUSH');
    expect(morning.reasonCodes).toContain('ELIGIBLE:content_nudge:PUSH');
  });

  it("uses the customer's zone, not the default (12:00 UTC is 07:00 in New York, 13:00 in Berlin)", () => {
    const noon = Date.UTC(2026, 10, 24, 12, 0);
    expect(run([browse(C, noon)]).last.reasonCodes).toContain('ELIGIBLE:content_nudge:PUSH');
    expect(run([consent(C, T0, 'PUSH', true, NY), browse(C, noon)]).last.reasonCodes).toContain('GATE_QUIET_HOURS:PUSH');
  });
});

describe('contact caps and cooldowns', () => {
  it('blocks the third email in 7 days and allows it again once the first leaves the window', () => {
    const policy = greedyDiscount();
    const events = [browse(C, T0), browse(C, T0 + DAY), browse(C, T0 + 2 * DAY), browse(C, T0 + 7 * DAY)];
    const { decisions } = run(events, policy);
    const sent = (d: Decision) => [d.actionId, d.channel, d.deliver];
    expect([decisions[0]!, decisions[1]!, decisions[3]!].map(sent)).toEqual([
      ['offer_discount', 'EMAIL', true],
      ['offer_discount', 'EMAIL', true],
      ['offer_discount', 'EMAIL', true],
    ]);
    expect(decisions[0]!.probability).toBeGreaterThan(0.999);
    expect(decisions[2]!.reasonCodes).toContain('GATE_CAP_CHANNEL:EMAIL');
    expect(decisions[2]!.actionId).not.toBe('offer_discount');
    expect(decisions[2]!.channel).not.toBe('EMAIL');
    expect(decisions[3]!.reasonCodes).not.toContain('GATE_CAP_CHANNEL:EMAIL');
  });

  it('counts the global cap across outbound channels, and transactional actions skip caps but not consent', () => {
    const policy = shippedPolicy();
    const domain = domainFor(policy);
    const journey = domain.initialJourney(C);
    journey.contacts = [
      { at: T0 - 3 * DAY, channel: 'EMAIL', actionId: 'offer_discount', transactional: false },
      { at: T0 - 2 * DAY, channel: 'PUSH', actionId: 'content_nudge', transactional: false },
      { at: T0 - 1 * DAY, channel: 'EMAIL', actionId: 'satisfaction_survey', transactional: false },
    ];
    const ctx: GateContext = { policy, journey, trigger: 'BROWSE', now: T0, unhappy: true };
    expect(channelFailures(ctx, 'PUSH', false)).toEqual(['GATE_CAP_GLOBAL']);
    expect(channelFailures(ctx, 'EMAIL', false)).toEqual(['GATE_CAP_CHANNEL:EMAIL', 'GATE_CAP_GLOBAL']);
    expect(channelFailures(ctx, 'PUSH', true)).toEqual([]);
    expect(channelFailures(ctx, 'WEB', false)).toEqual([]); // live channel, not in the global cap
    expect(channelFailures({ ...ctx, now: T0 + 4 * DAY }, 'PUSH', false)).toEqual([]); // two contacts left the window
    const call = policy.actions.find((a) => a.id === 'service_recovery_call')!;
    expect(evaluateGates(ctx, call)).toEqual({ eligible: false, channel: null, reasons: ['GATE_CONSENT_FAILED:CALL_CENTRE'] });
    journey.consent = { ...journey.consent, CALL_CENTRE: true };
    journey.contacts = [...journey.contacts, { at: T0 - HOUR, channel: 'CALL_CENTRE', actionId: 'other_call', transactional: false }];
    expect(evaluateGates(ctx, call)).toEqual({ eligible: true, channel: 'CALL_CENTRE', reasons: ['ELIGIBLE:service_recovery_call:CALL_CENTRE'] });
  });

  it('applies the cooldown after a delivery', () => {
    const policy = greedyDiscount();
    policy.actions.find((a) => a.id === 'offer_discount')!.cooldownHours = 168;
    const { decisions } = run([browse(C, T0), browse(C, T0 + HOUR), browse(C, T0 + 7 * DAY)], policy);
    expect(decisions[0]!.actionId).toBe('offer_discount');
    expect(decisions[1]!.reasonCodes).toContain('GATE_COOLDOWN:offer_discount');
    expect(decisions[2]!.reasonCodes).not.toContain('GATE_COOLDOWN:offer_discount');
  });
});

describe('suppression after negative outcomes', () => {
  it('COMPLAINED suppresses all marketing for 90 days (do_nothing is then the only option); transactional actions stay open', () => {
    const complained = outcome(C, T0 - HOUR, 'd-x', 'offer_discount', 'EMAIL', 'COMPLAINED');
    const { journey, last } = run([complained, browse(C, T0)]);
    expect(journey.suppressions.marketingUntil).toBe(T0 - HOUR + 90 * DAY);
    expect(last.reasonCodes).toContain('GATE_SUPPRESSED:MARKETING');
    for (const id of ['recommend_product', 'offer_discount', 'proactive_chat', 'content_nudge']) expect(candidate(last, id).eligible).toBe(false);
    expect(last).toMatchObject({ actionId: 'do_nothing', channel: 'NONE', deliver: false, probability: 1 });

    const policy = shippedPolicy();
    const ctx: GateContext = { policy, journey: { ...journey, consent: { ...journey.consent, CALL_CENTRE: true } }, trigger: 'CHAT', now: T0, unhappy: true };
    expect(evaluateGates(ctx, policy.actions.find((a) => a.id === 'service_recovery_call')!).eligible).toBe(true);

    const later = run([complained, browse(C, T0 + 90 * DAY)]).last;
    expect(later.reasonCodes).not.toContain('GATE_SUPPRESSED:MARKETING');
  });

  it('DISMISSED suppresses that action for 14 days only', () => {
    const dismissed = outcome(C, T0 - HOUR, 'd-y', 'offer_discount', 'EMAIL', 'DISMISSED');
    const soon = run([dismissed, browse(C, T0)]).last;
    expect(soon.reasonCodes).toContain('GATE_SUPPRESSED:offer_discount');
    expect(soon.reasonCodes).toContain('ELIGIBLE:content_nudge:PUSH');
    const later = run([dismissed, browse(C, T0 - HOUR + 14 * DAY)]).last;
    expect(later.reasonCodes).toContain('ELIGIBLE:offer_discount:EMAIL');
  });
});

describe('everything gated', () => {
  it('chooses do_nothing with probability 1 and does not deliver', () => {
    const events: CustomerEvent[] = (['EMAIL', 'PUSH', 'WEB', 'CHAT'] as const).map((ch, i) => consent(C, T0 - 10 + i, ch, false));
    events.push(browse(C, T0));
    const { journey, last } = run(events);
    expect(last).toMatchObject({ actionId: 'do_nothing', channel: 'NONE', deliver: false, probability: 1 });
    expect(last.candidates.filter((c) => c.eligible).map((c) => c.actionId)).toEqual(['do_nothing']);
    expect(last.reasonCodes).toEqual(
      expect.arrayContaining([
        'GATE_CONSENT_FAILED:WEB',
        'GATE_CONSENT_FAILED:EMAIL',
        'GATE_CONSENT_FAILED:CHAT',
        'GATE_CONSENT_FAILED:PUSH',
        'SELECTED:do_nothing',
      ]),
    );
    expect(journey.contacts).toEqual([]);
  });
});
