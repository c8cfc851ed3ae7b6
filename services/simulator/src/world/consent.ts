/** Consent per channel: granted at signup, changed now and then, withdrawn by an unsubscribe. */
import type { Channel, CustomerEvent } from '@nextact/core';
import type { WorldContext } from './context';
import type { Customer } from './customer';

const CONSENT_CHANNELS: readonly Channel[] = ['EMAIL', 'PUSH', 'SMS', 'WEB', 'CALL_CENTRE'];
const CONSENT_GRANT_RATE: Record<string, number> = { EMAIL: 0.9, PUSH: 0.7, SMS: 0.6, WEB: 0.95, CALL_CENTRE: 0.8 };

/** First contact: consent per channel with the customer's time zone. Returns when it ends. */
export function signup(ctx: WorldContext, c: Customer, at: number): number {
  let t = at;
  for (const channel of CONSENT_CHANNELS) {
    const granted = c.rng.chance(CONSENT_GRANT_RATE[channel] ?? 0.8);
    c.consent[channel] = granted;
    ctx.emit(c, t, consentEvent(c, ctx.eventId(c), t, channel, granted));
    t += 1_000;
  }
  return t;
}

/** A customer's own change of mind on one channel. */
export function consentChange(ctx: WorldContext, c: Customer, at: number): number {
  const channel = c.rng.pick(CONSENT_CHANNELS);
  const granted = c.consent[channel] ? !c.rng.chance(0.7) : true;
  c.consent[channel] = granted;
  ctx.emit(c, at, consentEvent(c, ctx.eventId(c), at, channel, granted));
  return at;
}

export function consentEvent(c: Customer, eventId: string, at: number, channel: Channel, granted: boolean): CustomerEvent {
  return {
    name: 'nextact.ConsentChange',
    value: {
      eventId,
      customerId: c.id,
      eventTime: at,
      source: 'sim.consent',
      schemaVersion: 1,
      channel,
      granted,
      timeZone: c.traits.timeZone,
    },
  };
}
