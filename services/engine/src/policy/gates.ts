/**
 * Hard gates, evaluated before any scoring: eligibility on journey state, suppression, cooldown, and
 * per channel consent, live-channel availability, quiet hours and contact caps. Each failure is a
 * reason code carried in the decision. do_nothing passes every gate.
 */
import type { Channel } from '@nextact/core';
import { mainCategoryOf } from '@nextact/core/src/main-category';
import type { JourneyState } from '../journey/state';
import { hasOpenComplaint } from '../journey/transitions';
import { constantsOf } from '../spec/derived';
import { inQuietHours } from '../spec/time';
import { type ActionSpec, CONTACT_CHANNELS, type ContactChannel, DO_NOTHING, type Policy, type TriggerKind } from '../spec/types';
import { days, hours } from '../spec/units';

export interface GateContext {
  policy: Policy;
  journey: JourneyState;
  trigger: TriggerKind;
  /** Event time of the decision. */
  now: number;
  unhappy: boolean;
}

export interface GateResult {
  eligible: boolean;
  /** The first channel that passed every channel gate (when eligible). */
  channel: Channel | null;
  reasons: string[];
}

/** Non-transactional delivered contacts inside the window ending at `now` (on the given channels). */
export function contactsInWindow(j: JourneyState, now: number, windowMs: number, channels?: readonly Channel[]): number {
  return j.contacts.filter((c) => !c.transactional && now - c.at < windowMs && (!channels || channels.includes(c.channel))).length;
}

function isContactChannel(channel: Channel): channel is ContactChannel {
  return (CONTACT_CHANNELS as readonly string[]).includes(channel);
}

function eligibilityFailures(ctx: GateContext, action: ActionSpec): string[] {
  const { journey: j, now } = ctx;
  const e = action.eligibility;
  const out: string[] = [];
  const reasons = constantsOf(ctx.policy).actionReasons.get(action.id)!;
  const fail = (why: string) => out.push(reasons.ineligible(why));
  const sincePurchase = j.rfm.lastPurchaseTime === null ? undefined : now - j.rfm.lastPurchaseTime;
  // A deferred action coming due was targeted (stage, decision point) when it was chosen; every rule
  // that protects the customer is still checked now.
  const targeting = ctx.trigger !== 'FOLLOW_UP';
  if (targeting && e.stages && !e.stages.includes(j.stage)) fail(`STAGE_${j.stage}`);
  if (targeting && e.triggers && !e.triggers.includes(ctx.trigger)) fail(`TRIGGER_${ctx.trigger}`);
  if (e.openComplaint !== undefined && e.openComplaint !== hasOpenComplaint(j, ctx.policy)) fail(e.openComplaint ? 'NO_OPEN_COMPLAINT' : 'OPEN_COMPLAINT');
  if (e.unhappy !== undefined && e.unhappy !== ctx.unhappy) fail(e.unhappy ? 'NOT_UNHAPPY' : 'UNHAPPY');
  if (e.hasInterests && j.interests.length === 0) fail('NO_INTERESTS');
  if (e.minPurchases !== undefined && j.rfm.purchaseCount < e.minPurchases) fail('MIN_PURCHASES');
  if (e.minDaysSincePurchase !== undefined && (sincePurchase === undefined || sincePurchase < days(e.minDaysSincePurchase))) fail('MIN_DAYS_SINCE_PURCHASE');
  if (e.maxDaysSincePurchase !== undefined && (sincePurchase === undefined || sincePurchase > days(e.maxDaysSincePurchase))) fail('MAX_DAYS_SINCE_PURCHASE');
  if (e.minDaysSinceSurvey !== undefined && j.lastSurveyAt !== null && now - j.lastSurveyAt < days(e.minDaysSinceSurvey)) fail('RECENT_SURVEY');
  // Customer first: where the segments report found no uplift, the action is not offered, follow-ups included.
  if (noUpliftFor(ctx.policy, action.id, j)) fail('NO_UPLIFT_IN_SEGMENT');
  return out;
}

