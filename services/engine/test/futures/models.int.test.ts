/**
 * Customer futures in the engine, against the real broker and registry: a model published to
 * `<prefix>models` mid-stream (by analytics' own publisher) changes the decisions whose event time
 * is at or after its effective time (asOf), and only those; a fresh engine over the same log, with
 * the model on the topic from the start, reproduces every decision byte for byte (decisionTime aside).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CustomerEvent, type CustomerFuturesModel, customerEventTypes, type Decision, validateRecord } from '@nextact/core';
import { ModelPublisher } from '../../../analytics/src/futures/publish';
import { ModelTimeline } from '../../src/futures/timeline';
import { createNbaDomain } from '../../src/nba';
import { parsePolicy } from '../../src/policy/load';
import {
  canonicalDecision,
  decodeDecisions,
  foldLog,
  produceEvents,
  readTopic,
  startEngine,
  type TestStack,
  testStack,
  waitCaughtUp,
  waitFor,
} from '../runtime/helpers';

jest.setTimeout(180_000);

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const AS_OF = T0 + 20 * DAY;
const CUSTOMERS = 30;
const PARTITIONS = 3;

const policyFile = join(__dirname, '../../policy/policy.yaml');
const policy = parsePolicy(
  `${readFileSync(policyFile, 'utf8')}
customerFutures:
  churnRisk: { pAliveBelow: 0.5 }
  valueTerm: { source: clv, referenceClvMinor: 20000 }
`,
  'policy.yaml + customerFutures',
);

const model: CustomerFuturesModel = {
  version: 'clv-20260125-test000001',
  method: 'BG/NBD (Fader, Hardie & Lee 2005) + Gamma-Gamma (Fader & Hardie 2013), test parameters',
  asOf: AS_OF,
  fittedAt: AS_OF,
  timeUnitMs: DAY,
  horizon: 180,
  customers: CUSTOMERS,
  // Frequent buyers (about one purchase every two days while alive): a silence of days is telling.
  bgnbd: { r: 2, alpha: 4, a: 1, b: 3, rSe: null, alphaSe: null, aSe: null, bSe: null, logLikelihood: -100 },
  gammaGamma: { p: 4, q: 5, gamma: 10_000, pSe: null, qSe: null, gammaSe: null, customers: CUSTOMERS, logLikelihood: -100 },
  spendUnit: 'minor currency units (amountMinor)',
};

let seq = 0;
function event(kind: 'browse' | 'purchase', customer: number, day: number): CustomerEvent {
  const base = { eventId: `f-${++seq}`, customerId: `fc-${customer}`, eventTime: T0 + day * DAY + customer * 7 * 60_000, source: 'test', schemaVersion: 1 };
  if (kind === 'browse') {
    const value = { ...base, kind: 'PRODUCT_VIEW', sessionId: null, url: null, productId: `p-${customer % 4}`, category: 'shoes', query: null };
    return { name: customerEventTypes.browse, value: validateRecord(customerEventTypes.browse, value) };
  }
  const amountMinor = 3_000 + 500 * (customer % 7);
  const value = {
    ...base,
    orderId: `o-${seq}`,
    lineItems: [{ sku: 'sku-1', category: 'shoes', quantity: 1, unitPriceMinor: amountMinor }],
    amountMinor,
    currency: 'EUR',
    channel: 'WEB',
  };
  return { name: customerEventTypes.purchase, value: validateRecord(customerEventTypes.purchase, value) };
}

/** Repeat buyers before the model's asOf; after it some buy again, all browse, then fall silent (odd ones come back on day 70, moving stream time past the P(alive) crossings). */
function history(): { before: CustomerEvent[]; after: CustomerEvent[] } {
  const plan: [number, 'browse' | 'purchase', number][] = [];
  for (let c = 0; c < CUSTOMERS; c++) {
    for (const [kind, day] of [
      ['purchase', 0],
      ['browse', 1],
      ['purchase', 4],
      ['browse', 6],
      ['purchase', 9],
      ['browse', 12],
      ['browse', 16],
      ['browse', 21],
      ['browse', 23],
      ...(c % 3 === 0 ? [['purchase', 25]] : []),
      ['browse', 28],
      ...(c % 2 === 0 ? [['browse', 34]] : [['browse', 70]]),
    ] as ['browse' | 'purchase', number][])
      plan.push([day, kind, c]);
  }
  const events = plan.map(([day, kind, c]) => event(kind, c, day)).sort((a, b) => a.value.eventTime - b.value.eventTime);
  return { before: events.filter((e) => e.value.eventTime < AS_OF), after: events.filter((e) => e.value.eventTime >= AS_OF) };
}

