/**
 * The segments report (ideal customer profiles) on the real store: a simulated world (purchases from
 * BG/NBD + Gamma-Gamma) decided by the NBA domain with its shipped policy and experiments, the
 * customers answering the decisions, every event and decision written to chdb as the sink writes
 * them. The report's segments add up, its intervals hold their estimates, and the proposed policy
 * rules load into the engine's policy and are exactly the segments without uplift. The main category
 * the report segments by is the one each engine journey holds after the same events.
 * SEGMENTS_REPORT_PRINT=1 prints the rendered report (the demo output in the closing note).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ConsumedRecord, type CustomerEvent, type Decision, type RecordName, silentLogger } from '@nextact/core';
import { mainCategoryOf } from '@nextact/core/src/main-category';
import { World } from '@nextact/simulator';
import { stringify } from 'yaml';
import { createNbaDomain } from '../../../engine/src/nba';
import { parsePolicy } from '../../../engine/src/policy/load';
import { exposureCategories, mainCategories, renderSegments, SEGMENT_DIMENSIONS, segmentsReport } from '../../src/reports/segments';
import { decisionRow, eventRow } from '../../src/sink/rows';
import { type ClickHouse, createClickHouse, qualified } from '../../src/store/clickhouse';
import { migrate } from '../../src/store/migrations';
import type { DecisionRow, EventRow } from '../../src/store/rows';
import { testConfig } from '../helpers';

jest.setTimeout(600_000);

const POLICY_FILE = join(__dirname, '../../../engine/policy/policy.yaml');
const START = Date.UTC(2026, 0, 1);

function record(offset: number, key: string): ConsumedRecord {
  return { topic: 'demo', partition: 0, offset: String(offset), key, value: null, headers: {}, timestamp: 0 };
}

/** The world decided in-process: events in, decisions out, the customers' answers back in. */
function simulate(customers: number, events: number) {
  const world = new World({ seed: 1303, customers, epochMs: START, purchases: 'bgnbd' });
  const domain = createNbaDomain(parsePolicy(readFileSync(POLICY_FILE, 'utf8'), POLICY_FILE));
  const journeys = new Map<string, ReturnType<typeof domain.initialJourney>>();
  let learner = domain.initialLearner();
  const eventRows: EventRow[] = [];
  const decisionRows: DecisionRow[] = [];
  /** The journey's main category at each customer's first experiment decision per action. */
  const exposures = new Map<string, string | null>();
  let offset = 0;
  const apply = (e: CustomerEvent) => {
    eventRows.push(eventRow({ name: e.name as RecordName, schemaId: 1, value: e.value }, record(offset++, e.value.customerId)));
    const r = domain.onEvent(journeys.get(e.value.customerId), learner, e, e.value.eventTime);
    journeys.set(e.value.customerId, r.journey);
    learner = r.learner;
    if (r.decision) decide(r.decision);
  };
  const decide = (d: Decision) => {
    const key = `${d.customerId}|${d.actionId}`;
    if (d.experimentArm !== 'NONE' && !exposures.has(key)) exposures.set(key, mainCategoryOf(journeys.get(d.customerId)!.categories));
    decisionRows.push(decisionRow({ name: 'nextact.Decision', schemaId: 1, value: d }, record(offset++, d.customerId)));
    for (const answer of world.respond(d).events) apply(answer);
  };
  for (let i = 0; i < events; i++) apply(world.next());
  return { events: eventRows, decisions: decisionRows, journeys, exposures };
}