/** Whether a policy upliftSuppressions rule covers this action for this customer's segment. */
export function noUpliftFor(policy: Policy, actionId: string, j: JourneyState): boolean {
  let mainCategory: string | null | undefined; // computed once, and only when a rule asks
  for (const rule of policy.upliftSuppressions) {
    if (rule.action !== actionId) continue;
    if (rule.stage !== undefined && rule.stage !== j.stage) continue;
    if (rule.acquisitionChannel !== undefined && rule.acquisitionChannel !== j.acquisitionChannel) continue;
    if (rule.mainCategory !== undefined) {
      if (mainCategory === undefined) mainCategory = mainCategoryOf(j.categories);
      if (rule.mainCategory !== mainCategory) continue;
    }
    return true;
  }
  return false;
}

function actionGateFailures(ctx: GateContext, action: ActionSpec): string[] {
  const { journey: j, now } = ctx;
  const out: string[] = [];
  const s = j.suppressions;
  const reasons = constantsOf(ctx.policy).actionReasons.get(action.id)!;
  if (!action.transactional && s.marketingUntil !== null && now < s.marketingUntil) out.push('GATE_SUPPRESSED:MARKETING');
  const until = s.actions[action.id];
  if (until !== undefined && now < until) out.push(reasons.suppressed);
  // Already deferred (timing experiment): choosing it again would only queue a second copy.
  if (ctx.trigger !== 'FOLLOW_UP' && j.followUps.some((f) => f.actionId === action.id)) out.push(reasons.pending);
  if (action.cooldownHours > 0) {
    const cooldown = hours(action.cooldownHours);
    if (j.contacts.some((c) => c.actionId === action.id && now - c.at < cooldown)) out.push(reasons.cooldown);
  }
  return out;
}

export function channelFailures(ctx: GateContext, channel: Channel, transactional: boolean): string[] {
  const { policy, journey: j, now } = ctx;
  const cp = policy.contactPolicy;
  const out: string[] = [];
  if (!isContactChannel(channel)) return out;
  const reasons = constantsOf(policy).channelReasons.get(channel)!;
  if (!j.consent[channel]) out.push(reasons.consentFailed);
  if (cp.liveChannels.channels.includes(channel) && !cp.liveChannels.triggers.includes(ctx.trigger)) out.push(reasons.unavailable);
  const q = cp.quietHours;
  if (q.channels.includes(channel) && inQuietHours(now, j.timeZone ?? policy.defaults.timeZone, q.start, q.end)) out.push(reasons.quietHours);
  if (!transactional) {
    const cap = cp.caps.perChannel[channel];
    if (cap && contactsInWindow(j, now, days(cap.windowDays), [channel]) >= cap.max) out.push(reasons.capChannel);
    const g = cp.caps.global;
    if (g.channels.includes(channel) && contactsInWindow(j, now, days(g.windowDays), g.channels) >= g.max) out.push('GATE_CAP_GLOBAL');
  }
  return out;
}

export function evaluateGates(ctx: GateContext, action: ActionSpec): GateResult {
  if (action.id === DO_NOTHING) return { eligible: true, channel: 'NONE', reasons: [`ELIGIBLE:${DO_NOTHING}:NONE`] };
  const ineligible = eligibilityFailures(ctx, action);
  if (ineligible.length > 0) return { eligible: false, channel: null, reasons: ineligible };
  const reasons = actionGateFailures(ctx, action);
  const actionBlocked = reasons.length > 0;
  for (const channel of action.channels) {
    const failures = channelFailures(ctx, channel, action.transactional);
    reasons.push(...failures);
    if (failures.length === 0 && !actionBlocked) {
      reasons.push(constantsOf(ctx.policy).actionReasons.get(action.id)!.eligibleOn.get(channel)!);
      return { eligible: true, channel, reasons };
    }
  }
  return { eligible: false, channel: null, reasons };
}
