import { readFileSync } from 'node:fs';
import { avroType, type CustomerEvent, type CustomerFuturesModel, ErrorCodes } from '@nextact/core';
import { NO_CATEGORIES, TOO_MANY_CATEGORIES } from '@nextact/core/src/main-category';
import { customerFuture, parametersOf, probabilityAlive } from '@nextact/core/src/models';
import { Type } from 'avsc';
import { pAliveChurnAt } from '../../src/futures/policy';
import { futureAt, pAliveFallsBelowAt, summaryAt } from '../../src/futures/score';
import { modelsSideInput } from '../../src/futures/side-input';
import { ModelTimeline } from '../../src/futures/timeline';
import type { JourneyState } from '../../src/journey/state';
import { withPurchase } from '../../src/journey/transitions';
import { createNbaDomain } from '../../src/nba';
import { noUpliftFor } from '../../src/policy/gates';
import { loadPolicy, parsePolicy } from '../../src/policy/load';
import { browse, DAY, POLICY_PATH, policyWith, purchase, shippedPolicy, T0, WALL } from '../policy/helpers';

const shippedDomain = createNbaDomain(shippedPolicy());

const C = 'cust-f';
const DAY0 = Math.floor(T0 / DAY);

function model(version: string, asOf: number, over: Partial<CustomerFuturesModel['bgnbd']> = {}): CustomerFuturesModel {
  return {
    version,
    method: 'BG/NBD + Gamma-Gamma (test)',
    asOf,
    fittedAt: asOf,
    timeUnitMs: DAY,
    horizon: 365,
    customers: 1000,
    bgnbd: { r: 0.8, alpha: 12, a: 1.2, b: 4, rSe: null, alphaSe: null, aSe: null, bSe: null, logLikelihood: -1, ...over },
    gammaGamma: { p: 4, q: 5, gamma: 12_000, pSe: null, qSe: null, gammaSe: null, customers: 500, logLikelihood: -1 },
    spendUnit: 'minor',
  };
}

function timelineWith(...models: CustomerFuturesModel[]): ModelTimeline {
  const t = new ModelTimeline();
  const input = modelsSideInput(t);
  for (const [i, m] of models.entries())
    input.apply({ key: m.version, value: { name: 'nextact.CustomerFuturesModel', schemaId: 1, value: m }, offset: String(i), timestamp: m.asOf });
  return t;
}

describe('purchase days (the journey summary the model scores)', () => {
  it('counts repeat purchase days, not orders, and leaves the first day out of the repeat spend', () => {
    let pd = withPurchase(null, T0, 1000);
    pd = withPurchase(pd, T0 + 3_600_000, 500); // same day: joins the first day
    pd = withPurchase(pd, T0 + 2 * DAY, 2000);
    pd = withPurchase(pd, T0 + 2 * DAY + 60_000, 1000); // same repeat day
    pd = withPurchase(pd, T0 + 5 * DAY, 3000);
    expect(pd).toEqual({ firstDay: DAY0, lastDay: DAY0 + 5, repeatDays: 2, firstDaySpendMinor: 1500, repeatSpendMinor: 6000 });
    expect(summaryAt(pd, T0 + 9 * DAY, DAY)).toEqual({ x: 2, tx: 5, T: 9, meanSpend: 3000 });
    // A late order before the first day makes it the first; the old first day becomes a repeat day.
    expect(withPurchase(pd, T0 - DAY, 700)).toEqual({ firstDay: DAY0 - 1, lastDay: DAY0 + 5, repeatDays: 3, firstDaySpendMinor: 700, repeatSpendMinor: 7500 });
  });

  it('is kept by the journey on every purchase and survives the Avro changelog; a version-2 journey reads with none', () => {
    const domain = createNbaDomain(loadPolicy(POLICY_PATH));
    let j = domain.initialJourney(C);
    for (const e of [purchase(C, T0, 4000), purchase(C, T0 + 3 * DAY, 2500)]) j = domain.onEvent(j, domain.initialLearner(), e, WALL).journey;
    expect(j.purchaseDays).toEqual({ firstDay: DAY0, lastDay: DAY0 + 3, repeatDays: 1, firstDaySpendMinor: 4000, repeatSpendMinor: 2500 });
    expect(domain.deserialiseJourney(domain.serialiseJourney(j))).toEqual(j);
    // The same journey as an engine before customer futures wrote it: schema version 2, no purchaseDays.
    const current = avroType('nextact.Journey').schema() as { fields: { name: string }[] };
    const since2 = new Set(['purchaseDays', 'acquisitionChannel', 'categories']);
    const v2Type = Type.forSchema({ ...current, fields: current.fields.filter((f) => !since2.has(f.name)) } as never);
    const { purchaseDays: _days, acquisitionChannel: _channel, categories: _categories, ...rest } = j;
    const read = domain.deserialiseJourney(v2Type.toBuffer({ ...rest, v: 2 }));
    expect(read).toEqual({ ...j, purchaseDays: null, acquisitionChannel: null, categories: NO_CATEGORIES });
  });
});

