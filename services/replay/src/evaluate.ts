/**
 * evaluate: the off-policy value of a candidate policy file from the logged decisions and their
 * outcomes in ClickHouse. The candidate is asked in each logged context: the log is folded through
 * the LOGGED policy (so journeys, contacts and learner are what really happened), and wherever it
 * reproduces a logged decision the candidate's domain is called on the very same journey, learner
 * and event (domains never mutate their inputs). The candidate's softmax over its eligible actions
 * there gives its probability of the logged action (the importance weight's numerator) and of every
 * other action (the doubly-robust direct term). Rewards: conversion within the window, as the
 * attribution views define it (decision_outcomes).
 */
import { type ClickHouse, createClickHouse, qualified, type SampleOpeEstimate, sampleOffPolicyEstimate } from '@nextact/analytics';
import type { Decision } from '@nextact/core';
import type { DecisionDomain } from '@nextact/engine';
import { softmax } from '@nextact/engine/src/policy/arbitration';
import type { ReplayContext } from './context';
import { policyDomain } from './context';
import { type FoldSummary, foldRange } from './fold-range';
import { invalid, type RangeSpec, resolveRange, watermarksOf } from './range';

export interface EvaluateOptions {
  /** The candidate policy file. */
  policyFile: string;
  /** The policy that made the logged decisions (default: the engine's POLICY_FILE). */
  loggedPolicyFile: string;
  /** Events range the logged contexts are rebuilt from (default: whole partitions). */
  range?: RangeSpec;
  windowHours?: number;
  store?: ClickHouse;
  progress?: boolean;
}

export interface EvaluateReport extends FoldSummary {
  candidate: string;
  logged: string;
  windowHours: number;
  /** Executed (non-CONTROL) logged decisions in ClickHouse. */
  loggedDecisions: number;
  /** Of those, reproduced by the fold and evaluated. */
  evaluated: number;
  /** Logged decisions the fold did not reproduce (outside the range, or the log no longer holds their history). */
  notReproduced: number;
  /** Reproduced with another logging probability than logged: the rebuilt context differs (wrong --logged-policy?). */
  probabilityMismatches: number;
  /** Logged contexts where the candidate makes no decision at all (its triggers differ): left out. */
  candidateSilent: number;
  estimate: SampleOpeEstimate | null;
  warnings: string[];
}

/** What a policy's decision says about its choice: follow-ups are certain, other decisions a softmax over eligible scores. */
export function choiceDistribution(d: Decision, temperature: number): { action: string; probability: number }[] {
  if (d.triggerEventId.startsWith('followup:')) return [{ action: d.actionId, probability: 1 }];
  const eligible = d.candidates.filter((c) => c.eligible);
  const p = softmax(
    eligible.map((c) => c.score),
    temperature,
  );
  return eligible.map((c, i) => ({ action: c.actionId, probability: p[i]! }));
}

/** The logged domain, with the candidate asked at each logged decision on the same inputs. */
export function probeDomain<J, L>(
  logged: DecisionDomain<J, L>,
  candidate: DecisionDomain<J, L>,
  onDecision: (logged: Decision, candidate: Decision | undefined) => void,
): DecisionDomain<J, L> {
  return {
    policyVersion: logged.policyVersion,
    initialJourney: (id) => logged.initialJourney(id),
    initialLearner: () => logged.initialLearner(),
    deletesJourney: (journey, event) => logged.deletesJourney(journey, event),
    onEvent(journey, learner, event, decisionTime) {
      const r = logged.onEvent(journey, learner, event, decisionTime);
      if (r.decision) onDecision(r.decision, candidate.onEvent(journey, learner, event, decisionTime).decision);
      return r;
    },
    nextTimer: (j) => logged.nextTimer(j),
    onTimer(journey, learner, dueAt, decisionTime) {
      const r = logged.onTimer(journey, learner, dueAt, decisionTime);
      if (r.decision) onDecision(r.decision, candidate.onTimer(journey, learner, dueAt, decisionTime).decision);
      return r;
    },
    serialiseJourney: (j) => logged.serialiseJourney(j),
    deserialiseJourney: (b) => logged.deserialiseJourney(b),
    serialiseLearner: (l) => logged.serialiseLearner(l),
    deserialiseLearner: (b) => logged.deserialiseLearner(b),
  };
}

interface LoggedRow {
  decision_id: string;
  customer_id: string;
  action_id: string;
  journey_stage: string;
  probability: number;
  converted: number;
}

