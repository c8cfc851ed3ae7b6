/**
 * Attribution against embedded ClickHouse with synthetic data of known effect: the reports must
 * recover sign and rough size (and say so with intervals that exclude 0), through the library,
 * the HTTP endpoint and the report CLI.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger, type HttpService, loadConfig, startHttpService } from '@nextact/core';
import { Registry } from 'prom-client';
import { dumpDom, screenshot } from '../../../../test/support/chromium';
import { prng as rng } from '../../../../test/support/prng';
import { attributionReport } from '../../src/reports/attribution';
import { clvReport } from '../../src/reports/clv';
import { chartIds } from '../../src/reports/html/page';
import { opeReport } from '../../src/reports/ope';
import { reportRoutes } from '../../src/reports/routes';
import { satisfactionReport } from '../../src/reports/satisfaction';
import { type ClickHouse, createClickHouse } from '../../src/store/clickhouse';
import { migrate } from '../../src/store/migrations';
import { blankEventRow, type DecisionRow, type EventRow } from '../../src/store/rows';

jest.setTimeout(90_000);
const run = promisify(execFile);

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.UTC(2026, 2, 1);
const AS_OF = T0 + 120 * D;

let seq = 0;
function decision(d: Partial<DecisionRow> & Pick<DecisionRow, 'customer_id' | 'action_id' | 'journey_stage' | 'experiment_arm' | 'event_time'>): DecisionRow {
  seq += 1;
  return {
    decision_id: `d-${seq}`,
    trigger_event_id: `t-${seq}`,
    trigger_type: 'nextact.BrowseEvent',
    channel: 'EMAIL',
    deliver: d.experiment_arm !== 'CONTROL' && d.action_id !== 'do_nothing',
    experiment_id: d.experiment_arm === 'NONE' ? null : 'exp-offer',
    probability: 1,
    score: 0.5,
    candidate_actions: [d.action_id],
    candidate_scores: [0.5],
    candidates: '[]',
    reason_codes: [],
    policy_version: 'v1',
    model_version: null,
    p_alive: null,
    predicted_clv_minor: null,
    decision_time: d.event_time + 10,
    kafka_partition: 0,
    kafka_offset: String(seq),
    ...d,
  };
}

function event(e: Partial<EventRow> & Pick<EventRow, 'customer_id' | 'event_type' | 'event_time'>): EventRow {
  seq += 1;
  return {
    ...blankEventRow({
      event_id: `e-${seq}`,
      customer_id: e.customer_id,
      event_type: e.event_type,
      event_time: e.event_time,
      source: 'synthetic',
      raw: '{}',
      kafka_partition: 0,
      kafka_offset: String(seq),
    }),
    ...e,
  };
}

const purchase = (customer_id: string, event_time: number, amount_minor: number) =>
  event({ customer_id, event_type: 'purchase', event_time, amount_minor, currency: 'EUR' });

const TIMING = 'survey-timing-2026q4';
const HOLDOUT = 'survey-holdout-2026q4';
const clamp = (v: number, low: number, high: number) => Math.min(high, Math.max(low, v));

interface ArmTruth {
  delivered: number;
  answered: number;
  deferred: number;
  blocked: number;
  /** The first on-time answer of each answered decision: what the report must average. */
  csat: number[];
  nps: number[];
}

/**
 * A survey timing experiment (TREATMENT surveys at once, CONTROL defers 48 h) whose answers are
 * about 1 CSAT point lower in TREATMENT, plus a holdout-only survey experiment and surveys that
 * name no decision. Returns what was inserted, so the report is checked against it.
 */