describe('model timeline', () => {
  it('applies the newest version effective at or before the event time; ties go to the later offset', () => {
    const t = timelineWith(model('m-b', T0 + 10 * DAY), model('m-a', T0), model('m-c', T0 + 10 * DAY));
    expect(t.inForceAt(T0 - 1)).toBeUndefined();
    expect(t.inForceAt(T0)?.parameters.version).toBe('m-a');
    expect(t.inForceAt(T0 + 10 * DAY - 1)?.parameters.version).toBe('m-a');
    expect(t.inForceAt(T0 + 10 * DAY)?.parameters.version).toBe('m-c');
    // A tombstone removes its version.
    modelsSideInput(t).apply({ key: 'm-c', value: null, offset: '9', timestamp: 0 });
    expect(t.inForceAt(T0 + 20 * DAY)?.parameters.version).toBe('m-b');
  });

  it('scores a journey exactly as the core model does on the same summary', () => {
    const t = timelineWith(model('m-a', T0));
    const pd = withPurchase(withPurchase(withPurchase(null, T0, 1000), T0 + 4 * DAY, 3000), T0 + 20 * DAY, 5000);
    const at = T0 + 60 * DAY;
    const f = futureAt(pd, t.inForceAt(at), at)!;
    expect(f.modelVersion).toBe('m-a');
    expect(f).toMatchObject(customerFuture(parametersOf(model('m-a', T0)), { x: 2, tx: 20, T: 60, meanSpend: 4000 }));
    expect(f.pAlive).toBeGreaterThan(0);
    expect(f.pAlive).toBeLessThan(1);
    expect(f.clv).toBeGreaterThan(0);
  });

  it('finds the first day P(alive) is below a threshold in closed form', () => {
    const m = timelineWith(model('m-a', T0)).inForceAt(T0)!;
    const pd = withPurchase(withPurchase(withPurchase(null, T0, 1000), T0 + 2 * DAY, 3000), T0 + 6 * DAY, 5000);
    const at = pAliveFallsBelowAt(pd, m, 0.3)!;
    const dayT = (t: number) => Math.floor(t / DAY) - DAY0;
    expect(at % DAY).toBe(0);
    expect(probabilityAlive(m.parameters.bgnbd, 2, 6, dayT(at))).toBeLessThan(0.3);
    expect(probabilityAlive(m.parameters.bgnbd, 2, 6, dayT(at) - 1)).toBeGreaterThanOrEqual(0.3);
    expect(pAliveFallsBelowAt(withPurchase(null, T0, 1000), m, 0.3)).toBeUndefined(); // x = 0: alive by the model
  });
});

