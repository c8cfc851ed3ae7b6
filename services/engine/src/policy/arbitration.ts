/**
 * Arbitration and selection.
 *
 *   score = propensity × (value − cost) × contextWeight × lever + benefitWeight × benefit
 *
 * (Pega's P×C×V×L with cost netted out of value, plus a customer-benefit term.) `value` in the
 * logged breakdown is the net value. benefit = base + (unhappy ? unhappy : 0) + perRecentContact ×
 * delivered contacts in the fatigue window, so do_nothing (value 0) is scored by its benefit and wins
 * more often the more a customer has been contacted. With customerFutures.valueTerm the net value is
 * scaled by the customer's predicted CLV (futures/policy.ts).
 *
 * Selection is a softmax over eligible scores, p_i = exp(s_i/T) / Σ_j exp(s_j/T), computed in closed
 * form; one uniform draw u seeded by the decision id picks the first action whose cumulative
 * probability exceeds u. The logged probability is therefore the exact probability the policy had of
 * choosing the logged action, as off-policy evaluation (IPS/SNIPS/DR) requires.
 */
import type { JourneyStage, ScoredAction } from '@nextact/core';
import type { ActionSpec, Policy, TriggerKind } from '../spec/types';
import { type LearnerState, propensity } from './learner';

export interface ScoringContext {
  policy: Policy;
  learner: LearnerState;
  stage: JourneyStage;
  trigger: TriggerKind;
  unhappy: boolean;
  /** Delivered contacts (all kinds) within the fatigue window. */
  recentContacts: number;
  /** Event time of the decision (the learner's counts decay to it). */
  now: number;
  /** Factor on every action's net value: predicted CLV as the value term (policy customerFutures.valueTerm); 1 when absent. */
  valueMultiplier?: number;
}

export function benefitOf(action: ActionSpec, ctx: ScoringContext): number {
  const b = action.benefit;
  return b.base + (ctx.unhappy ? b.unhappy : 0) + b.perRecentContact * ctx.recentContacts;
}

export function scoreAction(action: ActionSpec, ctx: ScoringContext, eligible: boolean): ScoredAction {
  const p = propensity(ctx.policy, ctx.learner, action.id, ctx.stage, ctx.now);
  const value = (action.value - action.cost) * (ctx.valueMultiplier ?? 1);
  const contextWeight = action.contextWeights[ctx.trigger] ?? 1;
  const benefit = benefitOf(action, ctx);
  const score = p * value * contextWeight * action.lever + ctx.policy.arbitration.benefitWeight * benefit;
  return { actionId: action.id, eligible, propensity: p, value, contextWeight, lever: action.lever, benefit, score };
}

/** Softmax with temperature; subtracting the max keeps exp() finite without changing the result. */
export function softmax(scores: readonly number[], temperature: number): number[] {
  const max = Math.max(...scores);
  const weights = scores.map((s) => Math.exp((s - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

/** Index chosen by inverse-CDF with uniform `u` in [0, 1). */
export function pick(probabilities: readonly number[], u: number): number {
  let cumulative = 0;
  for (let i = 0; i < probabilities.length; i++) {
    cumulative += probabilities[i] ?? 0;
    if (u < cumulative) return i;
  }
  return probabilities.length - 1; // rounding: cumulative may end a hair below 1
}