function surveyTiming(decisions: DecisionRow[], events: EventRow[]) {
  const r = rng(2026);
  const noise = () => (r() + r() + r() - 1.5) * 1.5;
  const arms: Record<'TREATMENT' | 'CONTROL', ArmTruth> = {
    TREATMENT: { delivered: 0, answered: 0, deferred: 0, blocked: 0, csat: [], nps: [] },
    CONTROL: { delivered: 0, answered: 0, deferred: 0, blocked: 0, csat: [], nps: [] },
  };
  let surveysById = 0;
  let surveysAsof = 0;
  const answer = (d: DecisionRow, truth: ArmTruth | null, csatAround: number, npsAround: number) => {
    const roll = r();
    if (roll < 0.7) {
      const csat = clamp(Math.round(csatAround + noise()), 1, 5);
      const nps = clamp(Math.round(npsAround + 2 * noise()), 0, 10);
      const first = event({
        customer_id: d.customer_id,
        event_type: 'survey',
        event_time: d.event_time + Math.floor(r() * 3 * D),
        csat,
        nps,
        decision_id: d.decision_id,
      });
      events.push(first);
      surveysById += 1;
      if (truth) {
        truth.answered += 1;
        truth.csat.push(csat);
        truth.nps.push(nps);
      }
      if (r() < 0.15) {
        // The same answer redelivered, and a second answer a day later: neither counts again.
        events.push({ ...first });
        events.push(
          event({ customer_id: d.customer_id, event_type: 'survey', event_time: first.event_time + D, csat: 5, nps: 10, decision_id: d.decision_id }),
        );
        surveysById += 1;
      }
    } else if (roll < 0.75) {
      // Answered after the 7-day window: not a response.
      events.push(event({ customer_id: d.customer_id, event_type: 'survey', event_time: d.event_time + 9 * D, csat: 1, nps: 0, decision_id: d.decision_id }));
      surveysById += 1;
    }
  };
  // A post-purchase survey of the same customer that names no decision: it must stay out of the comparison.
  const unrelated = (customer_id: string, t: number, i: number) => {
    if (i % 2 !== 0) return;
    events.push(event({ customer_id, event_type: 'survey', event_time: t + 12 * H, csat: 1, nps: 0, decision_id: i % 4 === 0 ? null : '' }));
    surveysAsof += 1;
  };
  const common = { action_id: 'satisfaction_survey', trigger_type: 'nextact.PurchaseEvent', experiment_id: TIMING };
  for (let i = 0; i < 150; i++) {
    const customer_id = `timing-t-${i}`;
    const t = T0 + Math.floor(r() * 30 * D);
    const d = decision({
      ...common,
      customer_id,
      journey_stage: 'RETENTION',
      experiment_arm: 'TREATMENT',
      deliver: true,
      reason_codes: [`EXPERIMENT:${TIMING}:TREATMENT`],
      event_time: t,
    });
    decisions.push(d);
    if (i % 30 === 0) decisions.push({ ...d });
    arms.TREATMENT.delivered += 1;
    answer(d, arms.TREATMENT, 3, 6);
    unrelated(customer_id, t, i);
  }
  for (let i = 0; i < 150; i++) {
    const customer_id = `timing-c-${i}`;
    const t = T0 + Math.floor(r() * 30 * D);
    const deferral = decision({
      ...common,
      customer_id,
      journey_stage: 'RETENTION',
      experiment_arm: 'CONTROL',
      deliver: false,
      reason_codes: [`EXPERIMENT_DEFERRED:${TIMING}:48h`, `EXPERIMENT:${TIMING}:CONTROL`],
      event_time: t,
    });
    decisions.push(deferral);
    arms.CONTROL.deferred += 1;
    // A gate (quiet hours, caps, consent) blocks some follow-ups when they come due.
    const blocked = r() < 0.1;
    const followUp = decision({
      customer_id,
      trigger_type: 'TIMER',
      trigger_event_id: `followup:${deferral.decision_id}`,
      action_id: blocked ? 'do_nothing' : 'satisfaction_survey',
      channel: blocked ? 'NONE' : 'EMAIL',
      deliver: !blocked,
      journey_stage: 'ADVOCACY',
      experiment_id: TIMING,
      experiment_arm: 'CONTROL',
      reason_codes: ['TRIGGER:FOLLOW_UP', `FOLLOW_UP:${deferral.decision_id}`, ...(blocked ? ['GATE:QUIET_HOURS'] : [])],
      event_time: t + 48 * H,
    });
    decisions.push(followUp);
    if (i % 30 === 0) decisions.push({ ...followUp });
    if (blocked) arms.CONTROL.blocked += 1;
    else {
      arms.CONTROL.delivered += 1;
      answer(followUp, arms.CONTROL, 4, 8);
    }
    unrelated(customer_id, t, i);
  }
  // A holdout on a survey: CONTROL is never surveyed, so there is no timing comparison to make.
  for (let i = 0; i < 40; i++) {
    const arm = i % 2 === 0 ? 'TREATMENT' : 'CONTROL';
    const d = decision({
      ...common,
      customer_id: `holdout-${i}`,
      journey_stage: 'RETENTION',
      experiment_id: HOLDOUT,
      experiment_arm: arm,
      deliver: arm === 'TREATMENT',
      event_time: T0 + Math.floor(r() * 30 * D),
    });
    decisions.push(d);
    if (d.deliver) answer(d, null, 3, 6);
  }
  return { arms, surveysById, surveysAsof };
}

