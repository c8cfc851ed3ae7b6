/**
 * Per-customer journey state, stored in the changelog (so: plain data, schema version `v`; the
 * encoding is in ./codec, schema schemas/Journey.avsc).
 *
 * Bounds (state must not grow with a customer's history):
 * - seenEvents: fingerprints of processed event ids, at most 64 and none remembered more than an hour
 *   of the journey's event time ago. Duplicates come from upstream retries, seconds to minutes apart;
 *   the hour leaves a wide margin, and the count bounds a burst (a chat session) within the hour;
 * - contacts: last 50 delivered contacts, and none older than the longest of cap windows,
 *   cooldowns and the fatigue window (caps therefore allow at most 50 per window: the schema enforces it);
 * - recentDecisions: last 20 decisions (outcomes older than that are not learned from);
 * - interests: 10 most recent categories (LRU);
 * - openIntents: 10 open chat intents, each forgotten after policy journey.openIntentMaxDays;
 * - suppressions: one expiry per action plus one for marketing, expired entries dropped;
 * - experiments: one arm per experiment id ever configured;
 * - followUps: 5 deferred actions (timing experiments), the oldest dropped beyond that;
 * - categories: events per category for at most MAIN_CATEGORY_MAX_DISTINCT (16) categories, then
 *   none (no main category, see core's main-category).
 *
 * Heap: ids in the histories are 52-bit fingerprints (numbers, see ./fingerprint), enum-like strings
 * are interned, and `consent`, `experiments`, empty `suppressions` and empty lists are shared
 * immutable objects, replaced, never mutated.
 */
import type { Channel, ChatIntent, ExperimentArm, JourneyStage, OutcomeKind } from '@nextact/core';
import { type CategoryCounts, NO_CATEGORIES, TOO_MANY_CATEGORIES } from '@nextact/core/src/main-category';
import { CONTACT_CHANNELS, type ContactChannel, type Policy } from '../spec/types';
import { decisionFingerprint, eventFingerprint } from './fingerprint';
import { intern, internOrNull } from './intern';

/** 4 since categories (main category), 3 since purchaseDays (customer futures); 2 was the first Avro version; 1 was JSON. */
export const JOURNEY_SCHEMA_VERSION = 4;

export const BOUNDS = {
  seenEvents: 64,
  seenEventsWindowMs: 3_600_000,
  contacts: 50,
  recentDecisions: 20,
  interests: 10,
  openIntents: 10,
  followUps: 5,
} as const;

export type ChurnCause = 'INACTIVITY' | 'COMPLAINT' | 'SENTIMENT' | 'DETRACTOR' | 'P_ALIVE';

export interface OpenIntent {
  conversationId: string;
  intent: ChatIntent;
  /** Sentiment of the conversation's latest message. */
  sentiment: number;
  openedAt: number;
  updatedAt: number;
}

export interface Contact {
  at: number;
  channel: Channel;
  actionId: string;
  transactional: boolean;
}

export interface RecentDecision {
  /** The decision id's fingerprint (./fingerprint): outcomes are matched by it. */
  id: number;
  actionId: string;
  /** Journey stage at decision time: the learner's context. */
  stage: JourneyStage;
  at: number;
  deliver: boolean;
  /** Latest outcome reported for it. */
  outcome: OutcomeKind | null;
  /** Already counted by the learner (each decision counts at most once). */
  learned: boolean;
}

/**
 * The customer-futures summary (docs/clv.md) kept as analytics computes it, on UTC purchase days:
 * x = repeatDays, t_x = lastDay − firstDay, T = day(now) − firstDay, mean spend = repeatSpendMinor / x.
 * O(1) per purchase; replaced (copy on write), never mutated.
 */
export interface PurchaseDays {
  /** UTC day (days since 1970-01-01) of the first purchase. */
  firstDay: number;
  lastDay: number;
  /** Purchase days after the first (several orders on one day count once). */
  repeatDays: number;
  /** Order total of the first purchase day: Gamma-Gamma leaves it out of the repeat spend. */
  firstDaySpendMinor: number;
  repeatSpendMinor: number;
}

/** An action deferred by a timing experiment's CONTROL arm, decided again (gates only) when due. */
export interface FollowUp {
  /** Event time it is due. */
  at: number;
  actionId: string;
  experimentId: string;
  /** The deferring decision: the follow-up's trigger id is derived from it. */
  decisionId: string;
}