describe('customerFutures policy options', () => {
  const shipped = readFileSync(POLICY_PATH, 'utf8');
  it('are schema-validated, with defaults filled in', () => {
    const p = parsePolicy(
      `${shipped}\ncustomerFutures:\n  churnRisk: { pAliveBelow: 0.25 }\n  valueTerm: { source: clv, referenceClvMinor: 15000 }\n`,
      'p.yaml',
    );
    expect(p.customerFutures).toEqual({
      churnRisk: { pAliveBelow: 0.25, minRepeatPurchases: 1 },
      valueTerm: { source: 'clv', referenceClvMinor: 15000, maxMultiplier: 5 },
    });
    expect(loadPolicy(POLICY_PATH).customerFutures).toBeUndefined();
  });
  it.each([
    ['a threshold outside (0, 1)', 'churnRisk: { pAliveBelow: 1.5 }'],
    ['an unknown value source', 'valueTerm: { source: aov, referenceClvMinor: 100 }'],
    ['a misspelt option', 'churnRisk: { pAliveBellow: 0.3 }'],
  ])('refuse %s with NXA_POLICY_INVALID', (_what, option) => {
    expect(() => parsePolicy(`${shipped}\ncustomerFutures:\n  ${option}\n`, 'p.yaml')).toThrow(expect.objectContaining({ code: ErrorCodes.POLICY_INVALID }));
  });
});