/** Synthetic history with known effects. */
function synthesise() {
  const r = rng(42);
  const decisions: DecisionRow[] = [];
  const events: EventRow[] = [];
  // 1. Experiment: offer_discount in CONSIDERATION, treatment converts 30% within 48 h, control 15%.
  for (let i = 0; i < 2_000; i++) {
    const customer = `x-${i}`;
    const arm = i % 2 === 0 ? 'TREATMENT' : 'CONTROL';
    const t = T0 + Math.floor(r() * 30 * D);
    decisions.push(decision({ customer_id: customer, action_id: 'offer_discount', journey_stage: 'CONSIDERATION', experiment_arm: arm, event_time: t }));
    if (r() < (arm === 'TREATMENT' ? 0.3 : 0.15)) events.push(purchase(customer, t + H + Math.floor(r() * 47 * H), 5_000));
    // Background purchases after the 72 h window, the same in both arms.
    if (r() < 0.1) events.push(purchase(customer, t + 100 * H, 3_000));
    // Surveys: treatment CSAT a little lower (mean 3.5 vs 4), joined through their decisionId.
    if (i < 600) {
      const csat = arm === 'TREATMENT' ? 3 + (i % 4 < 2 ? 0 : 1) : 4;
      events.push(
        event({ customer_id: customer, event_type: 'survey', event_time: t + 2 * D, csat, nps: 8, decision_id: decisions[decisions.length - 1]!.decision_id }),
      );
    }
  }
  // 2. Logged policy (arm NONE) in PURCHASE: offer with p = 0.4 converting 30%, do_nothing with p = 0.6 converting 10%.
  for (let i = 0; i < 3_000; i++) {
    const customer = `l-${i}`;
    const t = T0 + Math.floor(r() * 30 * D);
    const offer = r() < 0.4;
    decisions.push(
      decision({
        customer_id: customer,
        action_id: offer ? 'offer' : 'do_nothing',
        channel: offer ? 'EMAIL' : 'NONE',
        journey_stage: 'PURCHASE',
        experiment_arm: 'NONE',
        probability: offer ? 0.4 : 0.6,
        // do_nothing here because a gate held the offer back (what the HTML report's reason chart draws).
        reason_codes: offer ? [`SELECTED:offer`] : ['GATE_QUIET_HOURS:EMAIL', 'SELECTED:do_nothing'],
        event_time: t,
      }),
    );
    if (r() < (offer ? 0.3 : 0.1))
      events.push(event({ customer_id: customer, event_type: 'outcome', event_time: t + 5 * H, outcome: 'CONVERTED', value_minor: 2_000 }));
  }
  // 3. Surveys after decisions: CHURN_RISK (after a complaint) CSAT 2-4, RETENTION CSAT 3-5; joined by time (ASOF).
  for (let i = 0; i < 1_200; i++) {
    const churn = i % 2 === 0;
    const customer = `s-${i}`;
    const t = T0 + Math.floor(r() * 30 * D);
    decisions.push(
      decision({
        customer_id: customer,
        action_id: churn ? 'apology_voucher' : 'loyalty_points',
        journey_stage: churn ? 'CHURN_RISK' : 'RETENTION',
        experiment_arm: 'NONE',
        trigger_type: churn ? 'nextact.ChatEvent' : 'nextact.PurchaseEvent',
        event_time: t,
      }),
    );
    const csat = (churn ? 2 : 3) + (i % 3);
    const nps = churn ? 4 + (i % 5) : 7 + (i % 4);
    events.push(event({ customer_id: customer, event_type: 'survey', event_time: t + D, csat, nps }));
  }
  // A survey 10 days after its customer's only decision: outside the 7-day window.
  decisions.push(decision({ customer_id: 'late', action_id: 'loyalty_points', journey_stage: 'RETENTION', experiment_arm: 'NONE', event_time: T0 }));
  events.push(event({ customer_id: 'late', event_type: 'survey', event_time: T0 + 10 * D, csat: 1, nps: 0 }));
  // 4. A customer whose CLV is computed by hand: 3 orders of 200,000, 90, 60 and 30 days before AS_OF.
  for (const daysBefore of [90, 60, 30]) events.push(purchase('clv-hand', AS_OF - daysBefore * D, 200_000));
  // 5. A survey timing experiment, a survey holdout and surveys naming no decision.
  const timing = surveyTiming(decisions, events);
  return { decisions, events, timing };
}

