/**
 * Beta-Bernoulli propensity per (action, journey stage), one learner per partition.
 * The learner stores only observed successes and failures; the policy's priors are added when read,
 * so a new policy version can change priors without rewriting state. Propensity = posterior mean
 * alpha / (alpha + beta) with alpha = prior.alpha + successes, beta = prior.beta + failures.
 *
 * With `learning.halfLifeDays`, counts decay by half over that much event time (each arm keeps the
 * event time its counts are as of; reads decay them to the decision's time without storing), so the
 * learner follows customers whose response changes instead of freezing on old evidence. Event
 * time keeps it replay-exact.
 *
 * Outcome rule: CLICKED and CONVERTED are successes; DISMISSED, COMPLAINED and UNSUBSCRIBED are
 * failures; DELIVERED and OPENED carry no signal. The first informative outcome of a decision is the
 * one counted (callers mark the decision learned), so a click followed by a conversion counts once.
 */
import type { JourneyStage, OutcomeKind } from '@nextact/core';
import type { BetaPrior, Policy } from '../spec/types';
import { days } from '../spec/units';

/** 2 since the Avro encoding (./learner-codec); 1 was JSON. */
export const LEARNER_SCHEMA_VERSION = 2;

export interface ArmCounts {
  successes: number;
  failures: number;
  /** Event time the counts are as of (decay); absent in learners written before decay existed. */
  at?: number;
}

export interface LearnerState {
  /** Schema version (journey/codec). */
  v: number;
  /** Key `${actionId}|${stage}`. */
  arms: Record<string, ArmCounts>;
}

export function initialLearner(): LearnerState {
  return { v: LEARNER_SCHEMA_VERSION, arms: {} };
}

const armKeys = new Map<string, Map<JourneyStage, string>>();

/** `${actionId}|${stage}`, one shared string per pair (read for every candidate of every decision). */
export function armKey(actionId: string, stage: JourneyStage): string {
  let byStage = armKeys.get(actionId);
  if (!byStage) {
    byStage = new Map();
    armKeys.set(actionId, byStage);
  }
  let key = byStage.get(stage);
  if (key === undefined) {
    key = `${actionId}|${stage}`;
    byStage.set(stage, key);
  }
  return key;
}

/** success / failure / no signal. */
export function outcomeSignal(outcome: OutcomeKind): boolean | undefined {
  switch (outcome) {
    case 'CLICKED':
    case 'CONVERTED':
      return true;
    case 'DISMISSED':
    case 'COMPLAINED':
    case 'UNSUBSCRIBED':
      return false;
    default:
      return undefined;
  }
}

export function priorFor(policy: Policy, actionId: string): BetaPrior {
  return policy.learning.actionPriors[actionId] ?? policy.learning.prior;
}

/** Weight of evidence `ageMs` old: 1 without decay, halved every half-life. */
function decay(ageMs: number, halfLifeDays: number | undefined): number {
  if (halfLifeDays === undefined || ageMs <= 0) return 1;
  return 2 ** (-ageMs / days(halfLifeDays));
}

/** The prior plus the arm's counts, decayed to `now` (event time) when the policy sets a half-life. */
export function posterior(policy: Policy, learner: LearnerState, actionId: string, stage: JourneyStage, now?: number): BetaPrior {
  const prior = priorFor(policy, actionId);
  const counts = learner.arms[armKey(actionId, stage)];
  if (!counts) return prior;
  const w = now === undefined || counts.at === undefined ? 1 : decay(now - counts.at, policy.learning.halfLifeDays);
  return { alpha: prior.alpha + w * counts.successes, beta: prior.beta + w * counts.failures };
}

export function propensity(policy: Policy, learner: LearnerState, actionId: string, stage: JourneyStage, now?: number): number {
  const { alpha, beta } = posterior(policy, learner, actionId, stage, now);
  return alpha / (alpha + beta);
}

/**
 * Returns a new learner with one observation at event time `at` added (the input is not modified).
 * Older counts decay to `at` first; a late observation (before the counts' time) is added with
 * its own decayed weight instead, so the counts' time never goes back.
 */
export function observe(learner: LearnerState, actionId: string, stage: JourneyStage, success: boolean, at: number, halfLifeDays?: number): LearnerState {
  const key = armKey(actionId, stage);
  const before = learner.arms[key] ?? { successes: 0, failures: 0, at };
  const asOf = Math.max(before.at ?? at, at);
  const kept = decay(asOf - (before.at ?? at), halfLifeDays);
  const added = decay(asOf - at, halfLifeDays);
  const after: ArmCounts = {
    successes: before.successes * kept + (success ? added : 0),
    failures: before.failures * kept + (success ? 0 : added),
    at: asOf,
  };
  return { ...learner, arms: { ...learner.arms, [key]: after } };
}
