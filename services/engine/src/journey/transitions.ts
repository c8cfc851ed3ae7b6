/**
 * How events and time move a journey. Everything is driven by event time. Functions here set fields
 * of the journey object they are given (a fresh shallow copy, see nba.ts) but never mutate a nested
 * object or array: those are shared with the caller's journey, so a change replaces them (copy on write).
 *
 * Stages: AWARENESS -(browse with intent)-> CONSIDERATION -(purchase)-> PURCHASE -(purchaseStageHours)->
 * RETENTION, or ADVOCACY once repeat purchases meet a promoter NPS. Complaints, negative sentiment,
 * detractor NPS / low CSAT move any stage to CHURN_RISK, and so does inactivity (timer) in the
 * configured stages. CHURN_RISK recovers on a purchase, or on a positive signal once the customer is no
 * longer unhappy (browse recovers only inactivity-driven churn risk).
 */
import type { ActionOutcome, BrowseEvent, ChatEvent, ConsentChange, CustomerEvent, JourneyStage, PurchaseEvent, SurveyResponse } from '@nextact/core';
import { eventCategory, withCategoryEvent } from '@nextact/core/src/main-category';
import { constantsOf } from '../spec/derived';
import { isValidTimeZone } from '../spec/time';
import { CONTACT_CHANNELS, type ContactChannel, type Policy } from '../spec/types';
import { DAY_MS, days, hours } from '../spec/units';
import { decisionFingerprint, eventFingerprint } from './fingerprint';
import { intern } from './intern';
import { BOUNDS, type ChurnCause, type JourneyState, listOrEmpty, NO_SUPPRESSIONS, type PurchaseDays, withConsent } from './state';

export function hasOpenComplaint(j: JourneyState, policy: Policy): boolean {
  return j.openIntents.some((i) => policy.mood.complaintIntents.includes(i.intent));
}

/** Unhappy = an open complaint, or a recent negative sentiment, detractor NPS or low CSAT. */
export function isUnhappy(j: JourneyState, policy: Policy, now: number): boolean {
  const m = policy.mood;
  const recent = (at: number) => now - at <= days(m.memoryDays);
  if (hasOpenComplaint(j, policy)) return true;
  if (j.lastSentiment && recent(j.lastSentiment.at) && j.lastSentiment.value < m.negativeSentimentBelow) return true;
  if (j.nps && recent(j.nps.at) && j.nps.score <= m.detractorNpsAtMost) return true;
  if (j.csat && recent(j.csat.at) && j.csat.score <= m.unhappyCsatAtMost) return true;
  return false;
}

export function advocacyQualified(j: JourneyState, policy: Policy): boolean {
  const a = policy.journey.advocacy;
  return j.rfm.purchaseCount >= a.minPurchases && j.nps !== null && j.nps.score >= a.minNps;
}

export function enterStage(j: JourneyState, stage: JourneyStage, at: number, cause: ChurnCause | null = null): void {
  if (j.stage === stage) {
    // Re-entering PURCHASE (another order) restarts its settling window; other stages keep their entry time.
    if (stage === 'PURCHASE') j.stageEnteredAt = at;
    return;
  }
  j.previousStage = j.stage;
  j.stage = intern(stage);
  j.stageEnteredAt = at;
  j.churnCause = stage === 'CHURN_RISK' ? cause : null;
}

function recoveryStage(j: JourneyState, policy: Policy): JourneyStage {
  if (advocacyQualified(j, policy)) return 'ADVOCACY';
  return j.rfm.purchaseCount > 0 ? 'RETENTION' : 'CONSIDERATION';
}

export interface TimeTransition {
  at: number;
  kind: 'PURCHASE_SETTLED' | 'INACTIVITY';
}

/** The next time-driven transition this journey is waiting for, if any. */
export function nextTransition(j: JourneyState, policy: Policy): TimeTransition | undefined {
  let next: TimeTransition | undefined;
  if (j.stage === 'PURCHASE' && j.stageEnteredAt !== null) {
    next = { at: j.stageEnteredAt + hours(policy.journey.purchaseStageHours), kind: 'PURCHASE_SETTLED' };
  }
  if (policy.journey.inactivityStages.includes(j.stage) && j.rfm.lastActivityTime !== null) {
    const at = j.rfm.lastActivityTime + days(policy.journey.inactivityDays);
    if (!next || at < next.at) next = { at, kind: 'INACTIVITY' };
  }
  return next;
}