describe('upliftSuppressions (segments without uplift are not offered the action)', () => {
  it('make the action ineligible only in the matching segment, with a reason code', () => {
    const policy = policyWith((p) => {
      p.upliftSuppressions = [{ action: 'recommend_product', stage: 'RETENTION', acquisitionChannel: 'APP' }];
    });
    const domain = createNbaDomain(policy);
    const decide = (channel: 'APP' | 'WEB') => {
      let j = domain.initialJourney(C);
      let l = domain.initialLearner();
      for (const e of [purchase(C, T0, 4000, 'shoes', { channel }), browse(C, T0 + 10 * DAY, { kind: 'PRODUCT_VIEW' })]) {
        const r = domain.onEvent(j, l, e, WALL);
        j = r.journey;
        l = r.learner;
      }
      return { j, d: domain.onEvent(j, l, browse(C, T0 + 11 * DAY, { kind: 'PRODUCT_VIEW' }), WALL).decision! };
    };
    const app = decide('APP');
    expect(app.j.acquisitionChannel).toBe('APP');
    expect(app.d.journeyStage).toBe('RETENTION');
    const web = decide('WEB');
    const candidate = (d: typeof app.d) => d.candidates.find((c) => c.actionId === 'recommend_product')!;
    expect(candidate(app.d).eligible).toBe(false);
    expect(app.d.reasonCodes).toContain('INELIGIBLE:recommend_product:NO_UPLIFT_IN_SEGMENT');
    // Another acquisition channel, same stage: offered as before.
    expect(candidate(web.d).eligible).toBe(true);
    expect(web.d.reasonCodes).not.toContain('INELIGIBLE:recommend_product:NO_UPLIFT_IN_SEGMENT');
  });

  it("by main category change the decisions of that category's customers and no others", () => {
    const policy = policyWith((p) => {
      p.upliftSuppressions = [{ action: 'recommend_product', mainCategory: 'toys' }];
    });
    const withRule = createNbaDomain(policy);
    const without = createNbaDomain(shippedPolicy());
    const ACTION = 'recommend_product';
    // The same journeys, differing only in what the customer browsed most: toys, books, or toys then more books.
    const histories: Record<string, string[]> = { toys: ['toys', 'toys', 'books'], books: ['books', 'books', 'toys'], turned: ['toys', 'books', 'books'] };
    const run = (domain: ReturnType<typeof createNbaDomain>, categories: string[]) => {
      let j = domain.initialJourney(C);
      let l = domain.initialLearner();
      const events = [
        purchase(C, T0, 4000, categories[0]),
        ...categories.slice(1).map((c, i) => browse(C, T0 + (i + 1) * DAY, { kind: 'PAGE_VIEW', category: c })),
        browse(C, T0 + 10 * DAY, { kind: 'PRODUCT_VIEW', category: null }),
      ];
      const decisions = [];
      for (const e of events) {
        const r = domain.onEvent(j, l, e, WALL);
        j = r.journey;
        l = r.learner;
        if (r.decision) decisions.push(r.decision);
      }
      return decisions;
    };
    const suppressed = `INELIGIBLE:${ACTION}:NO_UPLIFT_IN_SEGMENT`;
    const candidate = (d: ReturnType<typeof run>[number]) => d.candidates.find((c) => c.actionId === ACTION)!;
    const outcomes = Object.fromEntries(
      Object.entries(histories).map(([who, categories]) => [who, { ruled: run(withRule, categories), plain: run(without, categories) }]),
    );
    for (const { ruled, plain } of Object.values(outcomes)) {
      expect(ruled.length).toBeGreaterThan(1);
      expect(ruled).toHaveLength(plain.length);
      expect(candidate(plain.at(-1)!).eligible).toBe(true);
    }
    // Toys first: the last decision no longer offers the action, with the reason.
    const toys = outcomes.toys!.ruled.at(-1)!;
    expect(candidate(toys).eligible).toBe(false);
    expect(toys.reasonCodes).toContain(suppressed);
    expect(toys.actionId).not.toBe(ACTION);
    // Books first: never in the segment, so never suppressed (the draw among eligible actions is
    // seeded by the policy, so the two policies' histories differ in what they selected).
    const books = outcomes.books!;
    expect(books.ruled.map((d) => d.reasonCodes.includes(suppressed))).toEqual(books.plain.map(() => false));
    expect(books.ruled.map((d) => candidate(d).eligible)).toEqual(books.plain.map((d) => candidate(d).eligible));
    // Toys, then books overtook: suppressed while toys led, offered again once books did.
    const turned = outcomes.turned!.ruled;
    expect(turned[0]!.reasonCodes).toContain(suppressed);
    expect(candidate(turned.at(-1)!).eligible).toBe(true);
    expect(turned.at(-1)!.reasonCodes).not.toContain(suppressed);
  });

  it('by main category combine with the other fields: every field given must match', () => {
    const j = (stage: 'RETENTION' | 'CONSIDERATION', names: string[], counts: number[]) =>
      ({ ...shippedDomain.initialJourney(C), stage, categories: { names, counts, overflow: false } }) as JourneyState;
    const policy = policyWith((p) => {
      p.upliftSuppressions = [{ action: 'recommend_product', stage: 'RETENTION', mainCategory: 'toys' }];
    });
    expect(noUpliftFor(policy, 'recommend_product', j('RETENTION', ['toys', 'books'], [3, 1]))).toBe(true);
    expect(noUpliftFor(policy, 'recommend_product', j('CONSIDERATION', ['toys', 'books'], [3, 1]))).toBe(false);
    expect(noUpliftFor(policy, 'recommend_product', j('RETENTION', ['toys', 'books'], [1, 3]))).toBe(false);
    expect(noUpliftFor(policy, 'recommend_product', j('RETENTION', [], []))).toBe(false); // no main category
    expect(noUpliftFor(policy, 'offer_discount', j('RETENTION', ['toys'], [3]))).toBe(false); // another action
    expect(noUpliftFor(policy, 'recommend_product', { ...j('RETENTION', [], []), categories: TOO_MANY_CATEGORIES })).toBe(false);
  });

  it.each([
    ['an empty main category', '{ action: recommend_product, mainCategory: "" }'],
    ['a misspelt field', '{ action: recommend_product, mainCatgory: toys }'],
  ])('refuse %s with NXA_POLICY_INVALID', (_what, rule) => {
    const shipped = readFileSync(POLICY_PATH, 'utf8');
    expect(() =>
      parsePolicy(
        `${shipped}
upliftSuppressions:
  - ${rule}
`,
        'p.yaml',
      ),
    ).toThrow(expect.objectContaining({ code: ErrorCodes.POLICY_INVALID }));
  });

  it('refuse a rule naming no action', () => {
    const shipped = readFileSync(POLICY_PATH, 'utf8');
    expect(() => parsePolicy(`${shipped}\nupliftSuppressions:\n  - { action: no_such_action }\n`, 'p.yaml')).toThrow(
      expect.objectContaining({ code: ErrorCodes.POLICY_INVALID, message: expect.stringContaining('names no action') }),
    );
  });
});

