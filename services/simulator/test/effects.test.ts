import type { CustomerEvent, Decision } from '@nextact/core';
import { type EffectsOverrides, noEffects, resolveEffects } from '../src/effects';
import { World } from '../src/world';
import { decisionFor, HOUR, mean, runFor, seDiff, treatedArm } from './helpers';

const WINDOW = 72 * HOUR;

interface Trial {
  customerId: string;
  decisionId: string;
  at: number;
  treated: boolean;
}

/**
 * Offers `offer_discount` to customers in consideration as they view products (at most one open
 * offer per customer), half of them delivered, half held back as control, then counts who buys
 * within the window. This is what an analytics job would compute from the event stream.
 */
function offerExperiment(seed: number, effects?: EffectsOverrides, customers = 3_000, days = 20) {
  const world = new World({ seed, customers, effects });
  const lastDecision = new Map<string, number>();
  const trials: Trial[] = [];
  const purchases = new Map<string, number[]>();
  const converted = new Set<string>();
  let mismatched = 0;
  const end = world.epochMs + days * 24 * HOUR;
  runFor(world, days, (e) => {
    if (e.name === 'nextact.PurchaseEvent') {
      const list = purchases.get(e.value.customerId) ?? [];
      list.push(e.value.eventTime);
      purchases.set(e.value.customerId, list);
    }
    if (e.name === 'nextact.ActionOutcome' && e.value.outcome === 'CONVERTED') converted.add(e.value.decisionId);
    if (e.name !== 'nextact.BrowseEvent' || e.value.kind !== 'PRODUCT_VIEW' || e.value.eventTime > end - WINDOW) return;
    const id = e.value.customerId;
    if ((lastDecision.get(id) ?? Number.NEGATIVE_INFINITY) > e.value.eventTime - WINDOW) return;
    if (world.stageOf(id) !== 'CONSIDERATION') return;
    lastDecision.set(id, e.value.eventTime);
    const treated = treatedArm(e.value.eventId);
    const decision = decisionFor(e, 'offer_discount', treated);
    const response = world.respond(decision);
    const first = response.events[0];
    const deliveredNow = first?.name === 'nextact.ActionOutcome' && first.value.outcome === 'DELIVERED';
    if (deliveredNow !== treated) mismatched++;
    trials.push({ customerId: id, decisionId: decision.decisionId, at: e.value.eventTime, treated });
  });
  const arm = (treated: boolean) => {
    const ts = trials.filter((t) => t.treated === treated);
    const bought = ts.filter((t) => (purchases.get(t.customerId) ?? []).some((p) => p > t.at && p <= t.at + WINDOW)).length;
    return { n: ts.length, rate: bought / ts.length, converted: ts.filter((t) => converted.has(t.decisionId)).length / ts.length };
  };
  return { treated: arm(true), control: arm(false), mismatched };
}

describe('ground truth: discount offer in consideration', () => {
  it('raises the purchase rate within the window by about the configured lift', () => {
    const lift = resolveEffects().actions.offer_discount?.conversion?.lift as number;
    expect(lift).toBe(0.15);
    const { treated, control, mismatched } = offerExperiment(7);
    // Treated decisions are DELIVERED at once; control decisions get no reaction at all.
    expect(mismatched).toBe(0);
    expect(treated.n).toBeGreaterThan(1_000);
    expect(control.n).toBeGreaterThan(1_000);
    const se = seDiff(treated.rate, treated.n, control.rate, control.n);
    const measured = treated.rate - control.rate;
    // 4 standard errors of sampling noise plus 0.02 for the world's own baseline estimate.
    expect(Math.abs(measured - lift)).toBeLessThan(4 * se + 0.02);
    // Channel attribution: treated customers who buy in the window are reported CONVERTED; control never.
    expect(Math.abs(treated.converted - treated.rate)).toBeLessThan(0.01);
    expect(control.converted).toBe(0);
  });

  it('follows a configured lift (0.3) and shows none when effects are off', () => {
    const strong = offerExperiment(8, { actions: { offer_discount: { conversion: { lift: 0.3 } } } }, 2_000, 15);
    const seStrong = seDiff(strong.treated.rate, strong.treated.n, strong.control.rate, strong.control.n);
    expect(Math.abs(strong.treated.rate - strong.control.rate - 0.3)).toBeLessThan(4 * seStrong + 0.03);

    const none = offerExperiment(8, noEffects(), 2_000, 15);
    const seNone = seDiff(none.treated.rate, none.treated.n, none.control.rate, none.control.n);
    expect(Math.abs(none.treated.rate - none.control.rate)).toBeLessThan(4 * seNone);
  });
});

