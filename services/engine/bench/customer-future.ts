/**
 * The customer-futures model's own cost per event in the engine, without the rest of the chain:
 * scoring a journey (P(alive), expected purchases over the horizon, CLV) and the P(alive) churn
 * timer's closed form, on purchase-day summaries like mature journeys' (x up to 30, t_x and T up to
 * two years). `node --import tsx services/engine/bench/customer-future.ts [--calls 1000000]`
 * Prints main-thread CPU ns per call.
 */
import { parseArgs } from 'node:util';
import { pAliveChurnAt } from '../src/futures/policy';
import { futureAt, pAliveFallsBelowAt } from '../src/futures/score';
import { ModelTimeline } from '../src/futures/timeline';
import type { PurchaseDays } from '../src/journey/state';
import { initialJourney } from '../src/journey/state';
import { loadPolicy } from '../src/policy/load';

const { values } = parseArgs({ options: { calls: { type: 'string' } } });
const calls = Number(values.calls ?? 1_000_000);
const DAY = 86_400_000;
const timeline = new ModelTimeline();
timeline.put('bench', {
  effectiveAt: 0,
  offset: 0n,
  parameters: { version: 'bench', timeUnitMs: DAY, horizon: 365, bgnbd: { r: 0.8, alpha: 12, a: 1.2, b: 4 }, gammaGamma: { p: 4, q: 5, gamma: 12_000 } },
});
const model = timeline.inForceAt(0)!;
const policy = loadPolicy(`${__dirname}/../policy/policy.yaml`);
policy.customerFutures = { churnRisk: { pAliveBelow: 0.3, minRepeatPurchases: 1 } };

// 1024 summaries from a fixed sequence (no Math.random: the same work every run).
let seed = 42;
const next = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};
const FIRST = 20_000;
const days: PurchaseDays[] = Array.from({ length: 1024 }, () => {
  const x = Math.floor(next() * 30);
  const span = x === 0 ? 0 : 1 + Math.floor(next() * 700);
  return { firstDay: FIRST, lastDay: FIRST + span, repeatDays: x, firstDaySpendMinor: 4000, repeatSpendMinor: x * (2000 + Math.floor(next() * 8000)) };
});
const journeys = days.map((pd) => {
  const j = initialJourney(policy, 'c');
  j.stage = 'RETENTION';
  j.purchaseDays = pd;
  j.rfm = { ...j.rfm, lastEventTime: (pd.lastDay + 3) * DAY, lastActivityTime: (pd.lastDay + 1) * DAY };
  return j;
});
const at = (i: number) => (days[i & 1023]!.lastDay + 1 + (i % 90)) * DAY;

function measure(what: string, f: (i: number) => number): void {
  let sink = 0;
  for (let i = 0; i < 100_000; i++) sink += f(i); // warm-up
  const t0 = process.threadCpuUsage();
  for (let i = 0; i < calls; i++) sink += f(i);
  const used = process.threadCpuUsage(t0);
  process.stdout.write(
    `${JSON.stringify({ what, calls, nsPerCall: Math.round(((used.user + used.system) * 1000) / calls), checksum: Math.round(sink) % 1000 })}\n`,
  );
}

measure('futureAt (P(alive), E[purchases] over 365 d, CLV)', (i) => futureAt(days[i & 1023]!, model, at(i))!.clv ?? 0);
measure('model in force (timeline lookup)', (i) => timeline.inForceAt(at(i))!.effectiveAt);
measure('pAliveFallsBelowAt (closed form)', (i) => pAliveFallsBelowAt(days[i & 1023]!, model, 0.3) ?? 0);
measure('pAliveChurnAt (timer, per journey)', (i) => pAliveChurnAt(policy, timeline, journeys[i & 1023]!) ?? 0);
