/**
 * What the policy's `customerFutures` options do with the model: CHURN_RISK when P(alive) falls
 * below a threshold (a timer beside the inactivity one), and predicted CLV as the value term.
 * Everything is a function of the journey, the event time and the model versions by effective
 * time, so a replay decides the same.
 */
import type { JourneyState } from '../journey/state';
import type { Policy } from '../spec/types';
import { pAliveFallsBelowAt, type ScoredFuture } from './score';
import type { ModelTimeline } from './timeline';

/**
 * When this journey enters CHURN_RISK (cause P_ALIVE): the first UTC day after its last activity on
 * which P(alive) is below the threshold, in an inactivity stage. The model is the one in force at
 * the journey's clock (its latest event time), not at the crossing: a timer is scheduled from what
 * the journey has seen, so a model that arrives later cannot move a timer already set in a live run
 * but not in a replay. A customer active since P(alive) fell is not re-entered until a purchase (or
 * their next event under a newer model) moves the crossing past that activity.
 */
export function pAliveChurnAt(policy: Policy, timeline: ModelTimeline | undefined, j: JourneyState): number | undefined {
  const rule = policy.customerFutures?.churnRisk;
  const pd = j.purchaseDays;
  const clock = j.rfm.lastEventTime;
  if (!rule || !timeline || !pd || clock === null || pd.repeatDays < rule.minRepeatPurchases) return undefined;
  if (!policy.journey.inactivityStages.includes(j.stage)) return undefined;
  const model = timeline.inForceAt(clock);
  if (!model) return undefined;
  const crossing = pAliveFallsBelowAt(pd, model, rule.pAliveBelow);
  const since = j.rfm.lastActivityTime ?? clock;
  return crossing !== undefined && crossing > since ? crossing : undefined;
}

/** The factor predicted CLV puts on every action's net value (1 without the option or a prediction). */
export function clvValueMultiplier(policy: Policy, future: ScoredFuture | undefined): number {
  const term = policy.customerFutures?.valueTerm;
  if (!term || !future || future.clv === null || !Number.isFinite(future.clv)) return 1;
  return Math.min(term.maxMultiplier, Math.max(0, future.clv / term.referenceClvMinor));
}