/** Applies every time transition due at or before `now`, in time order. Terminates: each one leaves the stage that armed it. */
export function advanceTo(j: JourneyState, policy: Policy, now: number): TimeTransition[] {
  const fired: TimeTransition[] = [];
  for (let due = nextTransition(j, policy); due && due.at <= now; due = nextTransition(j, policy)) {
    if (due.kind === 'PURCHASE_SETTLED') enterStage(j, advocacyQualified(j, policy) ? 'ADVOCACY' : 'RETENTION', due.at);
    else enterStage(j, 'CHURN_RISK', due.at, 'INACTIVITY');
    fired.push(due);
  }
  return fired;
}

/** Drops state that can no longer matter as of the journey clock: expired suppressions, stale intents, old contacts. */
export function prune(j: JourneyState, policy: Policy): void {
  const now = j.rfm.lastEventTime;
  if (now === null) return;
  const s = j.suppressions;
  let expired = s.marketingUntil !== null && s.marketingUntil <= now;
  for (const action in s.actions) if (s.actions[action]! <= now) expired = true;
  if (expired) {
    const actions = Object.fromEntries(Object.entries(s.actions).filter(([, until]) => until > now));
    const marketingUntil = s.marketingUntil !== null && s.marketingUntil <= now ? null : s.marketingUntil;
    j.suppressions = marketingUntil === null && Object.keys(actions).length === 0 ? NO_SUPPRESSIONS : { actions, marketingUntil };
  }
  // Rebuilt only when something is dropped: prune runs on every event.
  const intentAge = days(policy.journey.openIntentMaxDays);
  if (j.openIntents.some((i) => now - i.updatedAt >= intentAge)) j.openIntents = listOrEmpty(j.openIntents.filter((i) => now - i.updatedAt < intentAge));
  const retention = constantsOf(policy).contactRetentionMs;
  if (j.contacts.length > BOUNDS.contacts || j.contacts.some((c) => now - c.at >= retention)) {
    j.contacts = listOrEmpty(j.contacts.filter((c) => now - c.at < retention).slice(-BOUNDS.contacts));
  }
}

/** Every event moves the clock, so `rfm` is copied here once per event (applyEvent's first step). */
function touch(j: JourneyState, at: number, activity: boolean): void {
  const r = { ...j.rfm };
  r.lastEventTime = Math.max(r.lastEventTime ?? at, at);
  if (activity) r.lastActivityTime = Math.max(r.lastActivityTime ?? at, at);
  j.rfm = r;
  if (j.stageEnteredAt === null) j.stageEnteredAt = at;
}

function addInterest(j: JourneyState, category: string | null): void {
  if (!category) return;
  j.interests = [intern(category), ...j.interests.filter((c) => c !== category)].slice(0, BOUNDS.interests);
}

function onBrowse(j: JourneyState, policy: Policy, e: BrowseEvent): void {
  touch(j, e.eventTime, true);
  addInterest(j, e.category);
  if (!policy.journey.considerationKinds.includes(e.kind)) return;
  if (j.stage === 'AWARENESS') enterStage(j, 'CONSIDERATION', e.eventTime);
  else if (j.stage === 'CHURN_RISK' && (j.churnCause === 'INACTIVITY' || j.churnCause === 'P_ALIVE') && !isUnhappy(j, policy, e.eventTime))
    enterStage(j, recoveryStage(j, policy), e.eventTime);
}

function onChat(j: JourneyState, policy: Policy, e: ChatEvent): void {
  touch(j, e.eventTime, true);
  if (!j.lastSentiment || e.eventTime >= j.lastSentiment.at) j.lastSentiment = { value: e.sentiment, at: e.eventTime };
  const others = j.openIntents.filter((i) => i.conversationId !== e.conversationId);
  const mine = j.openIntents.filter((i) => i.conversationId === e.conversationId);
  if (e.resolved) {
    j.openIntents = listOrEmpty(others);
  } else {
    const existing = mine.find((i) => i.intent === e.intent);
    const updated = mine.filter((i) => i.intent !== e.intent).map((i) => ({ ...i, sentiment: e.sentiment, updatedAt: Math.max(i.updatedAt, e.eventTime) }));
    updated.push({
      conversationId: e.conversationId,
      intent: intern(e.intent),
      sentiment: e.sentiment,
      openedAt: existing?.openedAt ?? e.eventTime,
      updatedAt: e.eventTime,
    });
    j.openIntents = [...others, ...updated].slice(-BOUNDS.openIntents);
  }
  const m = policy.mood;
  if (m.complaintIntents.includes(e.intent)) j.lastComplaintAt = Math.max(j.lastComplaintAt ?? e.eventTime, e.eventTime);
  if (!e.resolved && m.complaintIntents.includes(e.intent)) enterStage(j, 'CHURN_RISK', e.eventTime, 'COMPLAINT');
  else if (e.sentiment < m.negativeSentimentBelow) enterStage(j, 'CHURN_RISK', e.eventTime, 'SENTIMENT');
  else if (j.stage === 'CHURN_RISK' && !isUnhappy(j, policy, e.eventTime)) enterStage(j, recoveryStage(j, policy), e.eventTime);
}

