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
 * When this journey enters CHURN_RISK (cause P_ALIVE): the first time after its last activity at
 * which P(alive) under the model then in force is below the threshold, if it is in an inactivity
 * stage. A customer active since P(alive) fell is not re-entered until a purchase or a new model
 * moves the crossing past that activity.
 */
export function pAliveChurnAt(policy: Policy, timeline: ModelTimeline | undefined, j: JourneyState): number | undefined {
  const rule = policy.customerFutures?.churnRisk;
  const pd = j.purchaseDays;
  if (!rule || !timeline || timeline.size === 0 || !pd || pd.repeatDays < rule.minRepeatPurchases) return undefined;
  if (!policy.journey.inactivityStages.includes(j.stage)) return undefined;
  const since = j.rfm.lastActivityTime ?? j.rfm.lastEventTime;
  if (since === null) return undefined;
  for (const segment of timeline.segmentsFrom(since)) {
    const crossing = pAliveFallsBelowAt(pd, segment.model, rule.pAliveBelow);
    if (crossing === undefined) continue;
    const at = Math.max(crossing, segment.from);
    if (at > since && at < segment.until) return at;
  }
  return undefined;
}

/** The factor predicted CLV puts on every action's net value (1 without the option or a prediction). */
export function clvValueMultiplier(policy: Policy, future: ScoredFuture | undefined): number {
  const term = policy.customerFutures?.valueTerm;
  if (!term || !future || future.clv === null || !Number.isFinite(future.clv)) return 1;
  return Math.min(term.maxMultiplier, Math.max(0, future.clv / term.referenceClvMinor));
}