async function decisionsOf(stack: TestStack): Promise<Map<number, Decision[]>> {
  const out = new Map<number, Decision[]>();
  for (const [p, records] of await readTopic(stack, stack.topics.decisions)) out.set(p, await decodeDecisions(stack, records));
  return out;
}

const canonical = (ds: Decision[]) => ds.map((d) => canonicalDecision(d).toString('hex'));
const publisher = (stack: TestStack) => new ModelPublisher(stack.config, stack.kafka, stack.codec);

describe('engine: customer-futures models as a global table', () => {
  const { before, after } = history();
  let live: TestStack;
  let rerun: TestStack;

  beforeAll(async () => {
    live = await testStack('futures-live', PARTITIONS);
    rerun = await testStack('futures-rerun', PARTITIONS);
  });
  afterAll(async () => {
    await live?.cleanup();
    await rerun?.cleanup();
  });

  it('applies a model published mid-stream from its effective time on, and a re-run of the log reproduces every decision', async () => {
    // Live: the engine starts before the models topic exists, sees the first half, then the model is published.
    const groupId = `${live.prefix}engine`;
    await produceEvents(live, before);
    const timeline = new ModelTimeline();
    const first = await startEngine(live, createNbaDomain(policy, { futures: timeline }), { groupId, instanceId: 'futures-live' });
    try {
      await waitCaughtUp(live, groupId, 60_000);
      await publisher(live).publish(model);
      // The engine follows the models topic in the background (about every second): the second half
      // is sent once it has read the model, as live traffic after a publish would be.
      await waitFor('the engine to read the model', () => timeline.size > 0);
      await produceEvents(live, after);
      await waitCaughtUp(live, groupId, 60_000);
    } finally {
      await first.engine.stop();
    }
    const withModel = await decisionsOf(live);

    // The same log folded with no model at all: what the decisions would have been without it.
    const log = await readTopic(live, live.topics.customerEvents);
    const withoutModel = await foldLog(live, createNbaDomain(policy, { futures: new ModelTimeline() }), log);

    let beforeCount = 0;
    let afterCount = 0;
    let changed = 0;
    let pAliveChurns = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const got = withModel.get(p)!;
      const none = withoutModel.get(p)!.decisions;
      // Before the effective time: byte-identical to the run without a model.
      const early = got.filter((d) => d.eventTime < AS_OF);
      expect(canonical(early)).toEqual(canonical(none.filter((d) => d.eventTime < AS_OF)));
      for (const d of early) expect([d.modelVersion, d.pAlive, d.predictedClvMinor]).toEqual([null, null, null]);
      beforeCount += early.length;
      // From it on: every decision is scored by the model, and the value term changes what is chosen or how it scores.
      const late = got.filter((d) => d.eventTime >= AS_OF);
      const noneLate = new Map(none.filter((d) => d.eventTime >= AS_OF).map((d) => [d.triggerEventId, d]));
      for (const d of late) {
        expect(d.modelVersion).toBe(model.version);
        expect(d.pAlive).toBeGreaterThan(0);
        expect(d.pAlive).toBeLessThanOrEqual(1);
        expect(d.predictedClvMinor).toBeGreaterThan(0);
        const other = noneLate.get(d.triggerEventId);
        if (!other || other.actionId !== d.actionId || other.score !== d.score) changed++;
        if (d.triggerEventId.startsWith('timer:P_ALIVE:')) {
          pAliveChurns++;
          expect(d.pAlive).toBeLessThan(0.5);
          expect(d.journeyStage).toBe('CHURN_RISK');
        }
      }
      afterCount += late.length;
    }
    expect(beforeCount).toBeGreaterThan(100);
    expect(afterCount).toBeGreaterThan(50);
    expect(changed).toBeGreaterThan(0);
    // Silent repeat buyers enter CHURN_RISK when P(alive) falls below 0.5 (before the 30-day inactivity timer).
    expect(pAliveChurns).toBeGreaterThan(0);

    // Re-run: the same events on a fresh prefix, the model on its topic from the start, a fresh engine.
    await publisher(rerun).publish(model);
    await produceEvents(rerun, [...before, ...after]);
    const rerunGroup = `${rerun.prefix}engine`;
    const second = await startEngine(rerun, createNbaDomain(policy, { futures: new ModelTimeline() }), { groupId: rerunGroup, instanceId: 'futures-rerun' });
    try {
      await waitCaughtUp(rerun, rerunGroup, 60_000);
    } finally {
      await second.engine.stop();
    }
    const replayed = await decisionsOf(rerun);
    for (let p = 0; p < PARTITIONS; p++) expect(canonical(replayed.get(p)!)).toEqual(canonical(withModel.get(p)!));
  });
});