function onPurchase(j: JourneyState, policy: Policy, e: PurchaseEvent): void {
  touch(j, e.eventTime, true);
  const r = j.rfm; // touch's fresh copy
  const halfLife = days(policy.journey.frequencyHalfLifeDays);
  if (r.frequencyAt === null || e.eventTime >= r.frequencyAt) {
    const decay = r.frequencyAt === null ? 0 : 2 ** (-(e.eventTime - r.frequencyAt) / halfLife);
    r.frequency = r.frequency * decay + 1;
    r.frequencyAt = e.eventTime;
  } else {
    // A late order adds its contribution as of the current reference time.
    r.frequency += 2 ** (-(r.frequencyAt - e.eventTime) / halfLife);
  }
  r.purchaseCount += 1;
  r.monetaryMinor += e.amountMinor;
  r.lastPurchaseTime = Math.max(r.lastPurchaseTime ?? e.eventTime, e.eventTime);
  for (const item of e.lineItems) addInterest(j, item.category);
  if (j.purchaseDays === null || utcDay(e.eventTime) < j.purchaseDays.firstDay) j.acquisitionChannel = intern(e.channel);
  j.purchaseDays = withPurchase(j.purchaseDays, e.eventTime, e.amountMinor);
  enterStage(j, 'PURCHASE', e.eventTime);
}

/** UTC day of an event time, as ClickHouse's toDate: the customer-futures summaries' unit. */
export const utcDay = (at: number): number => Math.floor(at / DAY_MS);

/**
 * The purchase-day summary after one more order (a new object). Exact when a customer's orders arrive
 * in day order, as one partition delivers them. A late order on the first or the last day joins that
 * day; one before the first day makes it the first (the old first day becomes a repeat day); one
 * between the first and the last day is counted as a repeat day of its own (the journey keeps no
 * set of days, so a second late order on such a day is counted again).
 */
export function withPurchase(pd: PurchaseDays | null, at: number, amountMinor: number): PurchaseDays {
  const day = utcDay(at);
  if (pd === null) return { firstDay: day, lastDay: day, repeatDays: 0, firstDaySpendMinor: amountMinor, repeatSpendMinor: 0 };
  if (day === pd.firstDay) return { ...pd, firstDaySpendMinor: pd.firstDaySpendMinor + amountMinor };
  if (day < pd.firstDay)
    return {
      firstDay: day,
      lastDay: pd.lastDay,
      repeatDays: pd.repeatDays + 1,
      firstDaySpendMinor: amountMinor,
      repeatSpendMinor: pd.repeatSpendMinor + pd.firstDaySpendMinor,
    };
  if (day === pd.lastDay) return { ...pd, repeatSpendMinor: pd.repeatSpendMinor + amountMinor };
  return { ...pd, lastDay: Math.max(pd.lastDay, day), repeatDays: pd.repeatDays + 1, repeatSpendMinor: pd.repeatSpendMinor + amountMinor };
}

function onSurvey(j: JourneyState, policy: Policy, e: SurveyResponse): void {
  touch(j, e.eventTime, true);
  if (e.nps !== null) j.nps = { score: e.nps, at: e.eventTime };
  if (e.csat !== null) j.csat = { score: e.csat, at: e.eventTime };
  j.lastSurveyAt = Math.max(j.lastSurveyAt ?? e.eventTime, e.eventTime);
  const m = policy.mood;
  const detractor = (e.nps !== null && e.nps <= m.detractorNpsAtMost) || (e.csat !== null && e.csat <= m.unhappyCsatAtMost);
  if (detractor) enterStage(j, 'CHURN_RISK', e.eventTime, 'DETRACTOR');
  else if (j.stage === 'CHURN_RISK' && !isUnhappy(j, policy, e.eventTime)) enterStage(j, recoveryStage(j, policy), e.eventTime);
  else if (j.stage === 'RETENTION' && advocacyQualified(j, policy)) enterStage(j, 'ADVOCACY', e.eventTime);
}

