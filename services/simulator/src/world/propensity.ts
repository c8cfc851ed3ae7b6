/**
 * How likely a customer is to do what, by journey stage: the activity mix, the chance that a browse
 * session ends in a purchase, and from those the world's own baseline P(purchase within a window).
 */
import { HOUR } from './context';
import type { Customer } from './customer';

/** Share of a started customer's activities that are consent changes. */
export const CONSENT_ACTIVITY_SHARE = 0.015;

/** Chance that a browse session ends in a purchase, by stage (none when a process drives purchases). */
export function purchaseChance(c: Customer): number {
  if (c.process) return 0;
  const t = c.traits;
  const base = t.basePropensity * (1 - 0.3 * t.priceSensitivity);
  switch (c.stage) {
    case 'AWARENESS':
      return base * 0.15;
    case 'CONSIDERATION':
      return base;
    case 'PURCHASE':
    case 'RETENTION':
      return base * 0.6;
    case 'ADVOCACY':
      return base * 0.8;
    case 'CHURN_RISK':
      return base * 0.3;
  }
}

/** Share of activities that are chats. */
export function chatChance(c: Customer): number {
  const extra = c.stage === 'PURCHASE' || c.stage === 'RETENTION' ? 0.05 : c.stage === 'CHURN_RISK' ? 0.08 : 0;
  return 0.04 + 0.12 * c.traits.serviceProneness + extra;
}

/** Stretch of the mean gap between activities: customers at risk or only aware come back less often. */
export function gapFactor(c: Customer): number {
  return c.stage === 'CHURN_RISK' ? 2 : c.stage === 'AWARENESS' ? 1.5 : 1;
}

/**
 * The world's own estimate of P(the customer buys within `hours` of `at`) with no intervention:
 * the session in progress may still end in a purchase, then sessions arrive at the customer's
 * rate (the daily rhythm integrates out over whole days).
 */
export function baselinePurchaseProbability(c: Customer, at: number, hours: number): number {
  const until = at + hours * HOUR;
  if (c.plannedPurchaseAt !== null && c.plannedPurchaseAt >= at && c.plannedPurchaseAt <= until) return 1;
  if (c.process) return c.process.alive ? 1 - Math.exp((-c.process.traits.lambda * hours) / 24) : 0;
  const pi = purchaseChance(c);
  const browseShare = 1 - CONSENT_ACTIVITY_SHARE - chatChance(c);
  const perHour = (browseShare * pi) / (c.traits.meanGapHours * gapFactor(c));
  let pNone = Math.exp(-perHour * hours);
  if (c.pendingCheckoutAt !== null && c.pendingCheckoutAt >= at && c.pendingCheckoutAt <= until) pNone *= 1 - pi;
  return 1 - pNone;
}
