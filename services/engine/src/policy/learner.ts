/**
 * Beta-Bernoulli propensity per (action, journey stage), one learner per partition.
 * The learner stores only observed successes and failures; the policy's priors are added when read,
 * so a new policy version can change priors without rewriting state. Propensity = posterior mean
 * alpha / (alpha + beta) with alpha = prior.alpha + successes, beta = prior.beta + failures.
 *
 * Outcome rule: CLICKED and CONVERTED are successes; DISMISSED, COMPLAINED and UNSUBSCRIBED are
 * failures; DELIVERED and OPENED carry no signal. The first informative outcome of a decision is the
 * one counted (callers mark the decision learned), so a click followed by a conversion counts once.
 */
import type { JourneyStage, OutcomeKind } from '@nextact/core';
import { ErrorCodes, NextActError } from '@nextact/core';
import type { BetaPrior, Policy } from './types';

export const LEARNER_SCHEMA_VERSION = 1;

export interface ArmCounts {
  successes: number;
  failures: number;
}

export interface LearnerState {
  v: number;
  /** Key `${actionId}|${stage}`. */
  arms: Record<string, ArmCounts>;
}

export function initialLearner(): LearnerState {
  return { v: LEARNER_SCHEMA_VERSION, arms: {} };
}

export function armKey(actionId: string, stage: JourneyStage): string {
  return `${actionId}|${stage}`;
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

export function posterior(policy: Policy, learner: LearnerState, actionId: string, stage: JourneyStage): BetaPrior {
  const prior = priorFor(policy, actionId);
  const counts = learner.arms[armKey(actionId, stage)];
  return { alpha: prior.alpha + (counts?.successes ?? 0), beta: prior.beta + (counts?.failures ?? 0) };
}

export function propensity(policy: Policy, learner: LearnerState, actionId: string, stage: JourneyStage): number {
  const { alpha, beta } = posterior(policy, learner, actionId, stage);
  return alpha / (alpha + beta);
}

/** Returns a new learner with one observation added (the input is not modified). */
export function observe(learner: LearnerState, actionId: string, stage: JourneyStage, success: boolean): LearnerState {
  const key = armKey(actionId, stage);
  const before = learner.arms[key] ?? { successes: 0, failures: 0 };
  const after = success ? { ...before, successes: before.successes + 1 } : { ...before, failures: before.failures + 1 };
  return { ...learner, arms: { ...learner.arms, [key]: after } };
}

export function serialiseLearner(learner: LearnerState): Buffer {
  return Buffer.from(JSON.stringify(learner), 'utf8');
}

export function deserialiseLearner(bytes: Buffer): LearnerState {
  const value = JSON.parse(bytes.toString('utf8')) as LearnerState;
  if (value?.v !== LEARNER_SCHEMA_VERSION) {
    throw new NextActError(ErrorCodes.DECODE, `learner state has schema version ${String(value?.v)}, this engine reads ${LEARNER_SCHEMA_VERSION}`);
  }
  return value;
}