export interface JourneyState {
  v: number;
  customerId: string;
  stage: JourneyStage;
  previousStage: JourneyStage | null;
  /** Event time the current stage was entered; null before the first event. */
  stageEnteredAt: number | null;
  churnCause: ChurnCause | null;
  rfm: {
    /** Latest event time of any event (the journey's clock). */
    lastEventTime: number | null;
    /** Latest customer-initiated activity (browse, chat, purchase, survey, click/conversion): drives inactivity. */
    lastActivityTime: number | null;
    lastPurchaseTime: number | null;
    purchaseCount: number;
    /** Sum of order totals in minor units (currencies are not converted). */
    monetaryMinor: number;
    /** Purchases with exponential decay (half-life in the policy), as of frequencyAt. */
    frequency: number;
    frequencyAt: number | null;
  };
  /** Most recent first. */
  interests: string[];
  openIntents: OpenIntent[];
  lastSentiment: { value: number; at: number } | null;
  nps: { score: number; at: number } | null;
  csat: { score: number; at: number } | null;
  lastSurveyAt: number | null;
  /** Latest chat event with a complaint intent (mood.complaintIntents), resolved or not. */
  lastComplaintAt: number | null;
  /** Shared and frozen (one object per combination): replace it with `withConsent`, never mutate. */
  consent: Consent;
  timeZone: string | null;
  /** Oldest first. */
  contacts: Contact[];
  suppressions: { actions: Record<string, number>; marketingUntil: number | null };
  /** Replaced (copy on write) when an arm is assigned, never mutated: journeys share it. */
  experiments: Readonly<Record<string, Exclude<ExperimentArm, 'NONE'>>>;
  /** Oldest first. */
  recentDecisions: RecentDecision[];
  /** Fingerprints of processed event ids, oldest first. */
  seenEvents: number[];
  /** The journey clock (latest event time) when each of seenEvents was processed. */
  seenEventsAt: number[];
  /** Earliest due first. */
  followUps: FollowUp[];
  /**
   * Always null now: erasure deletes the journey (a changelog tombstone). Set only in marker
   * journeys that erasures left before they deleted (the id and this time, nothing else); the
   * next event of such an id deletes the marker (nba.ts). Kept in the schema for those records.
   */
  erasedAt: number | null;
  /** Null before the first purchase. */
  purchaseDays: PurchaseDays | null;
  /** Sales channel of the first purchase (a segment the policy can match); null before it. */
  acquisitionChannel: string | null;
  /**
   * Browse and purchase events per category: the main category (a segment the policy can match),
   * defined in core's main-category as the segments report computes it. Replaced, never mutated;
   * journeys without one share NO_CATEGORIES.
   */
  categories: CategoryCounts;
}

export type Consent = Readonly<Record<ContactChannel, boolean>>;

const consents = new Map<number, Consent>();

/** The one shared, frozen consent object with these grants. */
export function sharedConsent(consent: Record<ContactChannel, boolean>): Consent {
  let bits = 0;
  for (let i = 0; i < CONTACT_CHANNELS.length; i++) if (consent[CONTACT_CHANNELS[i]!]) bits |= 1 << i;
  let shared = consents.get(bits);
  if (!shared) {
    shared = Object.freeze(Object.fromEntries(CONTACT_CHANNELS.map((c, i) => [c, (bits & (1 << i)) !== 0])) as Record<ContactChannel, boolean>);
    consents.set(bits, shared);
  }
  return shared;
}

export function withConsent(consent: Consent, channel: ContactChannel, granted: boolean): Consent {
  return consent[channel] === granted ? consent : sharedConsent({ ...consent, [channel]: granted });
}

const NO_EXPERIMENTS: JourneyState['experiments'] = Object.freeze({});

const EMPTY: readonly never[] = Object.freeze([]);

/** The list itself, or when it is empty the one shared, frozen empty list (a JS array costs 32 bytes even empty). */
export function listOrEmpty<T>(list: T[]): T[] {
  return list.length === 0 ? (EMPTY as unknown as T[]) : list;
}

/** Most journeys have no suppression: they share this one (suppressions are replaced, never mutated). */
export const NO_SUPPRESSIONS: JourneyState['suppressions'] = Object.freeze({ actions: Object.freeze({}), marketingUntil: null });

export function initialJourney(policy: Policy, customerId: string): JourneyState {
  return {
    v: JOURNEY_SCHEMA_VERSION,
    customerId,
    stage: 'AWARENESS',
    previousStage: null,
    stageEnteredAt: null,
    churnCause: null,
    rfm: {
      lastEventTime: null,
      lastActivityTime: null,
      lastPurchaseTime: null,
      purchaseCount: 0,
      monetaryMinor: 0,
      frequency: 0,
      frequencyAt: null,
    },
    interests: listOrEmpty([]),
    openIntents: listOrEmpty([]),
    lastSentiment: null,
    nps: null,
    csat: null,
    lastSurveyAt: null,
    lastComplaintAt: null,
    consent: sharedConsent(policy.defaults.consent),
    timeZone: null,
    contacts: listOrEmpty([]),
    suppressions: NO_SUPPRESSIONS,
    experiments: NO_EXPERIMENTS,
    recentDecisions: listOrEmpty([]),
    seenEvents: listOrEmpty([]),
    seenEventsAt: listOrEmpty([]),
    followUps: listOrEmpty([]),
    erasedAt: null,
    purchaseDays: null,
    acquisitionChannel: null,
    categories: NO_CATEGORIES,
  };
}