export async function runEvaluate(ctx: ReplayContext, o: EvaluateOptions): Promise<EvaluateReport> {
  const candidate = policyDomain(o.policyFile);
  const logged = policyDomain(o.loggedPolicyFile);
  const windowHours = o.windowHours ?? 72;
  if (!Number.isInteger(windowHours) || windowHours < 1 || windowHours > 24 * 365)
    throw invalid(`--window-hours ${windowHours}: a whole number of hours, 1 to 8760`);
  const topic = ctx.topics.customerEvents;
  const range = resolveRange(topic, o.range ?? { whole: true }, await watermarksOf(ctx.admin, topic), { warm: true });
  const store = o.store ?? createClickHouse(ctx.config);
  let rows: LoggedRow[];
  try {
    // CONTROL decisions were logged but not acted on: they are not samples of the logging policy.
    rows = await store.rows<LoggedRow>(
      `SELECT decision_id, customer_id, action_id, journey_stage, probability, toUInt8(converted) AS converted
       FROM ${qualified(store.database, 'decision_outcomes')}(window_hours = {w:UInt32})
       WHERE experiment_arm != 'CONTROL' AND probability > 0 AND policy_version = {v:String}`,
      { w: windowHours, v: logged.policy.version },
    );
  } finally {
    if (!o.store) await store.close();
  }
  const byId = new Map(rows.map((r) => [r.decision_id, r]));
  const samples: Parameters<typeof sampleOffPolicyEstimate>[0][number][] = [];
  let probabilityMismatches = 0;
  let candidateSilent = 0;
  const domain = probeDomain(logged.domain, candidate.domain, (a, b) => {
    const row = byId.get(a.decisionId);
    if (!row) return;
    byId.delete(a.decisionId); // each logged decision once
    if (Math.abs(a.probability - Number(row.probability)) > 1e-9) probabilityMismatches++;
    if (!b) {
      candidateSilent++;
      return;
    }
    const dist = choiceDistribution(b, candidate.policy.arbitration.temperature);
    samples.push({
      stage: row.journey_stage,
      action: row.action_id,
      probability: Number(row.probability),
      reward: Number(row.converted),
      target: dist.find((x) => x.action === row.action_id)?.probability ?? 0,
      targetDistribution: dist,
      // One purchase rewards every decision of the customer in the window before it: intervals are clustered by customer.
      cluster: row.customer_id,
    });
  });
  const summary = await foldRange({
    kafka: ctx.kafka,
    codec: ctx.codec,
    logger: ctx.logger,
    range,
    domain,
    label: 'evaluate',
    progress: o.progress === false ? false : undefined,
    hooks: {},
  });
  const warnings: string[] = [];
  const estimate = samples.length > 0 ? sampleOffPolicyEstimate(samples) : null;
  if (!estimate)
    warnings.push(
      'no logged decision could be evaluated: are the decisions and events sunk into ClickHouse, and is --logged-policy the policy that made them?',
    );
  if (byId.size > 0)
    warnings.push(`${byId.size} of ${rows.length} logged decisions were not reproduced by the fold (outside the range, or their history is gone)`);
  if (probabilityMismatches > 0)
    warnings.push(`${probabilityMismatches} reproduced decisions had another logging probability than logged: the rebuilt context differs`);
  if (candidateSilent > 0) warnings.push(`the candidate makes no decision in ${candidateSilent} logged contexts (its triggers differ); they are left out`);
  if (estimate) warnings.push(...estimate.supportWarnings);
  return {
    ...summary,
    candidate: candidate.policy.version,
    logged: logged.policy.version,
    windowHours,
    loggedDecisions: rows.length,
    evaluated: samples.length,
    notReproduced: byId.size,
    probabilityMismatches,
    candidateSilent,
    estimate,
    warnings,
  };
}

export function renderEvaluate(r: EvaluateReport): string {
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(2)}%`);
  const ci = (i: { low: number; high: number } | null) => (i ? `[${pct(i.low)}, ${pct(i.high)}]` : '');
  const e = r.estimate;
  const lines = [
    `candidate ${r.candidate} evaluated on ${r.evaluated} of ${r.loggedDecisions} executed decisions logged by ${r.logged} (reward: conversion within ${r.windowHours} h)`,
  ];
  if (e) {
    lines.push(
      `  logging policy (observed) ${pct(e.loggingValue)}`,
      `  IPS            ${pct(e.ips)}  95% CI ${ci(e.ipsCi95)}`,
      `  SNIPS          ${pct(e.snips)}  95% CI ${ci(e.snipsCi95)}`,
      `  doubly robust  ${pct(e.doublyRobust)}  95% CI ${ci(e.doublyRobustCi95)}`,
      `  95% intervals clustered by customer (${e.clusters} customers); effective sample size ${e.effectiveSampleSize.toFixed(0)}, mean weight ${e.meanWeight.toFixed(3)}, max weight ${e.maxWeight.toFixed(2)}, zero weight ${e.zeroWeight}`,
    );
  }
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
