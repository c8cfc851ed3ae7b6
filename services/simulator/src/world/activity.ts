/**
 * When customers act: activities arrive as a Poisson process thinned by the customer's local hour
 * of day; each one is a signup (the first), a consent change, a chat or a browse session, and the
 * next is queued after it ends. Inactivity moves the journey towards churn risk.
 */
import { hourlyActivity, hourlyActivityMax } from '../catalog';
import { browseSession } from './browsing';
import { chat } from './chat';
import { consentChange, signup } from './consent';
import { DAY, HOUR, type WorldContext } from './context';
import type { Customer } from './customer';
import { CONSENT_ACTIVITY_SHARE, chatChance, gapFactor } from './propensity';

/** The customer's activity due at `at`; queues their next one. */
export function activity(ctx: WorldContext, c: Customer, at: number): void {
  let end: number;
  if (!c.started) {
    c.started = true;
    end = signup(ctx, c, at);
  } else {
    checkInactivity(ctx, c, at);
    const roll = c.rng.next();
    if (roll < CONSENT_ACTIVITY_SHARE) end = consentChange(ctx, c, at);
    else if (roll < CONSENT_ACTIVITY_SHARE + chatChance(c)) end = chat(ctx, c, at);
    else end = browseSession(ctx, c, at);
  }
  ctx.schedule({ time: nextActivityTime(c, end), customer: c.index });
}

function checkInactivity(ctx: WorldContext, c: Customer, at: number): void {
  if (c.stage === 'PURCHASE') ctx.transition(c, 'RETENTION');
  const idle = at - c.lastPurchaseAt;
  if ((c.stage === 'RETENTION' && idle > 45 * DAY) || (c.stage === 'ADVOCACY' && idle > 60 * DAY)) ctx.transition(c, 'CHURN_RISK');
}

/** Next activity after `from`: a Poisson process thinned by the customer's local hour of day. */
function nextActivityTime(c: Customer, from: number): number {
  const meanMs = c.traits.meanGapHours * gapFactor(c) * HOUR;
  const offset = c.traits.utcOffsetHours * HOUR;
  let t = from;
  for (;;) {
    t += c.rng.exponential(meanMs / hourlyActivityMax);
    const localHour = Math.floor(((((t + offset) % DAY) + DAY) % DAY) / HOUR);
    if (c.rng.next() * hourlyActivityMax < (hourlyActivity[localHour] as number)) return Math.round(t);
  }
}