function isContactChannel(channel: string): channel is ContactChannel {
  return (CONTACT_CHANNELS as readonly string[]).includes(channel);
}

function onOutcome(j: JourneyState, policy: Policy, e: ActionOutcome): void {
  touch(j, e.eventTime, e.outcome === 'CLICKED' || e.outcome === 'CONVERTED');
  const s = policy.contactPolicy.suppression;
  const current = j.suppressions;
  switch (e.outcome) {
    case 'DISMISSED': {
      const until = e.eventTime + days(s.dismissedDays);
      const actionId = intern(e.actionId);
      j.suppressions = { ...current, actions: { ...current.actions, [actionId]: Math.max(current.actions[actionId] ?? until, until) } };
      break;
    }
    case 'COMPLAINED': {
      const until = e.eventTime + days(s.complainedDays);
      j.suppressions = { ...current, marketingUntil: Math.max(current.marketingUntil ?? until, until) };
      break;
    }
    case 'UNSUBSCRIBED':
      if (isContactChannel(e.channel)) j.consent = withConsent(j.consent, e.channel, false);
      break;
    default:
      break;
  }
  const id = decisionFingerprint(e.decisionId);
  if (j.recentDecisions.some((d) => d.id === id)) {
    const outcome = intern(e.outcome);
    j.recentDecisions = j.recentDecisions.map((d) => (d.id === id ? { ...d, outcome } : d));
  }
}

function onConsent(j: JourneyState, e: ConsentChange): void {
  touch(j, e.eventTime, false);
  if (isContactChannel(e.channel)) j.consent = withConsent(j.consent, e.channel, e.granted);
  if (e.timeZone && isValidTimeZone(e.timeZone)) j.timeZone = intern(e.timeZone);
}

/** Whether this event id is in the journey's dedupe window (a duplicate delivery). */
export function seenBefore(j: JourneyState, eventId: string): boolean {
  return j.seenEvents.includes(eventFingerprint(eventId));
}

/**
 * Remembers an event id as of the journey clock (call it once the event has advanced the clock);
 * false when it was already processed. Entries remembered more than BOUNDS.seenEventsWindowMs of
 * journey time ago, and the oldest beyond BOUNDS.seenEvents, are forgotten. The clock, not the
 * event's own time, dates an entry, so a late event is still caught when its retry follows it.
 */
export function rememberEvent(j: JourneyState, eventId: string, clock: number): boolean {
  const fingerprint = eventFingerprint(eventId);
  if (j.seenEvents.includes(fingerprint)) return false;
  let from = Math.max(0, j.seenEvents.length + 1 - BOUNDS.seenEvents);
  while (from < j.seenEventsAt.length && clock - j.seenEventsAt[from]! > BOUNDS.seenEventsWindowMs) from++;
  // New arrays of exact length: push would leave spare capacity in every journey.
  j.seenEvents = [...j.seenEvents.slice(from), fingerprint];
  j.seenEventsAt = [...j.seenEventsAt.slice(from), clock];
  return true;
}

/** Applies one customer event's state changes (not learning, not deciding). */
export function applyEvent(j: JourneyState, policy: Policy, event: CustomerEvent): void {
  // The main category's counts, as the segments report defines them (core's main-category).
  const category = eventCategory(event);
  if (category) j.categories = withCategoryEvent(j.categories, intern(category));
  switch (event.name) {
    case 'nextact.BrowseEvent':
      onBrowse(j, policy, event.value);
      break;
    case 'nextact.ChatEvent':
      onChat(j, policy, event.value);
      break;
    case 'nextact.PurchaseEvent':
      onPurchase(j, policy, event.value);
      break;
    case 'nextact.SurveyResponse':
      onSurvey(j, policy, event.value);
      break;
    case 'nextact.ActionOutcome':
      onOutcome(j, policy, event.value);
      break;
    case 'nextact.ConsentChange':
      onConsent(j, event.value);
      break;
  }
  prune(j, policy);
}