describe('ground truth: satisfaction survey right after a complaint', () => {
  /** Sends `satisfaction_survey` after every complaint and to a sample of other customers. */
  function surveyRun(effects?: EffectsOverrides) {
    const world = new World({ seed: 13, customers: 2_000, effects });
    const afterComplaint = new Map<string, boolean>();
    const answers: { decisionId: string; csat: number; nps: number }[] = [];
    let i = 0;
    runFor(world, 15, (e: CustomerEvent) => {
      if (e.name === 'nextact.SurveyResponse' && e.value.decisionId) {
        answers.push({ decisionId: e.value.decisionId, csat: e.value.csat as number, nps: e.value.nps as number });
        return;
      }
      const complaintEnd = e.name === 'nextact.ChatEvent' && e.value.intent === 'COMPLAINT' && (e.value.resolved || e.value.handledBy === 'AGENT');
      const sample = e.name === 'nextact.BrowseEvent' && i++ % 100 === 0;
      if (!complaintEnd && !sample) return;
      const decision: Decision = decisionFor(e, 'satisfaction_survey', true, { channel: 'EMAIL', journeyStage: 'RETENTION' });
      const response = world.respond(decision);
      if (response.ignored) return;
      afterComplaint.set(decision.decisionId, response.truth?.afterComplaint === true);
    });
    return { answers, afterComplaint };
  }

  it('lowers CSAT and NPS by about the configured deltas, only after complaints', () => {
    const truth = resolveEffects().survey;
    expect(truth.csatDelta).toBe(-1);
    const withEffect = surveyRun();
    const without = surveyRun({ survey: { csatDelta: 0, npsDelta: 0 } });
    // Same seed, and answers to decision surveys do not feed back: the two runs pair up one to one.
    expect(withEffect.answers.map((a) => a.decisionId)).toEqual(without.answers.map((a) => a.decisionId));
    const pairs = withEffect.answers.map((a, k) => ({
      a,
      b: without.answers[k] as (typeof without.answers)[number],
      after: withEffect.afterComplaint.get(a.decisionId),
    }));
    const after = pairs.filter((p) => p.after);
    const other = pairs.filter((p) => p.after === false);
    expect(after.length).toBeGreaterThan(150);
    expect(other.length).toBeGreaterThan(150);
    const csatShift = mean(after.map((p) => p.a.csat - p.b.csat));
    const npsShift = mean(after.map((p) => p.a.nps - p.b.nps));
    // Rounding and the 1..5 / 0..10 bounds shave a little off the configured shift.
    expect(csatShift).toBeLessThan(truth.csatDelta * 0.75);
    expect(csatShift).toBeGreaterThan(truth.csatDelta * 1.05);
    expect(npsShift).toBeLessThan(truth.npsDelta * 0.75);
    expect(npsShift).toBeGreaterThan(truth.npsDelta * 1.05);
    expect(other.filter((p) => p.a.csat !== p.b.csat || p.a.nps !== p.b.nps).length).toBe(0);

    // Analytics' view (one run): surveys right after complaints score lower by at least the effect.
    const csatAfter = mean(after.map((p) => p.a.csat));
    const csatOther = mean(other.map((p) => p.a.csat));
    expect(csatOther - csatAfter).toBeGreaterThan(0.9);
  });
});

describe('respond()', () => {
  const world = () => new World({ seed: 99, customers: 200 });
  const firstBrowse = (w: World) => {
    for (;;) {
      const e = w.next();
      if (e.name === 'nextact.BrowseEvent') return e;
    }
  };

  it('does nothing for decisions that are not delivered (control arm, do nothing)', () => {
    const w = world();
    const e = firstBrowse(w);
    const r = w.respond(decisionFor(e, 'offer_discount', false));
    expect(r).toMatchObject({ events: [], scheduled: 0, ignored: 'not-delivered' });
  });

  it('answers a decision once, deterministically, with DELIVERED first and ids derived from the decision', () => {
    const a = world();
    const b = world();
    const ea = firstBrowse(a);
    const eb = firstBrowse(b);
    const ra = a.respond(decisionFor(ea, 'offer_discount', true));
    const rb = b.respond(decisionFor(eb, 'offer_discount', true));
    expect(ra).toEqual(rb);
    expect(ra.events[0]?.value).toMatchObject({ outcome: 'DELIVERED', customerId: ea.value.customerId });
    for (const ev of ra.events) expect(ev.value.eventId).toMatch(new RegExp(`^sim-99-${ea.value.customerId}-r[0-9a-f]{16}-\\d+$`));
    expect(a.respond(decisionFor(ea, 'offer_discount', true))).toMatchObject({ events: [], ignored: 'duplicate' });
    expect(a.respond({ ...decisionFor(ea, 'offer_discount', true), customerId: 'c-999999' })).toMatchObject({ ignored: 'unknown-customer' });
  });

  it('produces opens, clicks, dismissals and opt-outs at roughly the configured rates', () => {
    const w = new World({ seed: 5, customers: 2_000 });
    const counts: Record<string, number> = {};
    let delivered = 0;
    let k = 0;
    while (delivered < 4_000) {
      const e = w.next();
      if (e.name !== 'nextact.BrowseEvent' || k++ % 3 !== 0) continue;
      const r = w.respond(decisionFor(e, 'recommend_product', true, { channel: 'EMAIL' }));
      for (const ev of r.events) {
        if (ev.name === 'nextact.ActionOutcome') counts[ev.value.outcome] = (counts[ev.value.outcome] ?? 0) + 1;
        if (ev.name === 'nextact.ConsentChange') expect(ev.value.granted).toBe(false);
      }
      delivered++;
    }
    const email = resolveEffects().engagement.EMAIL;
    expect(counts.DELIVERED).toBe(4_000);
    expect(Math.abs((counts.OPENED ?? 0) / 4_000 - email.open)).toBeLessThan(0.04);
    expect(counts.CLICKED ?? 0).toBeGreaterThan(0);
    expect(counts.DISMISSED ?? 0).toBeGreaterThan(0);
    expect((counts.UNSUBSCRIBED ?? 0) + (counts.COMPLAINED ?? 0)).toBeGreaterThan(0);
  });
});