describe('segments report (ideal customer profiles)', () => {
  const config = testConfig('segments');
  let store: ClickHouse;
  let journeys: ReturnType<typeof simulate>['journeys'];
  let exposures: ReturnType<typeof simulate>['exposures'];

  beforeAll(async () => {
    store = createClickHouse(config);
    await migrate(store, silentLogger);
    // SEGMENTS_CUSTOMERS / SEGMENTS_EVENTS make a longer demo (fewer customers: more simulated time per event).
    const {
      events,
      decisions,
      journeys: js,
      exposures: xs,
    } = simulate(Number(process.env.SEGMENTS_CUSTOMERS ?? 4_000), Number(process.env.SEGMENTS_EVENTS ?? 250_000));
    journeys = js;
    exposures = xs;
    for (let i = 0; i < events.length; i += 20_000) await store.insert('events', events.slice(i, i + 20_000));
    for (let i = 0; i < decisions.length; i += 20_000) await store.insert('decisions', decisions.slice(i, i + 20_000));
  });
  afterAll(async () => {
    await store?.close();
  });

  it('profiles every dimension, holds its estimates in their intervals, and proposes loadable policy rules', async () => {
    const report = await segmentsReport(store, { windowHours: 72, minPerArm: 30 });
    if (process.env.SEGMENTS_REPORT_PRINT) process.stdout.write(`${renderSegments(report)}\n`);
    expect(report.modelVersion).toMatch(/^clv-/);
    expect(report.discountActions).toEqual(['offer_discount']);
    const customers = (await store.rows<{ n: string }>(`SELECT uniqExact(customer_id) AS n FROM ${qualified(store.database, 'events')}`))[0]!.n;
    for (const dimension of SEGMENT_DIMENSIONS) {
      const rows = report.segments.filter((s) => s.dimension === dimension);
      expect(rows.length).toBeGreaterThan(1);
      // Every customer is in exactly one segment of each dimension.
      expect(rows.reduce((n, s) => n + s.customers, 0)).toBe(Number(customers));
      for (const s of rows) {
        if (s.meanPAlive !== null) {
          expect(s.meanPAlive).toBeGreaterThan(0);
          expect(s.meanPAlive).toBeLessThanOrEqual(1);
          expect(s.meanPredictedClvMinor).toBeGreaterThan(0);
        }
        if (s.discountExposure) expect(s.discountExposure.ci95.low).toBeLessThanOrEqual(s.discountExposure.share);
        if (s.conversionWithoutContact) expect(s.conversionWithoutContact.ci95.high).toBeGreaterThanOrEqual(s.conversionWithoutContact.rate);
        for (const u of s.uplift) {
          expect(u.ci95.low).toBeLessThanOrEqual(u.uplift);
          expect(u.ci95.high).toBeGreaterThanOrEqual(u.uplift);
        }
      }
    }
    // Some segments have customers held out with no contact before, and some buy after a discount.
    expect(report.segments.some((s) => s.heldOut > 0)).toBe(true);
    expect(report.segments.some((s) => (s.discountExposure?.share ?? 0) > 0)).toBe(true);
    expect(report.segments.some((s) => s.uplift.length > 0)).toBe(true);
    // The proposed rules are exactly the (segment, action) pairs whose interval is at or below 0 ...
    const expected = report.segments
      .filter((s) => s.value !== 'NONE')
      .flatMap((s) => s.uplift.filter((u) => u.enough && u.ci95.high <= 0).map((u) => `${u.actionId}|${s.dimension}|${s.value}`));
    const ruleKey = (r: (typeof report.policyRules)[number]) => {
      const dimension = SEGMENT_DIMENSIONS.find((d) => r[d] !== undefined)!;
      return `${r.action}|${dimension}|${r[dimension]}`;
    };
    expect(report.policyRules.map(ruleKey).sort()).toEqual(expected.sort());
    // ... and the engine's policy loads them.
    const policy = parsePolicy(`${readFileSync(POLICY_FILE, 'utf8')}\n${stringify({ upliftSuppressions: report.policyRules })}`, 'with-rules.yaml');
    expect(policy.upliftSuppressions).toHaveLength(report.policyRules.length);
  });

  it('segments by the main category each engine journey holds after the same events (one definition, core main-category)', async () => {
    const byReport = await mainCategories(store, Date.UTC(2100, 0, 1));
    const byEngine = new Map<string, string>();
    let ties = 0;
    for (const [id, j] of journeys) {
      const main = mainCategoryOf(j.categories);
      if (main !== null) byEngine.set(id, main);
      const counts = [...j.categories.counts].sort((a, b) => b - a);
      if (counts.length > 1 && counts[0] === counts[1]) ties++;
    }
    // Not vacuous: most customers have one, and ties (decided by the name order) are among them.
    expect(byEngine.size).toBeGreaterThan(journeys.size / 2);
    expect(ties).toBeGreaterThan(10);
    expect(new Set(byEngine.values()).size).toBeGreaterThan(3);
    expect([...byReport].sort()).toEqual([...byEngine].sort());
  });

  it('segments uplift by the main category the engine held at each first exposure', async () => {
    const byReport = await exposureCategories(store, Date.UTC(2100, 0, 1), 72);
    const byEngine = [...exposures].filter((e): e is [string, string] => e[1] !== null);
    expect(byEngine.length).toBeGreaterThan(100);
    // Exposures before the customer's main category settled exist, or "at the exposure" would not be tested.
    expect(byEngine.filter(([key, category]) => category !== mainCategoryOf(journeys.get(key.split('|')[0]!)!.categories)).length).toBeGreaterThan(10);
    expect([...byReport].sort()).toEqual(byEngine.sort());
  });
});