describe('attribution reports', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nextact-analytics-attr-'));
  const config = loadConfig({ ...process.env, CHDB_PATH: join(dataDir, 'chdb'), CLICKHOUSE_URL: '', CLICKHOUSE_DATABASE: 'nextact' });
  const logger = createLogger({ level: 'warn', bindings: { test: 'attribution.int' } });
  let store: ClickHouse;
  let http: HttpService;
  const fixture = synthesise();

  beforeAll(async () => {
    store = createClickHouse(config);
    await migrate(store, logger);
    const { decisions, events } = fixture;
    for (let i = 0; i < decisions.length; i += 5_000) await store.insert('decisions', decisions.slice(i, i + 5_000));
    for (let i = 0; i < events.length; i += 5_000) await store.insert('events', events.slice(i, i + 5_000));
    http = await startHttpService({
      name: 'analytics',
      host: '127.0.0.1',
      port: 0,
      metrics: new Registry(),
      logger,
      routes: reportRoutes(() => store, logger),
    });
  });
  afterAll(async () => {
    await http?.close();
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('recovers the treatment uplift with an interval excluding 0', async () => {
    const report = await attributionReport(store, { windowHours: 72 });
    const u = report.uplift.find((x) => x.actionId === 'offer_discount' && x.journeyStage === 'CONSIDERATION')!;
    expect(u).toBeDefined();
    expect(u.treatmentN).toBe(1_000);
    expect(u.controlN).toBe(1_000);
    expect(u.treatmentRate).toBeGreaterThan(0.25);
    expect(u.treatmentRate).toBeLessThan(0.35);
    expect(u.controlRate).toBeGreaterThan(0.11);
    expect(u.controlRate).toBeLessThan(0.19);
    expect(u.uplift).toBeGreaterThan(0.09);
    expect(u.uplift).toBeLessThan(0.21);
    expect(u.ci95.low).toBeGreaterThan(0);
    expect(u.significant).toBe(true);
    expect(u.relativeLift!).toBeGreaterThan(0.5);
    expect(u.relativeLift!).toBeLessThan(1.8);
    // Purchases 100 h after the decision are outside the 72 h window; a 120 h window takes them in.
    const wider = await attributionReport(store, { windowHours: 120 });
    const uw = wider.uplift.find((x) => x.actionId === 'offer_discount')!;
    expect(uw.controlRate).toBeGreaterThan(u.controlRate);
    const treatment = report.segments.find((s) => s.actionId === 'offer_discount' && s.experimentArm === 'TREATMENT')!;
    expect(treatment.deliveries).toBe(1_000);
    expect(treatment.revenueMinor).toBe(treatment.conversions * 5_000);
    expect(report.segments.find((s) => s.actionId === 'offer_discount' && s.experimentArm === 'CONTROL')!.deliveries).toBe(0);
  });

  it('attributes the CLV change to the action (the CLV models are tested in test/clv/)', async () => {
    const report = await clvReport(store, { asOf: AS_OF, horizonDays: 365, attributionDays: 30, top: 5 });
    expect(report.method).toMatch(/BG\/NBD/);
    const a = report.attribution.find((x) => x.actionId === 'offer_discount')!;
    expect(a.difference).toBeGreaterThan(0);
    expect(a.ci95.low).toBeGreaterThan(0);
    // Expected: (0.30 - 0.15) x 5,000 = 750 per customer.
    expect(a.difference).toBeGreaterThan(400);
    expect(a.difference).toBeLessThan(1_100);
  });

  it('joins surveys to the preceding decision and finds CSAT lower by about 1 after complaints', async () => {
    const report = await satisfactionReport(store, { windowDays: 7 });
    const churn = report.segments.find((s) => s.journeyStage === 'CHURN_RISK')!;
    const retention = report.segments.find((s) => s.journeyStage === 'RETENTION')!;
    expect(churn.responses).toBe(600);
    expect(retention.responses).toBe(600);
    expect(churn.csatMean! - retention.csatMean!).toBeCloseTo(-1, 1);
    // NPS: churn answers 4-8 (detractors 4,5,6; passives 7,8), retention 7-10 (promoters 9,10).
    expect(churn.nps!).toBeLessThan(0);
    expect(retention.nps!).toBeCloseTo(50, 0);
    expect(retention.csatTop2Share!).toBeCloseTo(2 / 3, 2);
    expect(report.joinedBy.decision_id).toBe(600 + fixture.timing.surveysById);
    expect(report.joinedBy.asof).toBe(1_200 + fixture.timing.surveysAsof);
    expect(report.joinedBy.none).toBe(1);
    const arm = report.csatByArm.find((x) => x.actionId === 'offer_discount')!;
    expect(arm.difference).toBeCloseTo(-0.5, 1);
    expect(arm.ci95.high).toBeLessThan(0);
  });

  it('compares the answers of a survey timing experiment arm against arm, with response and attrition', async () => {
    const report = await satisfactionReport(store, { windowDays: 7 });
    const timing = report.surveyExperiments.find((x) => x.experimentId === TIMING && x.actionId === 'satisfaction_survey')!;
    expect(timing).toBeDefined();
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const npsScore = (xs: number[]) => (100 * (xs.filter((x) => x >= 9).length - xs.filter((x) => x <= 6).length)) / xs.length;
    for (const [stats, truth] of [
      [timing.treatment, fixture.timing.arms.TREATMENT],
      [timing.control, fixture.timing.arms.CONTROL],
    ] as const) {
      expect(stats.delivered).toBe(truth.delivered);
      expect(stats.answered).toBe(truth.answered);
      expect(stats.responseRate).toBeCloseTo(truth.answered / truth.delivered, 9);
      expect(stats.deferred).toBe(truth.deferred);
      expect(stats.followUpsBlocked).toBe(truth.blocked);
      // Only first on-time answers to the experiment's own surveys: no repeats, late answers or other surveys.
      expect(stats.csatMean).toBeCloseTo(mean(truth.csat), 9);
      expect(stats.npsMean).toBeCloseTo(mean(truth.nps), 9);
      expect(stats.nps).toBeCloseTo(npsScore(truth.nps), 9);
    }
    expect(fixture.timing.arms.CONTROL.blocked).toBeGreaterThan(0);
    expect(timing.treatment.deferred).toBe(0);
    expect(timing.treatment.responseRate).toBeGreaterThan(0.55);
    expect(timing.treatment.responseRate).toBeLessThan(0.85);
    // Known effect: TREATMENT answers around 3, CONTROL around 4 (clamped to 1..5).
    const csat = timing.csat!;
    expect(csat.treatmentN).toBe(fixture.timing.arms.TREATMENT.answered);
    expect(csat.controlN).toBe(fixture.timing.arms.CONTROL.answered);
    expect(csat.difference).toBeGreaterThan(-1.4);
    expect(csat.difference).toBeLessThan(-0.6);
    expect(csat.ci95.high).toBeLessThan(0);
    expect(csat.significant).toBe(true);
    expect(timing.nps!.difference).toBeLessThan(0);
    // A holdout's CONTROL never delivers, and exp-offer's CONTROL neither: no timing comparison.
    expect(report.surveyExperiments.map((x) => x.experimentId)).toEqual([TIMING]);
  });

  it('estimates candidate policies off-policy (IPS, SNIPS) around their true values', async () => {
    const always = await opeReport(store, { windowHours: 72, policy: { PURCHASE: { offer: 1 }, CONSIDERATION: { offer_discount: 1 } } });
    const e = always.candidate.estimate!;
    // Executed decisions: 1,000 TREATMENT (p = 1, ~30%) + 3,000 logged in PURCHASE. Always-offer: ~30% everywhere.
    expect(e.n).toBe(4_000);
    expect(always.loggingValue).toBeGreaterThan(0.17);
    expect(always.loggingValue).toBeLessThan(0.25);
    expect(e.snips!).toBeGreaterThan(0.25);
    expect(e.snips!).toBeLessThan(0.35);
    expect(e.ipsCi95.low).toBeLessThan(0.3);
    expect(e.ipsCi95.high).toBeGreaterThan(0.3);
    const never = await opeReport(store, { windowHours: 72, policy: { PURCHASE: { do_nothing: 1 }, CONSIDERATION: { offer_discount: 1 } } });
    // True value: (1,000 x 0.30 + 3,000 x 0.10) / 4,000 = 0.15.
    const n = never.candidate.estimate!;
    expect(n.snips!).toBeGreaterThan(0.11);
    expect(n.snips!).toBeLessThan(0.19);
    expect(n.snips!).toBeLessThan(e.snips!);
    // A stage without executed decisions: an empty estimate, not an error.
    const none = await opeReport(store, { windowHours: 72, policy: { ADVOCACY: { offer: 1 } } });
    expect(none.candidate.estimate).toBeNull();
  });

  it('serves the reports over HTTP, with 400 for bad parameters', async () => {
    const direct = await attributionReport(store, { windowHours: 48 });
    const res = await fetch(`${http.url}/v1/reports/attribution?windowHours=48`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(direct)));
    for (const name of ['clv', 'satisfaction']) expect((await fetch(`${http.url}/v1/reports/${name}`)).status).toBe(200);
    const policy = encodeURIComponent(JSON.stringify({ PURCHASE: { offer: 1 } }));
    const ope = (await (await fetch(`${http.url}/v1/reports/ope?policy=${policy}`)).json()) as { candidate: { name: string } };
    expect(ope.candidate.name).toBe('given');
    const bad = await fetch(`${http.url}/v1/reports/attribution?windowHours=abc`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('NXA_VALIDATION');
    expect((await fetch(`${http.url}/v1/reports/ope?policy=${encodeURIComponent('{"PURCHASE":{"offer":2}}')}`)).status).toBe(400);
    expect((await fetch(`${http.url}/v1/reports/nope`)).status).toBe(404);
  });

  it('serves one self-contained HTML page whose every chart draws data in headless chromium', async () => {
    const res = await fetch(`${http.url}/report`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await res.text();
    // Self-contained: every script inline, and no stylesheet, image or frame in the markup.
    expect(page).not.toMatch(/<script\s[^>]*src=/);
    expect(page.slice(0, page.indexOf('<script>'))).not.toMatch(/<(link|img|iframe)\b/);
    const file = join(dataDir, 'report.html');
    writeFileSync(file, page);
    const dom = dumpDom(`file://${file}`);
    expect(dom).toMatch(/<body[^>]*data-charts-ready="true"/);
    // Each chart's section up to its end tag: count what the SVG renderer drew in it.
    const sections = new Map(
      dom
        .split('<section class="chart" data-chart="')
        .slice(1)
        .map((part) => [part.slice(0, part.indexOf('"')), part.slice(0, part.indexOf('</section>'))] as const),
    );
    const report = await attributionReport(store);
    const minimumMarks: Record<(typeof chartIds)[number], number> = {
      uplift: 2 * report.uplift.length, // a point and an interval per action and stage
      'clv-predicted': 2,
      'clv-palive': 2,
      'decisions-by-action': 3,
      'decisions-by-reason': 1,
      'csat-by-arm': 3,
      'nps-by-arm': 3,
      ope: 3 + 2, // three bars, two intervals
    };
    for (const id of chartIds) {
      const html = sections.get(id) ?? '';
      const marks = (html.match(/<(path|rect|circle|line|polyline)\b/g) ?? []).length;
      expect({ id, svg: html.includes('<svg'), empty: html.includes('no data:'), enough: marks >= minimumMarks[id] + 4 }).toEqual({
        id,
        svg: true,
        empty: false,
        enough: true,
      });
    }
    // A person looks at this one (CI keeps it under .stack/screenshots).
    const shots = join(__dirname, '..', '..', '..', '..', '.stack', 'screenshots');
    mkdirSync(shots, { recursive: true });
    const png = join(shots, 'analytics-report.png');
    screenshot(`file://${file}`, png);
    expect(statSync(png).size).toBeGreaterThan(20_000);
  });

  it('prints reports from the CLI, through the service when it answers and from the store otherwise', async () => {
    const repo = join(__dirname, '..', '..', '..', '..');
    const cli = join(repo, 'services', 'analytics', 'src', 'report.ts');
    const env = { ...process.env, CHDB_PATH: config.chdbPath, CLICKHOUSE_URL: '', CLICKHOUSE_DATABASE: 'nextact' };
    const viaService = await run('npx', ['tsx', cli, '--json', 'attribution'], { cwd: repo, env: { ...env, ANALYTICS_PORT: String(http.port) } });
    const a = JSON.parse(viaService.stdout) as { source: string; reports: { attribution: { uplift: { actionId: string; uplift: number }[] } } };
    expect(a.source).toBe(`http://127.0.0.1:${http.port}`);
    const expected = (await attributionReport(store, { windowHours: 72 })).uplift.find((u) => u.actionId === 'offer_discount')!.uplift;
    expect(a.reports.attribution.uplift.find((u) => u.actionId === 'offer_discount')!.uplift).toBeCloseTo(expected, 12);

    // The service goes away (and with it the store's lock): the CLI opens the store itself.
    const port = http.port;
    await http.close();
    await store.close();
    const direct = await run('npx', ['tsx', cli, '--json', 'attribution'], { cwd: repo, env: { ...env, ANALYTICS_PORT: String(port) } });
    const b = JSON.parse(direct.stdout) as typeof a;
    expect(b.source).toBe('store');
    expect(b.reports.attribution.uplift.find((u) => u.actionId === 'offer_discount')!.uplift).toBeCloseTo(expected, 12);
    const text = await run('npx', ['tsx', cli, 'attribution', 'satisfaction'], { cwd: repo, env: { ...env, ANALYTICS_PORT: String(port) } });
    expect(text.stdout).toMatch(/Uplift of TREATMENT over CONTROL/);
    expect(text.stdout).toMatch(/offer_discount/);
    expect(text.stdout).toMatch(/CHURN_RISK/);
    expect(text.stdout).toMatch(/Survey timing experiments/);
    expect(text.stdout).toMatch(new RegExp(`${TIMING}\\s+satisfaction_survey\\s+CSAT`));
    // --html from the store directly: the same self-contained page as GET /report.
    const htmlFile = join(dataDir, 'cli-report.html');
    const html = await run('npx', ['tsx', cli, '--html', htmlFile], { cwd: repo, env: { ...env, ANALYTICS_PORT: String(port) } });
    expect(html.stdout).toBe(`wrote ${htmlFile} (from the store directly)\n`);
    const written = readFileSync(htmlFile, 'utf8');
    for (const id of chartIds) expect(written).toContain(`data-chart="${id}"`);
    expect(written).toContain('"upliftComparisons"');
    store = createClickHouse(config);
    http = await startHttpService({
      name: 'analytics',
      host: '127.0.0.1',
      port: 0,
      metrics: new Registry(),
      logger,
      routes: reportRoutes(() => store, logger),
    });
  });
});