describe('customer futures in decisions', () => {
  const policy = policyWith((p) => {
    p.customerFutures = {
      churnRisk: { pAliveBelow: 0.3, minRepeatPurchases: 1 },
      valueTerm: { source: 'clv', referenceClvMinor: 10_000, maxMultiplier: 5 },
    };
  });

  function replay(events: CustomerEvent[], timeline: ModelTimeline) {
    const domain = createNbaDomain(policy, { futures: timeline });
    let j = domain.initialJourney(C);
    let l = domain.initialLearner();
    const decisions = [];
    for (const e of events) {
      const r = domain.onEvent(j, l, e, WALL);
      j = r.journey;
      l = r.learner;
      if (r.decision) decisions.push(r.decision);
    }
    return { domain, journey: j, learner: l, decisions };
  }

  const history = [purchase(C, T0, 4000), purchase(C, T0 + 3 * DAY, 6000), purchase(C, T0 + 9 * DAY, 5000)];

  it('records the version in force, P(alive) and predicted CLV; none before a model is effective', () => {
    const timeline = timelineWith(model('m-late', T0 + 5 * DAY));
    const { decisions } = replay([...history, browse(C, T0 + 12 * DAY, { kind: 'PRODUCT_VIEW' })], timeline);
    expect(decisions.length).toBeGreaterThan(1);
    for (const d of decisions) {
      if (d.eventTime < T0 + 5 * DAY) expect([d.modelVersion, d.pAlive, d.predictedClvMinor]).toEqual([null, null, null]);
      else {
        expect(d.modelVersion).toBe('m-late');
        expect(d.pAlive).toBeGreaterThan(0);
        expect(d.predictedClvMinor).toBeGreaterThan(0);
      }
    }
    expect(decisions.some((d) => d.modelVersion === 'm-late')).toBe(true);
  });

  it('scales action values by predicted CLV (the value term)', () => {
    const withModel = replay(history, timelineWith(model('m', T0 - DAY))).decisions.at(-1)!;
    const without = replay(history, new ModelTimeline()).decisions.at(-1)!;
    const multiplier = Math.min(5, withModel.predictedClvMinor! / 10_000);
    for (const c of withModel.candidates) {
      const base = without.candidates.find((x) => x.actionId === c.actionId)!;
      expect(c.value).toBeCloseTo(base.value * multiplier, 9);
    }
    expect(multiplier).not.toBe(1);
  });

  it('enters CHURN_RISK (P_ALIVE) by timer when P(alive) falls below the threshold, with an inactivity decision at that instant', () => {
    const timeline = timelineWith(model('m', T0 - DAY));
    const { domain, journey, learner } = replay(history, timeline);
    const due = pAliveChurnAt(policy, timeline, { ...journey, stage: 'RETENTION' });
    expect(due).toBeDefined();
    // The PURCHASE stage settles first; then the next timer is either inactivity or P(alive), whichever is first.
    let j = journey;
    let l = learner;
    const fired = [];
    for (let i = 0; i < 5; i++) {
      const at = domain.nextTimer(j);
      if (at === undefined) break;
      const r = domain.onTimer(j, l, at, WALL);
      j = r.journey;
      l = r.learner;
      if (r.decision) fired.push(r.decision);
      if (j.stage === 'CHURN_RISK') break;
    }
    expect(j.stage).toBe('CHURN_RISK');
    const inactivityAt = journey.rfm.lastActivityTime! + policy.journey.inactivityDays * DAY;
    if (due! < inactivityAt) {
      expect(j.churnCause).toBe('P_ALIVE');
      expect(fired.at(-1)).toMatchObject({ eventTime: due, triggerEventId: `timer:P_ALIVE:${C}:${due}`, modelVersion: 'm' });
      expect(fired.at(-1)!.pAlive).toBeLessThan(0.3);
    } else expect(j.churnCause).toBe('INACTIVITY');
    // A browse recovers it, as it recovers inactivity.
    const back = domain.onEvent(j, l, browse(C, j.stageEnteredAt! + DAY, { kind: 'PRODUCT_VIEW' }), WALL).journey;
    expect(back.stage).not.toBe('CHURN_RISK');
    expect(pAliveChurnAt(policy, timeline, back)).toBeUndefined();
  });
});
