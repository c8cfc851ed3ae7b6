/**
 * Off-policy evaluation: what a candidate policy would have earned on the logged decisions (IPS
 * and SNIPS with intervals, effective sample size). The per-group sums come from a view created by
 * the migrations; the estimators are in stats.ts.
 */
import { type ClickHouse, qualified } from '../store/clickhouse';
import { num, positiveInt } from '../store/values';
import { type Coverage, dataCoverage } from './coverage';
import { ci, pct } from './format';
import { type CandidatePolicy, type OpeEstimate, type OpeGroup, offPolicyEstimate, opeExplanation } from './stats';

export interface OpeReport {
  windowHours: number;
  /** Reward: conversion within the window after the decision. */
  reward: string;
  /** Journey stages evaluated: those the candidate mapping names (all for a function or the default). */
  stages: string[];
  groups: OpeGroup[];
  /** Null estimate when no executed decision falls in the evaluated stages yet. */
  candidate: { name: string; estimate: OpeEstimate | null };
  /** Sanity check: the logging policy's observed value (mean reward of executed decisions). */
  loggingValue: number | null;
  /** What IPS, SNIPS and effective sample size mean, in one line. */
  explanation: string;
  coverage: Coverage;
}

export async function opeInputs(store: ClickHouse, windowHours: number): Promise<OpeGroup[]> {
  const rows = await store.rows<Record<string, unknown>>(
    `SELECT * FROM ${qualified(store.database, 'ope_inputs')}(window_hours = {w:UInt32}) ORDER BY journey_stage, action_id`,
    { w: windowHours },
  );
  return rows.map((r) => ({
    stage: String(r.journey_stage),
    action: String(r.action_id),
    n: num(r.n),
    rewards: num(r.rewards),
    sumInvP: num(r.sum_inv_p),
    sumRInvP: num(r.sum_r_inv_p),
    sumInvP2: num(r.sum_inv_p2),
    sumRInvP2: num(r.sum_r_inv_p2),
  }));
}

/** Uniform over the actions logged in each stage: the default candidate when none is given. */
export function uniformPolicy(groups: OpeGroup[]): Record<string, Record<string, number>> {
  const actions = new Map<string, Set<string>>();
  for (const g of groups) actions.set(g.stage, (actions.get(g.stage) ?? new Set()).add(g.action));
  return Object.fromEntries([...actions].map(([stage, set]) => [stage, Object.fromEntries([...set].map((a) => [a, 1 / set.size]))]));
}

/** Checks a stage -> action -> probability map: probabilities in [0, 1], each stage summing to at most 1. */
export function parsePolicy(input: unknown): Record<string, Record<string, number>> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new RangeError('policy must be an object: stage -> { action: probability }');
  const out: Record<string, Record<string, number>> = {};
  for (const [stage, actions] of Object.entries(input)) {
    if (typeof actions !== 'object' || actions === null || Array.isArray(actions))
      throw new RangeError(`policy.${stage} must be an object: action -> probability`);
    let total = 0;
    out[stage] = {};
    for (const [action, p] of Object.entries(actions)) {
      if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`policy.${stage}.${action} must be a probability in [0, 1]`);
      total += p;
      out[stage][action] = p;
    }
    if (total > 1 + 1e-9) throw new RangeError(`policy.${stage} probabilities sum to ${total}, more than 1`);
  }
  return out;
}

export async function opeReport(store: ClickHouse, options: { windowHours?: number; policy?: CandidatePolicy; policyName?: string } = {}): Promise<OpeReport> {
  const windowHours = positiveInt(options.windowHours ?? 72, 'windowHours', 24 * 365);
  const all = await opeInputs(store, windowHours);
  // A mapping covers the stages it names; the others are not evaluated (a function covers all).
  const policy = options.policy;
  const groups = policy && typeof policy !== 'function' ? all.filter((g) => Object.hasOwn(policy, g.stage)) : all;
  const estimate = groups.length === 0 ? null : offPolicyEstimate(groups, policy ?? uniformPolicy(groups));
  return {
    windowHours,
    reward: `conversion within ${windowHours} h of the decision`,
    stages: [...new Set(groups.map((g) => g.stage))].sort(),
    groups,
    candidate: { name: options.policyName ?? (options.policy ? 'given' : 'uniform over logged actions per stage'), estimate },
    loggingValue: estimate?.loggingValue ?? null,
    explanation: opeExplanation,
    coverage: await dataCoverage(store),
  };
}

export function renderOpe(r: OpeReport): string {
  const e = r.candidate.estimate;
  if (!e) return `Off-policy evaluation: no executed decisions${r.stages.length ? ` in ${r.stages.join(', ')}` : ''} yet\n`;
  return [
    `Off-policy evaluation (reward: ${r.reward}; ${e.n} executed decisions in ${r.stages.join(', ')})`,
    `  what it means: ${r.explanation}`,
    `  logging policy value (observed): ${pct(r.loggingValue)}`,
    `  candidate: ${r.candidate.name}`,
    `    IPS   ${pct(e.ips)}  95% CI ${ci(e.ipsCi95, pct)}`,
    `    SNIPS ${pct(e.snips)}  95% CI ${ci(e.snipsCi95, pct)}`,
    `    effective sample size ${e.effectiveSampleSize.toFixed(0)} of ${e.n}, mean weight ${e.meanWeight.toFixed(3)}`,
    e.reliable ? '    support: adequate' : `    UNRELIABLE (poor support): ${e.supportWarnings.join('; ')}`,
    '',
  ].join('\n');
}
