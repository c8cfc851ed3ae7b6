/** Event builders and policy fixtures shared by the engine's unit tests. */
import path from 'node:path';
import type { ActionOutcome, BrowseEvent, Channel, ChatEvent, ConsentChange, CustomerEvent, OutcomeKind, PurchaseEvent, SurveyResponse } from '@nextact/core';
import { createNbaDomain } from '../../src/nba';
import { loadPolicy } from '../../src/policy/load';
import type { Policy } from '../../src/spec/types';

export const POLICY_PATH = path.join(__dirname, '../../policy/policy.yaml');
export const FIXTURES = path.join(__dirname, 'fixtures');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** Monday 2026-11-23 09:00 UTC = 10:00 in Berlin (the policy's default zone). */
export const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);
export const WALL = 1_900_000_000_000;

export function shippedPolicy(): Policy {
  return loadPolicy(POLICY_PATH);
}

/** The shipped policy with changes applied to a private copy. */
export function policyWith(change: (p: Policy) => void): Policy {
  const p = structuredClone(shippedPolicy());
  change(p);
  return p;
}

export function domainFor(policy: Policy = shippedPolicy()) {
  return createNbaDomain(policy);
}

let seq = 0;
const nextId = (prefix: string) => `${prefix}-${++seq}`;
const base = (customerId: string, eventTime: number, eventId?: string) => ({
  eventId: eventId ?? nextId('evt'),
  customerId,
  eventTime,
  source: 'test',
  schemaVersion: 1,
});

export function browse(customerId: string, at: number, over: Partial<BrowseEvent> = {}): CustomerEvent {
  const value: BrowseEvent = {
    ...base(customerId, at),
    kind: 'PRODUCT_VIEW',
    sessionId: 's1',
    url: null,
    productId: 'p1',
    category: 'shoes',
    query: null,
    ...over,
  };
  return { name: 'nextact.BrowseEvent', value };
}

export function chat(customerId: string, at: number, over: Partial<ChatEvent> = {}): CustomerEvent {
  const value: ChatEvent = {
    ...base(customerId, at),
    conversationId: 'c1',
    text: null,
    intent: 'PRODUCT_QUESTION',
    sentiment: 0.2,
    resolved: false,
    handledBy: 'BOT',
    ...over,
  };
  return { name: 'nextact.ChatEvent', value };
}

export function purchase(customerId: string, at: number, amountMinor = 5000, category = 'shoes', over: Partial<PurchaseEvent> = {}): CustomerEvent {
  const value: PurchaseEvent = {
    ...base(customerId, at),
    orderId: nextId('order'),
    lineItems: [{ sku: 'sku-1', category, quantity: 1, unitPriceMinor: amountMinor }],
    amountMinor,
    currency: 'EUR',
    channel: 'WEB',
    ...over,
  };
  return { name: 'nextact.PurchaseEvent', value };
}

export function survey(customerId: string, at: number, nps: number | null, csat: number | null = null): CustomerEvent {
  const value: SurveyResponse = { ...base(customerId, at), surveyId: 'nps-q4', nps, csat, decisionId: null, comment: null };
  return { name: 'nextact.SurveyResponse', value };
}

export function outcome(customerId: string, at: number, decisionId: string, actionId: string, channel: Channel, kind: OutcomeKind): CustomerEvent {
  const value: ActionOutcome = { ...base(customerId, at), decisionId, actionId, channel, outcome: kind, valueMinor: null };
  return { name: 'nextact.ActionOutcome', value };
}

export function consent(customerId: string, at: number, channel: Channel, granted: boolean, timeZone: string | null = null): CustomerEvent {
  const value: ConsentChange = { ...base(customerId, at), channel, granted, timeZone };
  return { name: 'nextact.ConsentChange', value };
}