/** Decoded strings and objects replaced by their shared instances (see the module comment). */
export function shareStrings(j: JourneyState): JourneyState {
  // Absent in records written before erasure (resp. customer futures) existed.
  j.erasedAt ??= null;
  j.purchaseDays ??= null;
  j.acquisitionChannel = internOrNull(j.acquisitionChannel ?? null);
  // Absent before version 4 (the resolver's default is a fresh empty record): those count from now on.
  const categories = j.categories ?? NO_CATEGORIES;
  j.categories = categories.overflow
    ? TOO_MANY_CATEGORIES
    : categories.names.length === 0
      ? NO_CATEGORIES
      : { names: categories.names.map(intern), counts: categories.counts, overflow: false };
  j.stage = intern(j.stage);
  j.previousStage = internOrNull(j.previousStage);
  j.churnCause = internOrNull(j.churnCause);
  j.interests = listOrEmpty(j.interests.map(intern));
  j.openIntents = listOrEmpty(j.openIntents);
  j.contacts = listOrEmpty(j.contacts);
  j.recentDecisions = listOrEmpty(j.recentDecisions);
  j.followUps = listOrEmpty(j.followUps);
  for (const i of j.openIntents) i.intent = intern(i.intent);
  j.consent = sharedConsent(j.consent);
  j.timeZone = internOrNull(j.timeZone);
  for (const c of j.contacts) {
    c.channel = intern(c.channel);
    c.actionId = intern(c.actionId);
  }
  if (j.suppressions.marketingUntil === null && Object.keys(j.suppressions.actions).length === 0) j.suppressions = NO_SUPPRESSIONS;
  const experiments = Object.entries(j.experiments);
  j.experiments = experiments.length === 0 ? NO_EXPERIMENTS : Object.fromEntries(experiments.map(([id, arm]) => [intern(id), intern(arm)]));
  for (const d of j.recentDecisions) {
    d.actionId = intern(d.actionId);
    d.stage = intern(d.stage);
    d.outcome = internOrNull(d.outcome);
  }
  for (const f of j.followUps) {
    f.actionId = intern(f.actionId);
    f.experimentId = intern(f.experimentId);
  }
  return j;
}

/** Version 1 (JSON, until 2026-12): event and decision ids as strings, a 256-id dedupe window. */
export interface JourneyStateV1
  extends Omit<
    JourneyState,
    | 'v'
    | 'recentDecisions'
    | 'seenEvents'
    | 'seenEventsAt'
    | 'followUps'
    | 'lastComplaintAt'
    | 'erasedAt'
    | 'purchaseDays'
    | 'acquisitionChannel'
    | 'categories'
  > {
  v: 1;
  recentDecisions: (Omit<RecentDecision, 'id'> & { decisionId: string; channel: Channel })[];
  recentEventIds: string[];
  lastComplaintAt?: number | null;
  followUps?: FollowUp[];
  erasedAt?: number | null;
}

/**
 * A version-1 journey in today's shape. Its last BOUNDS.seenEvents event ids stay remembered, as of
 * the journey clock (their own times were not kept).
 */
export function fromV1(old: JourneyStateV1): JourneyState {
  const { recentEventIds, recentDecisions, ...rest } = old;
  const seenEvents = recentEventIds.slice(-BOUNDS.seenEvents).map(eventFingerprint);
  const clock = old.rfm.lastEventTime ?? 0;
  return shareStrings({
    ...rest,
    v: JOURNEY_SCHEMA_VERSION,
    // Fields added within version 1 (absent in older changelog records) start empty.
    lastComplaintAt: old.lastComplaintAt ?? null,
    followUps: old.followUps ?? [],
    erasedAt: old.erasedAt ?? null,
    purchaseDays: null,
    acquisitionChannel: null,
    categories: NO_CATEGORIES,
    recentDecisions: recentDecisions.map(({ decisionId, channel: _channel, ...d }) => ({ id: decisionFingerprint(decisionId), ...d })),
    seenEvents,
    seenEventsAt: seenEvents.map(() => clock),
  });
}
